import Foundation
import RunTracing
import Tracing

/// The spans a script recorded in `$SCHEDULERD_SPANS_FILE`: JSON lines, each an OTLP `TracesData`
/// in OTLP's JSON encoding (as OpenTelemetry's file exporter writes it), read after the script ended.
///
/// Only spans of the run's trace whose parent is the execution's TOOL span, or another accepted span
/// of the file, are kept, parents before children, up to a number; a line that is not such JSON, and
/// a span that is malformed, of another trace, a duplicate or an orphan, is counted as rejected; spans
/// past the number as dropped. Nothing in the file can fail the node.
struct ScriptSpans {
    /// The spans kept, each a child of the TOOL span or of another kept span.
    var accepted: [ForeignSpan] = []
    /// Lines and spans that could not be taken.
    var rejected = 0
    /// Good spans past the limit.
    var dropped = 0

    /// The most spans one execution may add to a trace.
    static let maximumSpans = 10_000
    /// How much of the file is read; a longer file's cut last line counts as rejected.
    static let maximumBytes = 64 << 20
    /// The environment variable naming the file, and the file's name in the execution folder.
    static let variable = "SCHEDULERD_SPANS_FILE"
    static let fileName = "spans.jsonl"

    /// Reads `data` on a thread of its own: a file of tens of megabytes takes a while to parse, and
    /// must not hold one of the few threads that every run's tasks share.
    static func read(_ data: Data, trace: TraceID, parent: SpanID) async -> ScriptSpans {
        await withCheckedContinuation { continuation in
            DispatchQueue(label: "schedulerd.script-spans").async {
                continuation.resume(returning: ScriptSpans(data, trace: trace, parent: parent))
            }
        }
    }

    /// Reads `data` for spans of `trace` under `parent`.
    init(_ data: Data, trace: TraceID, parent: SpanID, maximum: Int = ScriptSpans.maximumSpans) {
        var candidates: [ForeignSpan] = []
        var seen: Set<SpanID> = [parent]
        for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            guard let value = try? JSONValue(json: Data(line)), let resources = value["resourceSpans"]?.arrayValue
            else {
                if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { rejected += 1 }
                continue
            }
            for resource in resources {
                for scope in resource["scopeSpans"]?.arrayValue ?? [] {
                    for item in scope["spans"]?.arrayValue ?? [] {
                        guard let span = Self.span(item), span.traceID == trace, !seen.contains(span.spanID) else {
                            rejected += 1
                            continue
                        }
                        seen.insert(span.spanID)
                        candidates.append(span)
                    }
                }
            }
        }
        // Parents before children, starting under the TOOL span; what no chain reaches is an orphan.
        var children: [SpanID: [ForeignSpan]] = [:]
        for span in candidates { children[span.parentSpanID, default: []].append(span) }
        var queue = [parent]
        var index = 0
        while index < queue.count {
            for child in children[queue[index]] ?? [] {
                if accepted.count < maximum {
                    accepted.append(child)
                    queue.append(child.spanID)
                } else {
                    dropped += 1
                }
            }
            index += 1
        }
        let reached = accepted.count + dropped
        rejected += candidates.count - reached
    }

    /// One OTLP span; `nil` when an id, the name or a time is missing or malformed.
    static func span(_ item: JSONValue) -> ForeignSpan? {
        guard let trace = item["traceId"]?.stringValue.flatMap({ TraceID(hex: $0) }),
            let id = item["spanId"]?.stringValue.flatMap({ SpanID(hex: $0) }),
            let parent = item["parentSpanId"]?.stringValue.flatMap({ SpanID(hex: $0) }),
            let name = item["name"]?.stringValue, !name.isEmpty,
            let start = nanos(item["startTimeUnixNano"]), let end = nanos(item["endTimeUnixNano"])
        else { return nil }
        var span = ForeignSpan(
            traceID: trace, spanID: id, parentSpanID: parent, name: String(name.prefix(256)), kind: kind(item["kind"]),
            startNanos: start, endNanos: end, attributes: attributes(item["attributes"]))
        for event in item["events"]?.arrayValue ?? [] {
            guard let name = event["name"]?.stringValue, let time = nanos(event["timeUnixNano"]) else { continue }
            span.events.append(
                SpanEvent(name: name, at: Instant(nanos: time), attributes: attributes(event["attributes"])))
        }
        if let status = item["status"] {
            let message = status["message"]?.stringValue
            switch status["code"] {
            case .integer(2)?, .string("STATUS_CODE_ERROR")?: span.status = SpanStatus(code: .error, message: message)
            case .integer(1)?, .string("STATUS_CODE_OK")?: span.status = SpanStatus(code: .ok)
            default: break
            }
        }
        return span
    }

    /// A time in nanoseconds, written as a string (as OTLP JSON does) or a number.
    static func nanos(_ value: JSONValue?) -> UInt64? {
        switch value {
        case .string(let text)?: return UInt64(text)
        case .integer(let n)? where n >= 0: return UInt64(n)
        default: return nil
        }
    }

    static func kind(_ value: JSONValue?) -> SpanKind {
        switch value {
        case .integer(2)?, .string("SPAN_KIND_SERVER")?: .server
        case .integer(3)?, .string("SPAN_KIND_CLIENT")?: .client
        case .integer(4)?, .string("SPAN_KIND_PRODUCER")?: .producer
        case .integer(5)?, .string("SPAN_KIND_CONSUMER")?: .consumer
        default: .internal
        }
    }

    /// OTLP key-value attributes; values of other shapes (bytes, nested lists) are kept as their JSON.
    static func attributes(_ value: JSONValue?) -> SpanAttributes {
        var result = SpanAttributes()
        for entry in value?.arrayValue?.prefix(128) ?? [] {
            guard let key = entry["key"]?.stringValue, !key.isEmpty, let any = entry["value"] else { continue }
            result[key] = attribute(any)
        }
        return result
    }

    static func attribute(_ any: JSONValue) -> SpanAttribute {
        if let text = any["stringValue"]?.stringValue { return .string(text) }
        if let flag = any["boolValue"], case .bool(let b) = flag { return .bool(b) }
        if let number = any["intValue"] {
            if case .integer(let n) = number { return .int64(n) }
            if let text = number.stringValue, let n = Int64(text) { return .int64(n) }
        }
        if let number = any["doubleValue"]?.doubleValue { return .double(number) }
        if let values = any["arrayValue"]?["values"]?.arrayValue {
            let strings = values.compactMap { $0["stringValue"]?.stringValue }
            if strings.count == values.count { return .stringArray(strings) }
        }
        return .string(any.jsonText)
    }

    /// A point in time for a span event.
    struct Instant: TracerInstant {
        var nanosecondsSinceEpoch: UInt64
        init(nanos: UInt64) { self.nanosecondsSinceEpoch = nanos }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch }
    }
}
