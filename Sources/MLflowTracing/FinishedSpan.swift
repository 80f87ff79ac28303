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
    var attributes: SpanAttributeList
    var events: [SpanEvent]
    var links: [SpanLink]
    var status: SpanStatus?

    var isRoot: Bool { parentSpanID == nil }
}

/// A span's attributes in the order they were first set: an array, cheaper than a dictionary for the
/// handful of attributes a span carries.
struct SpanAttributeList: Sendable {
    private(set) var entries: [(key: String, value: SpanAttribute)] = []

    init() {}

    init(_ attributes: SpanAttributes) {
        attributes.forEach { key, value in entries.append((key, value)) }
    }

    subscript(key: String) -> SpanAttribute? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                if entries.isEmpty { entries.reserveCapacity(8) }
                entries.append((key, newValue))
            }
        }
    }

    var spanAttributes: SpanAttributes {
        var attributes = SpanAttributes()
        for (key, value) in entries { attributes[key] = value }
        return attributes
    }
}

/// Where ended spans go. `submit` is called on the run's path: it must not block or do I/O.
protocol SpanSink: Sendable {
    func submit(_ span: FinishedSpan)
}
