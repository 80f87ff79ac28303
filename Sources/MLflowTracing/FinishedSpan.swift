import Tracing

/// An ended span as the exporter receives it: an immutable value, already truncated.
struct FinishedSpan: Sendable {
    var traceID: TraceID
    var spanID: SpanID
    var parentSpanID: SpanID?
    var name: String
    var kind: SpanKind
    var startNanos: UInt64
    var endNanos: UInt64
    var attributes: SpanAttributes
    var events: [SpanEvent]
    var links: [SpanLink]
    var status: SpanStatus?

    var isRoot: Bool { parentSpanID == nil }
}

/// Where ended spans go. `submit` is called on the run's path: it must not block or do I/O.
protocol SpanSink: Sendable {
    func submit(_ span: FinishedSpan)
}
