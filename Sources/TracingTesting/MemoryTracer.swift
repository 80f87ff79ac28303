import RunTracing
import Synchronization
import Tracing

/// A ``RunTracer`` that keeps every ended span in memory, for tests of code that traces runs (the
/// workflow runner, the scheduler) without MLflow or any exporter. Spans nest through
/// `ServiceContext` as with every swift-distributed-tracing tracer, apply the same size limits as the
/// MLflow tracer, and keep the trace vocabulary (type, inputs, outputs, trace tags) apart from the
/// plain attributes, so a test reads what the code said rather than how one backend encodes it.
///
/// ```swift
/// let tracer = MemoryTracer()
/// let runner = WorkflowRunner(catalog: catalog, tracer: tracer, …)
/// let result = try await runner.run(request)
/// tracer.spans(inTrace: result.traceID ?? "").first { $0.name == "collect" }?.spanType  // "CHAIN"
/// ```
public final class MemoryTracer: RunTracer, Sendable {
    /// The spans this tracer starts.
    public typealias Span = MemorySpan

    /// An ended span, as recorded.
    public struct Recorded: Sendable {
        /// The trace's id, 32 hex digits (without MLflow's `tr-`).
        public var traceID: String
        /// The span's id, 16 hex digits.
        public var spanID: String
        /// The parent span's id, 16 hex digits; `nil` for a root span.
        public var parentSpanID: String?
        /// The span's name when it ended.
        public var name: String
        /// When the span started, in nanoseconds since the Unix epoch.
        public var startNanos: UInt64
        /// When the span ended, in nanoseconds since the Unix epoch (never before the start).
        public var endNanos: UInt64
        /// The span type set with `setSpanType`, as its string (`CHAIN`, `TOOL`); `nil` when never set.
        public var spanType: String?
        /// The JSON text set as the span's inputs, after the size limit; `nil` when never set.
        public var inputs: String?
        /// The JSON text set as the span's outputs, after the size limit; `nil` when never set.
        public var outputs: String?
        /// The trace tags set on the span.
        public var traceTags: [String: String]
        /// The span's other attributes.
        public var attributes: SpanAttributes
        /// The span's events, in the order they were added.
        public var events: [SpanEvent]
        /// `nil` for unset, else OK or ERROR with its message.
        public var status: SpanStatus?

        /// True when the span ended with an ERROR status.
        public var isError: Bool { status?.code == .error }

        /// The attribute `key` when it is a string; `nil` otherwise.
        public func string(_ key: String) -> String? {
            if case .string(let value)? = attributes[key]?.toSpanAttribute() { return value }
            return nil
        }

        /// The attribute `key` when it is a 64-bit integer; `nil` otherwise.
        public func int(_ key: String) -> Int64? {
            if case .int64(let value)? = attributes[key]?.toSpanAttribute() { return value }
            return nil
        }
    }

    /// The size limits every span applies, as the MLflow tracer's spans do.
    public let limits: TruncationLimits
    let recorded = Mutex<[Recorded]>([])

    /// A tracer that records, with the given size limits (the defaults unless a test checks a limit).
    public init(limits: TruncationLimits = TruncationLimits()) {
        self.limits = limits
    }

    /// Always true: this tracer records every span.
    public var isEnabled: Bool { true }

    /// Every span ended so far, in the order they ended.
    public var spans: [Recorded] { recorded.withLock { $0 } }

    /// The spans of one trace; `traceID` with or without MLflow's `tr-`.
    public func spans(inTrace traceID: String) -> [Recorded] {
        let hex = traceID.hasPrefix("tr-") ? String(traceID.dropFirst(3)) : traceID
        return spans.filter { $0.traceID == hex }
    }

    /// Starts a span: a child of the span in `context` when there is one, else the root of a new trace.
    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> MemorySpan {
        let parent = context().memorySpanIDs
        let ids = MemorySpan.IDs(trace: parent?.trace ?? .random(), span: .random())
        return MemorySpan(
            name: operationName, ids: ids, parent: parent?.span, context: context(),
            startNanos: instant().nanosecondsSinceEpoch, tracer: self)
    }

    /// Starts the root span of a trace under ids chosen beforehand.
    public func startRootSpan(_ name: String, traceID: TraceID, spanID: SpanID?, startNanos: UInt64?) -> MemorySpan {
        MemorySpan(
            name: name, ids: .init(trace: traceID, span: spanID ?? .random()), parent: nil, context: .topLevel,
            startNanos: startNanos ?? DefaultTracerClock.now.nanosecondsSinceEpoch, tracer: self)
    }

    /// Records the root span again, ended with the error, as a closed abandoned trace.
    public func closeAbandonedRoot(
        traceID: TraceID, spanID: SpanID, name: String, startNanos: UInt64, endNanos: UInt64, error: any Error,
        traceTags: [String: String]
    ) {
        let span = startRootSpan(name, traceID: traceID, spanID: spanID, startNanos: startNanos)
        span.setSpanType(.chain)
        for (key, value) in traceTags { span.setTraceTag(key, value) }
        span.recordError(error)
        span.finish(at: endNanos)
    }

    /// Records a span a script recorded, with its values cut to the limits as the MLflow tracer does.
    public func record(_ foreign: ForeignSpan) {
        let span = MemorySpan(
            name: foreign.name, ids: .init(trace: foreign.traceID, span: foreign.spanID),
            parent: foreign.parentSpanID, context: .topLevel, startNanos: foreign.startNanos, tracer: self)
        foreign.attributes.forEach { key, value in
            switch (key, value) {
            case ("mlflow.spanType", .string(let type)): span.setSpanType(SpanType(rawValue: type))
            case ("mlflow.spanInputs", .string(let json)): span.setInputs(json: json)
            case ("mlflow.spanOutputs", .string(let json)): span.setOutputs(json: json)
            default: span.setAttribute(key, value)
            }
        }
        for event in foreign.events { span.addEvent(event) }
        if let status = foreign.status { span.setStatus(status) }
        span.finish(at: foreign.endNanos)
    }

    /// Does nothing: spans are recorded when they end.
    public func forceFlush() {}

    /// Does nothing: this tracer never crosses a process.
    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {}

    /// Does nothing: this tracer never crosses a process.
    public func inject<Carrier, Inject: Injector>(
        _ context: ServiceContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {}
}
