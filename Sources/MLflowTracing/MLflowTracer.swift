import RunTracing
import Tracing

/// A `Tracer` (swift-distributed-tracing) whose spans become MLflow traces.
///
/// The current span travels in `ServiceContext`, a task-local, so nested `withSpan` calls make
/// children in the same trace and concurrent tasks never share one. Ended spans go to an exporter
/// (``TraceExporter``) without blocking; with tracing off, spans record nothing.
///
/// ```swift
/// let tracer = exporter.tracer
/// try await tracer.withSpan("energy_analysis") { root in
///     root.setSpanType(.chain)
///     root.setTraceTag("trigger", "cron")
///     try await tracer.withSpan("collect") { node in node.setInputs(state) }
/// }
/// ```
public struct MLflowTracer: RunTracer {
    /// The spans this tracer starts, with MLflow's span types, inputs and outputs.
    public typealias Span = MLflowSpan

    let sink: (any SpanSink)?
    /// Whether spans are recorded at all.
    public let isEnabled: Bool
    /// The size limits every span of this tracer applies to its strings; the defaults for ``disabled``.
    public let limits: TruncationLimits

    /// A tracer that hands ended spans to `sink` (the exporter, or a test's recorder).
    package init(sink: (any SpanSink)?, limits: TruncationLimits) {
        self.sink = sink
        self.isEnabled = sink != nil
        self.limits = limits
    }

    /// A tracer that records nothing.
    public static let disabled = MLflowTracer(sink: nil, limits: TruncationLimits())

    @usableFromInline static let disabledSpan = MLflowSpan(
        name: "", context: .topLevel, spanContext: nil, parentSpanID: nil, kind: .internal, startNanos: 0,
        limits: TruncationLimits(), sink: nil)

    /// Starts a span, what `withSpan` and `startSpan` of swift-distributed-tracing call. The span is a
    /// child of the span in `context` when there is one, else the root of a new trace with a random
    /// id. `function`, `file` and `line` are not recorded. A disabled tracer returns a shared span that
    /// records nothing.
    @inlinable
    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> MLflowSpan {
        guard isEnabled else { return Self.disabledSpan }
        return makeSpan(operationName, context: context(), kind: kind, startNanos: instant().nanosecondsSinceEpoch)
    }

    @usableFromInline
    func makeSpan(_ operationName: String, context: ServiceContext, kind: SpanKind, startNanos: UInt64) -> MLflowSpan {
        var context = context
        let parent = context.mlflowSpanContext
        let own = MLflowSpanContext(traceID: parent?.traceID ?? .random(), spanID: .random())
        context.mlflowSpanContext = own
        return MLflowSpan(
            name: operationName, context: context, spanContext: own, parentSpanID: parent?.spanID, kind: kind,
            startNanos: startNanos, limits: limits, sink: sink)
    }

    /// Does nothing: an ended span is already in the exporter's hands, which writes it to the spool and
    /// delivers it on its own. Stopping the ``TraceExporter`` gracefully is what saves what is pending.
    public func forceFlush() {}

    /// Starts the root span of a new trace whose id the caller chose beforehand (so that it can hand
    /// the id out before the work starts, as a webhook's 202 response does).
    /// - Parameters:
    ///   - spanID: the root span's id, when the caller stored it beforehand (to close the trace after a
    ///     crash); `nil`: a new random one.
    ///   - startNanos: the root's start, when the caller chose it with `spanID`; `nil`: now.
    public func startRootSpan(
        _ name: String, traceID: TraceID, spanID: SpanID? = nil, startNanos: UInt64? = nil
    ) -> MLflowSpan {
        guard isEnabled else { return Self.disabledSpan }
        let own = MLflowSpanContext(traceID: traceID, spanID: spanID ?? .random())
        var context = ServiceContext.topLevel
        context.mlflowSpanContext = own
        return MLflowSpan(
            name: name, context: context, spanContext: own, parentSpanID: nil, kind: .internal,
            startNanos: startNanos ?? DefaultTracerClock.now.nanosecondsSinceEpoch, limits: limits, sink: sink)
    }

    /// Closes a trace whose root span an earlier process started but never ended (it was killed): sends
    /// the root again with its stored ids and start, ending now with ERROR and an `exception` event.
    /// MLflow replaces the span, so the trace turns from IN_PROGRESS to ERROR.
    /// - Parameters:
    ///   - traceTags: trace tags to set again (the re-sent root replaces the original one).
    public func closeAbandonedRoot(
        traceID: TraceID, spanID: SpanID, name: String, startNanos: UInt64, endNanos: UInt64, error: any Error,
        traceTags: [String: String]
    ) {
        guard isEnabled else { return }
        let own = MLflowSpanContext(traceID: traceID, spanID: spanID)
        var context = ServiceContext.topLevel
        context.mlflowSpanContext = own
        let span = MLflowSpan(
            name: name, context: context, spanContext: own, parentSpanID: nil, kind: .internal, startNanos: startNanos,
            limits: limits, sink: sink)
        span.setSpanType(.chain)
        for (key, value) in traceTags.sorted(by: { $0.key < $1.key }) { span.setTraceTag(key, value) }
        span.recordError(error)
        span.finish(at: max(endNanos, startNanos))
    }

    // MARK: W3C trace context (traceparent), so a trace can continue across processes.

    /// Reads a W3C `traceparent` header (version `00`) from `carrier` into `context`, so spans started
    /// with that context continue the sender's trace as children of its span. A missing or malformed
    /// header leaves `context` as it was; the trace flags and `tracestate` are ignored.
    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let header = extractor.extract(key: "traceparent", from: carrier) else { return }
        let parts = header.split(separator: "-")
        guard parts.count == 4, parts[0] == "00", let trace = TraceID(hex: parts[1]), let span = SpanID(hex: parts[2])
        else { return }
        context.mlflowSpanContext = MLflowSpanContext(traceID: trace, spanID: span)
    }

    /// Writes the context's span into `carrier` as a W3C `traceparent` header, always marked sampled
    /// (`00-<trace>-<span>-01`); writes nothing when the context holds no MLflow span.
    public func inject<Carrier, Inject: Injector>(
        _ context: ServiceContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let span = context.mlflowSpanContext else { return }
        injector.inject("00-\(span.traceID.hex)-\(span.spanID.hex)-01", forKey: "traceparent", into: &carrier)
    }
}
