import RunTracing
import Tracing

/// Encodes spans as OTLP/HTTP JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding):
/// ids as lowercase hex, times as decimal strings of nanoseconds, enums as integers, attributes as
/// `{"key", "value": {"stringValue" | "intValue" | "doubleValue" | "boolValue" | "arrayValue"}}`.
/// Written by hand into a byte buffer: it runs for every span, off the run's path but on the
/// exporter's.
enum OTLPJSON {
    /// One span object, `{"traceId":…}`.
    static func encode(_ span: FinishedSpan) -> [UInt8] {
        var w = Writer()
        w.bytes.reserveCapacity(512)
        w.raw("{\"traceId\":\"")
        w.hex(span.traceID.high)
        w.hex(span.traceID.low)
        w.raw("\",\"spanId\":\"")
        w.hex(span.spanID.value)
        if let parent = span.parentSpanID {
            w.raw("\",\"parentSpanId\":\"")
            w.hex(parent.value)
        }
        w.raw("\",\"name\":")
        w.string(span.name)
        w.raw(",\"kind\":")
        w.decimal(UInt64(kindNumber(span.kind)))
        w.raw(",\"startTimeUnixNano\":\"")
        w.decimal(span.startNanos)
        w.raw("\",\"endTimeUnixNano\":\"")
        w.decimal(span.endNanos)
        w.raw("\",\"attributes\":")
        w.attributes(span.attributes.entries)
        if !span.events.isEmpty {
            w.raw(",\"events\":[")
            for (i, event) in span.events.enumerated() {
                if i > 0 { w.raw(",") }
                w.raw("{\"timeUnixNano\":\"")
                w.decimal(event.nanosecondsSinceEpoch)
                w.raw("\",\"name\":")
                w.string(event.name)
                w.raw(",\"attributes\":")
                w.attributes(event.attributes)
                w.raw("}")
            }
            w.raw("]")
        }
        if !span.links.isEmpty {
            let links = span.links.compactMap { link in link.context.mlflowSpanContext.map { ($0, link.attributes) } }
            w.raw(",\"links\":[")
            for (i, (context, attributes)) in links.enumerated() {
                if i > 0 { w.raw(",") }
                w.raw("{\"traceId\":\"\(context.traceID.hex)\",\"spanId\":\"\(context.spanID.hex)\",\"attributes\":")
                w.attributes(attributes)
                w.raw("}")
            }
            w.raw("]")
        }
        let status = span.status ?? SpanStatus(code: .ok)
        w.raw(",\"status\":{\"code\":")
        w.raw(status.code == .error ? "2" : "1")
        if let message = status.message, !message.isEmpty {
            w.raw(",\"message\":")
            w.string(message)
        }
        w.raw("}}")
        return w.bytes
    }

    /// A whole `ExportTraceServiceRequest` around already encoded spans.
    static func request(spans: [[UInt8]], serviceName: String) -> [UInt8] {
        var w = Writer()
        w.bytes.reserveCapacity(spans.reduce(256) { $0 + $1.count + 1 })
        w.raw(
            "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":")
        w.string(serviceName)
        w.raw("}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"schedulerd\"},\"spans\":[")
        for (i, span) in spans.enumerated() {
            if i > 0 { w.bytes.append(UInt8(ascii: ",")) }
            w.bytes.append(contentsOf: span)
        }
        w.raw("]}]}]}")
        return w.bytes
    }

    static func kindNumber(_ kind: SpanKind) -> Int {
        switch kind {
        case .internal: 1
        case .server: 2
        case .client: 3
        case .producer: 4
        case .consumer: 5
        }
    }

    struct Writer {
        var bytes: [UInt8] = []

        mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

        /// Writes the 16 lowercase hex digits of `v`.
        mutating func hex(_ v: UInt64) {
            for shift in stride(from: 60, through: 0, by: -4) {
                bytes.append(Hex.digits[Int((v >> UInt64(shift)) & 0xF)])
            }
        }

        mutating func string(_ s: String) {
            bytes.append(UInt8(ascii: "\""))
            // Most strings need no escape: append them whole, byte by byte only when one does.
            let plain = s.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
                guard !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
                else { return false }
                bytes.append(contentsOf: utf8)
                return true
            }
            if plain == true {
                bytes.append(UInt8(ascii: "\""))
                return
            }
            for b in s.utf8 {
                switch b {
                case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0..<0x20:
                    bytes.append(contentsOf: Array("\\u00".utf8))
                    bytes.append(Hex.digits[Int(b >> 4)])
                    bytes.append(Hex.digits[Int(b & 0xF)])
                default: bytes.append(b)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }

        mutating func attributes(_ attributes: SpanAttributes) {
            self.attributes(SpanAttributeList(attributes).entries)
        }

        mutating func attributes(_ entries: [(key: String, value: SpanAttributeList.Value)]) {
            bytes.append(UInt8(ascii: "["))
            for (i, (key, value)) in entries.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                raw("{\"key\":")
                string(key)
                raw(",\"value\":")
                switch value {
                case .string(let s):
                    raw("{\"stringValue\":")
                    string(s)
                    raw("}")
                case .int64(let v):
                    raw("{\"intValue\":\"")
                    decimal(v)
                    raw("\"}")
                case .other(let boxed): self.value(boxed.attribute)
                default: self.value(value.attribute)
                }
                raw("}")
            }
            bytes.append(UInt8(ascii: "]"))
        }

        /// Writes `v` in decimal digits, without making a `String` of it.
        mutating func decimal(_ v: Int64) {
            if v < 0 { bytes.append(UInt8(ascii: "-")) }
            decimal(v.magnitude)
        }

        /// Writes `v` in decimal digits, without making a `String` of it.
        mutating func decimal(_ v: UInt64) {
            var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for UInt64.max's 20 digits
            var count = 0
            withUnsafeMutableBytes(of: &digits) { buffer in
                var rest = v
                repeat {
                    buffer[23 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                    count += 1
                } while rest > 0
                bytes.append(contentsOf: buffer[(24 - count)...])
            }
        }

        mutating func value(_ attribute: SpanAttribute) {
            switch attribute {
            case .int32(let v): raw("{\"intValue\":\"\(v)\"}")
            case .int64(let v): raw("{\"intValue\":\"\(v)\"}")
            case .double(let v) where v.isFinite: raw("{\"doubleValue\":\(v)}")
            case .double(let v): raw("{\"stringValue\":\"\(v)\"}")
            case .bool(let v): raw("{\"boolValue\":\(v)}")
            case .string(let s):
                raw("{\"stringValue\":")
                string(s)
                raw("}")
            case .stringConvertible(let c):
                raw("{\"stringValue\":")
                string(String(describing: c))
                raw("}")
            case .int32Array(let a): array(a.map { .int32($0) })
            case .int64Array(let a): array(a.map { .int64($0) })
            case .doubleArray(let a): array(a.map { .double($0) })
            case .boolArray(let a): array(a.map { .bool($0) })
            case .stringArray(let a): array(a.map { .string($0) })
            case .stringConvertibleArray(let a): array(a.map { .string(String(describing: $0)) })
            default: raw("{\"stringValue\":\"\"}")
            }
        }

        mutating func array(_ values: [SpanAttribute]) {
            raw("{\"arrayValue\":{\"values\":[")
            for (i, v) in values.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                value(v)
            }
            raw("]}}")
        }
    }
}
