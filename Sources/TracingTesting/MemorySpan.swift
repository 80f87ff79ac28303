import RunTracing
import Synchronization
import Tracing

/// A span of a ``MemoryTracer``: records what the code under test sets and hands itself to the
/// tracer's list when it ends. Changes after the end are ignored.
public final class MemorySpan: RunSpan, Sendable {
    struct IDs: Sendable {
        var trace: TraceID
        var span: SpanID
    }

    struct State {
        var record: MemoryTracer.Recorded
        var ended = false
    }

    private let ids: IDs
    private let tracer: MemoryTracer
    private let state: Mutex<State>
    /// The context to run the span's work in; spans started in it become this span's children.
    public let context: ServiceContext
    /// When the span started, in nanoseconds since the epoch.
    public let startNanosecondsSinceEpoch: UInt64

    init(name: String, ids: IDs, parent: SpanID?, context: ServiceContext, startNanos: UInt64, tracer: MemoryTracer) {
        self.ids = ids
        self.tracer = tracer
        var context = context
        context.memorySpanIDs = ids
        self.context = context
        self.startNanosecondsSinceEpoch = startNanos
        self.state = Mutex(
            State(
                record: MemoryTracer.Recorded(
                    traceID: ids.trace.hex, spanID: ids.span.hex, parentSpanID: parent?.hex, name: name,
                    startNanos: startNanos, endNanos: startNanos, spanType: nil, inputs: nil, outputs: nil,
                    traceTags: [:], attributes: [:], events: [], status: nil)))
    }

    /// The trace this span belongs to.
    public var traceID: TraceID? { ids.trace }
    /// The span's own id.
    public var spanID: SpanID? { ids.span }
    /// The tracer's size limits.
    public var limits: TruncationLimits { tracer.limits }

    private func change(_ body: (inout MemoryTracer.Recorded) -> Void) {
        state.withLock { if !$0.ended { body(&$0.record) } }
    }

    /// The span's name; changes after the end are ignored.
    public var operationName: String {
        get { state.withLock { $0.record.name } }
        set { change { $0.name = newValue } }
    }

    /// The span's plain attributes (not its type, inputs, outputs or trace tags).
    public var attributes: SpanAttributes {
        get { state.withLock { $0.record.attributes } }
        set { change { $0.attributes = newValue } }
    }

    /// True until the span ends.
    public var isRecording: Bool { state.withLock { !$0.ended } }

    /// Sets one attribute; a string is cut to the string limit.
    public func setAttribute(_ key: String, _ value: SpanAttribute) {
        var value = value
        if case .string(let s) = value { value = .string(Truncation.truncate(s, maxBytes: limits.string)) }
        change { $0.attributes[key] = value }
    }

    /// Sets a string attribute cut to `maxBytes`.
    public func setAttribute(_ key: String, truncating value: String, maxBytes: Int) {
        let cut = Truncation.truncate(value, maxBytes: maxBytes)
        change { $0.attributes[key] = SpanAttribute.string(cut) }
    }

    /// Records the span's type.
    public func setSpanType(_ type: SpanType) { change { $0.spanType = type.rawValue } }

    /// Records the inputs, cut to the inputs/outputs limit.
    public func setInputs(json: String) {
        let cut = Truncation.truncate(json, maxBytes: limits.inputsOutputs)
        change { $0.inputs = cut }
    }

    /// Records the outputs, cut to the inputs/outputs limit.
    public func setOutputs(json: String) {
        let cut = Truncation.truncate(json, maxBytes: limits.inputsOutputs)
        change { $0.outputs = cut }
    }

    /// Records a trace tag.
    public func setTraceTag(_ key: String, _ value: String) { change { $0.traceTags[key] = value } }

    /// Sets the status; an ERROR stays unless replaced by another ERROR with a message.
    public func setStatus(_ status: SpanStatus) {
        change { record in
            if SpanFailure.replaces(record.status, with: status) { record.status = status }
        }
    }

    /// Adds an event.
    public func addEvent(_ event: SpanEvent) { change { $0.events.append(event) } }

    /// Records a failure as the MLflow tracer does: status ERROR with `"<Type>: <message>"` and an
    /// `exception` event.
    public func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {
        let (event, status) = SpanFailure.record(error, attributes: attributes, at: instant(), maxBytes: limits.string)
        change { record in
            record.events.append(event)
            record.status = status
        }
    }

    /// Links are not recorded.
    public func addLink(_ link: SpanLink) {}

    /// Ends the span and records it; only the first end counts.
    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        finish(at: instant().nanosecondsSinceEpoch)
    }

    func finish(at endNanos: UInt64) {
        let ended: MemoryTracer.Recorded? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            state.record.endNanos = max(endNanos, state.record.startNanos)
            return state.record
        }
        if let ended { tracer.recorded.withLock { $0.append(ended) } }
    }
}

enum MemorySpanKey: ServiceContextKey {
    typealias Value = MemorySpan.IDs
}

extension ServiceContext {
    var memorySpanIDs: MemorySpan.IDs? {
        get { self[MemorySpanKey.self] }
        set { self[MemorySpanKey.self] = newValue }
    }
}
