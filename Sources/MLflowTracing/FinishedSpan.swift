import RunTracing
import Tracing

/// An ended span as the exporter (or a test recorder) reads it: an immutable value, already truncated.
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
///
/// Values are held as ``Value``, whose common cases (string, 64-bit integer, double, boolean) copy
/// with a retain at most; `SpanAttribute` itself can hold an existential, so every copy of one goes
/// through the runtime's value witnesses, which cost more than the rest of setting an attribute.
@usableFromInline
struct SpanAttributeList: Sendable {
    /// An attribute's value, in the form cheapest to copy.
    @usableFromInline
    enum Value: Sendable {
        case string(String)
        case int64(Int64)
        case double(Double)
        case bool(Bool)
        /// Any other kind (32-bit integers, arrays, string-convertible values), boxed.
        case other(Boxed)

        /// Inlined at the caller, so that an attribute whose kind is known there (a literal
        /// `.string(…)`, `.int64(…)`) is converted without the runtime's help.
        @inlinable
        init(_ attribute: SpanAttribute) {
            switch attribute {
            case .string(let s): self = .string(s)
            case .int64(let v): self = .int64(v)
            case .double(let v): self = .double(v)
            case .bool(let v): self = .bool(v)
            default: self = .other(Boxed(attribute))
            }
        }

        /// The value as swift-distributed-tracing spells it.
        var attribute: SpanAttribute {
            switch self {
            case .string(let s): .string(s)
            case .int64(let v): .int64(v)
            case .double(let v): .double(v)
            case .bool(let v): .bool(v)
            case .other(let boxed): boxed.attribute
            }
        }
    }

    /// A `SpanAttribute` behind a reference, so that ``Value`` stays cheap to copy.
    @usableFromInline
    final class Boxed: Sendable {
        let attribute: SpanAttribute
        @usableFromInline init(_ attribute: SpanAttribute) { self.attribute = attribute }
    }

    private(set) var entries: [(key: String, value: Value)] = []

    init() {}

    init(_ attributes: SpanAttributes) {
        attributes.forEach { key, value in entries.append((key, Value(value))) }
    }

    /// Sets `key` to `value`, in place when the key is already there.
    mutating func set(_ key: String, _ value: Value) {
        if let i = index(of: key) {
            entries[i].value = value
        } else {
            if entries.isEmpty { entries.reserveCapacity(8) }
            entries.append((key, value))
        }
    }

    /// The attribute set for `key`, if any.
    subscript(key: String) -> SpanAttribute? { index(of: key).map { entries[$0].value.attribute } }

    private func index(of key: String) -> Int? {
        let count = key.utf8.count
        // Comparing lengths first skips most string comparisons: a span's keys rarely share one.
        return entries.firstIndex { $0.key.utf8.count == count && $0.key == key }
    }

    var spanAttributes: SpanAttributes {
        var attributes = SpanAttributes()
        for (key, value) in entries { attributes[key] = value.attribute }
        return attributes
    }
}

/// Where ended spans go. `submit` is called on the run's path: it must not block or do I/O.
package protocol SpanSink: AnyObject, Sendable {
    /// Takes an ended span (``MLflowSpan/finished`` reads it); called on the run's path.
    func submit(_ span: MLflowSpan)
}
