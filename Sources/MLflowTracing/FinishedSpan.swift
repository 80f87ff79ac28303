import RunTracing
import Tracing

/// An ended span as the exporter (or a test recorder) receives it: an immutable value, already truncated.
package struct FinishedSpan: Sendable {
    package var traceID: TraceID
    package var spanID: SpanID
    package var parentSpanID: SpanID?
    package var name: String
    var kind: SpanKind
    package var startNanos: UInt64
    package var endNanos: UInt64
    var attributes: SpanAttributeList
    package var events: [SpanEvent]
    var links: [SpanLink]
    package var status: SpanStatus?

    /// The attributes by key.
    package var attributeMap: SpanAttributes { attributes.spanAttributes }

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
package protocol SpanSink: Sendable {
    /// Takes an ended span; called on the run's path.
    func submit(_ span: FinishedSpan)
}
