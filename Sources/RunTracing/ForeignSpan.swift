import Tracing

/// A span that ended outside this process and joins one of its traces: a span a sandboxed script
/// recorded in its spans file, under the TOOL span of its execution. ``RunTracer/record(_:)`` sends it
/// with the trace, applying the tracer's size limits to its values.
public struct ForeignSpan: Sendable {
    /// The trace it belongs to; the script was given it in `TRACEPARENT`.
    public var traceID: TraceID
    /// Its own id, as the script chose it.
    public var spanID: SpanID
    /// Its parent: the execution's TOOL span, or another span of the same file.
    public var parentSpanID: SpanID
    /// Its name.
    public var name: String
    /// Its OpenTelemetry kind.
    public var kind: SpanKind
    /// Its start, in nanoseconds since the epoch.
    public var startNanos: UInt64
    /// Its end, in nanoseconds since the epoch; an end before the start is taken as the start.
    public var endNanos: UInt64
    /// Its attributes, with the trace schema's keys where it uses them (`mlflow.spanType`,
    /// `mlflow.spanInputs`, `mlflow.spanOutputs`).
    public var attributes: SpanAttributes
    /// Its events, in order.
    public var events: [SpanEvent]
    /// Its status; `nil`: unset, exported as OK.
    public var status: SpanStatus?

    /// A span from its parts; the parameters are the properties of the same names.
    public init(
        traceID: TraceID, spanID: SpanID, parentSpanID: SpanID, name: String, kind: SpanKind = .internal,
        startNanos: UInt64, endNanos: UInt64, attributes: SpanAttributes = [:], events: [SpanEvent] = [],
        status: SpanStatus? = nil
    ) {
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.kind = kind
        self.startNanos = startNanos
        self.endNanos = endNanos
        self.attributes = attributes
        self.events = events
        self.status = status
    }
}
