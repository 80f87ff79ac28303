import RunTracing
import Synchronization
import Tracing

/// A span recorded for MLflow. Start one through ``MLflowTracer`` (usually with `withSpan`); set its
/// type, inputs, outputs and attributes; it is handed to the exporter when it ends.
///
/// Every operation takes a short lock and never waits for I/O, so spans cost microseconds on the
/// caller's path. A span from a disabled tracer records nothing and costs a few nanoseconds.
public final class MLflowSpan: Tracing.Span, Sendable {
    /// The context to run the span's work in: the one the span was started in, with
    /// `mlflowSpanContext` set to this span, so spans started inside become its children.
    /// `.topLevel` for a span that does not record.
    public let context: ServiceContext
    /// The span's own ids; `nil` for a span that does not record.
    public let spanContext: MLflowSpanContext?
    let parentSpanID: SpanID?
    let kind: SpanKind
    let startNanos: UInt64
    /// The size limits this span applies to its values.
    public let limits: TruncationLimits
    private let sink: (any SpanSink)?
    /// False for the spans of a disabled tracer: every method returns at once, inlined at the caller.
    @usableFromInline let records: Bool
    private let state: Mutex<State>

    struct State {
        var name: String
        var attributes = SpanAttributeList()
        var events: [SpanEvent] = []
        var links: [SpanLink] = []
        var status: SpanStatus?
        var ended = false
        var endNanos: UInt64 = 0
    }

    init(
        name: String, context: ServiceContext, spanContext: MLflowSpanContext?, parentSpanID: SpanID?, kind: SpanKind,
        startNanos: UInt64, limits: TruncationLimits, sink: (any SpanSink)?
    ) {
        self.context = context
        self.spanContext = spanContext
        self.parentSpanID = parentSpanID
        self.kind = kind
        self.startNanos = startNanos
        self.limits = limits
        self.sink = sink
        self.records = sink != nil
        self.state = Mutex(State(name: name))
    }

    /// The trace this span belongs to, if it records.
    public var traceID: TraceID? { spanContext?.traceID }

    /// The span's own id, if it records.
    public var spanID: SpanID? { spanContext?.spanID }

    /// When the span started, in nanoseconds since the epoch.
    public var startNanosecondsSinceEpoch: UInt64 { startNanos }

    /// True for the first span of a trace.
    public var isRoot: Bool { spanContext != nil && parentSpanID == nil }

    /// True from the start of a span of an enabled tracer until it ends; always false for the spans of a
    /// disabled tracer. Changes to a span that is not recording are ignored.
    public var isRecording: Bool { sink != nil && !state.withLock { $0.ended } }

    /// The span's name, which MLflow shows for it (the script file, the node id, `GET host/path`).
    /// It can be changed until the span ends; later changes, and any change to a span that does not
    /// record, are ignored.
    public var operationName: String {
        get { state.withLock { $0.name } }
        set {
            guard sink != nil else { return }
            state.withLock { if !$0.ended { $0.name = newValue } }
        }
    }

    /// All of the span's attributes, by key. Setting replaces them all, as given: the string limit
    /// that ``setAttribute(_:_:)`` applies is not applied. Ignored once the span has ended.
    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes.spanAttributes } }
        set {
            guard sink != nil else { return }
            state.withLock { if !$0.ended { $0.attributes = SpanAttributeList(newValue) } }
        }
    }

    /// Sets one attribute in place (cheaper than going through ``attributes``). Strings are cut to the
    /// string limit.
    @inlinable
    public func setAttribute(_ key: String, _ value: SpanAttribute) {
        if records { recordAttribute(key, SpanAttributeList.Value(value)) }
    }

    @usableFromInline
    func recordAttribute(_ key: String, _ value: SpanAttributeList.Value) {
        var value = value
        if case .string(let s) = value, s.utf8.count > limits.string {
            value = .string(Truncation.truncate(s, maxBytes: limits.string))
        }
        state.withLock { if !$0.ended { $0.attributes.set(key, value) } }
    }

    /// Sets a string attribute cut to `maxBytes` (for `stdout`/`stderr` with their own limits).
    @inlinable
    public func setAttribute(_ key: String, truncating value: String, maxBytes: Int) {
        if records { recordAttribute(key, truncating: value, maxBytes: maxBytes) }
    }

    @usableFromInline
    func recordAttribute(_ key: String, truncating value: String, maxBytes: Int) {
        let cut = Truncation.truncate(value, maxBytes: maxBytes)
        state.withLock { if !$0.ended { $0.attributes.set(key, .string(cut)) } }
    }

    /// Sets the status MLflow shows as the span's state; a span that ends without one is exported as OK.
    /// An error stays: a later OK, or an ERROR without a message, leaves it as it is, while an ERROR
    /// with a message replaces the earlier one. Ignored once the span has ended.
    public func setStatus(_ status: SpanStatus) {
        guard sink != nil else { return }
        state.withLock { state in
            guard !state.ended, SpanFailure.replaces(state.status, with: status) else { return }
            state.status = status
        }
    }

    /// Adds a timestamped event, exported in the order added with its attributes (not cut to any
    /// limit). Ignored once the span has ended. For a failure use ``recordError(_:attributes:at:)``.
    public func addEvent(_ event: SpanEvent) {
        guard sink != nil else { return }
        state.withLock { if !$0.ended { $0.events.append(event) } }
    }

    /// Records a failure as MLflow shows it: status ERROR with `"<Type>: <message>"` and an
    /// `exception` event carrying `exception.type`, `exception.message` (and `exception.stacktrace`
    /// when given in `attributes`).
    public func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {
        guard sink != nil else { return }
        let (event, status) = SpanFailure.record(
            error, attributes: attributes, at: instant(), maxBytes: limits.string)
        state.withLock { state in
            guard !state.ended else { return }
            state.events.append(event)
            state.status = status
        }
    }

    /// Links the span to another span, given by the link's context; a link whose context holds no
    /// MLflow span is left out of the export. Ignored once the span has ended.
    public func addLink(_ link: SpanLink) {
        guard sink != nil else { return }
        state.withLock { if !$0.ended { $0.links.append(link) } }
    }

    /// Ends the span at `instant` and hands it to the exporter without waiting. An end before the start
    /// is taken as the start. Only the first call counts; after it, the span ignores every change.
    @inlinable
    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        if records { finish(at: instant().nanosecondsSinceEpoch) }
    }

    /// Marks the span ended and hands the span itself to the sink: the caller's path copies nothing,
    /// the exporter reads the ended span (``finished``) on its own task.
    @usableFromInline
    func finish(at endNanos: UInt64) {
        guard let sink else { return }
        let first = state.withLock { state in
            guard !state.ended else { return false }
            state.ended = true
            state.endNanos = max(endNanos, startNanos)
            return true
        }
        if first { sink.submit(self) }
    }

    /// The span as the exporter encodes it, once it has ended; `nil` before, and for a span that does
    /// not record.
    package var finished: FinishedSpan? {
        guard let spanContext else { return nil }
        return state.withLock { state in
            guard state.ended else { return nil }
            return FinishedSpan(
                traceID: spanContext.traceID, spanID: spanContext.spanID, parentSpanID: parentSpanID, name: state.name,
                kind: kind, startNanos: startNanos, endNanos: state.endNanos, attributes: state.attributes,
                events: state.events, links: state.links, status: state.status)
        }
    }
}
