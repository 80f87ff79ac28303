import Foundation
import RunTracing
import Testing
import Tracing

@testable import MLflowTracing

@Suite("Truncation: UTF-8 safe, marked, never over the limit")
struct TruncationTests {
    @Test("1 MiB of multi-byte UTF-8 becomes a valid string of at most 4 KiB with the marker")
    func megabyte() {
        let unit = "héllo wörld ✓ 日本語 🚀 "  // 1, 2, 3 and 4-byte characters
        var text = ""
        while text.utf8.count < 1 << 20 { text += unit }
        let cut = Truncation.truncate(text, maxBytes: 4096)
        #expect(cut.utf8.count <= 4096)
        #expect(cut.utf8.count > 4000)
        #expect(String(validating: Array(cut.utf8), as: UTF8.self) != nil)
        guard let marker = cut.range(of: "…[truncated ") else {
            Issue.record("no truncation marker in \(cut.suffix(60))")
            return
        }
        let kept = cut.utf8.count - cut[marker.lowerBound...].utf8.count
        #expect(cut.hasSuffix("…[truncated \(text.utf8.count - kept) bytes]"))
        #expect(text.hasPrefix(String(cut[..<marker.lowerBound])))
    }

    @Test("a value that fits is unchanged", arguments: ["", "a", String(repeating: "é", count: 2048)])
    func fits(_ text: String) {
        #expect(Truncation.truncate(text, maxBytes: 4096) == text)
    }

    @Test(
        "every limit and every cut point stays valid and within the limit", arguments: [40, 41, 42, 43, 64, 100, 2048])
    func limits(_ limit: Int) {
        let text = String(repeating: "a€😀", count: 600)
        for drop in 0..<8 {
            let input = String(text.dropFirst(drop))
            let cut = Truncation.truncate(input, maxBytes: limit)
            #expect(cut.utf8.count <= limit)
            #expect(cut.hasSuffix(" bytes]"))
        }
    }

    @Test("a limit smaller than the marker still yields valid text within it")
    func tiny() {
        let cut = Truncation.truncate(String(repeating: "日", count: 100), maxBytes: 10)
        #expect(cut.utf8.count <= 10)
        #expect(cut == "日日日")
    }
}

@Suite("OTLP JSON encoding")
struct OTLPJSONTests {
    @Test("a span encodes to the OTLP/HTTP JSON shape MLflow accepts")
    func shape() throws {
        var attributes = SpanAttributes()
        attributes["mlflow.spanType"] = "TOOL"
        attributes["exit_code"] = 3
        attributes["timed_out"] = false
        attributes["ratio"] = 0.5
        attributes["quote"] = "say \"hi\"\n\t\u{1}"
        let span = FinishedSpan(
            traceID: TraceID(high: 0x0123_4567_89ab_cdef, low: 1), spanID: SpanID(0xabc), parentSpanID: SpanID(7),
            name: "collect.py", kind: .internal, startNanos: 1_700_000_000_000_000_000,
            endNanos: 1_700_000_000_500_000_000, attributes: SpanAttributeList(attributes),
            events: [SpanEvent(name: "exception", at: DefaultTracerClock.now, attributes: ["exception.type": "E"])],
            links: [], status: SpanStatus(code: .error, message: "E: boom"))
        let body = OTLPJSON.request(spans: [OTLPJSON.encode(span)], serviceName: "schedulerd")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let resourceSpans = try #require(object["resourceSpans"] as? [[String: Any]])
        let scope = try #require((resourceSpans[0]["scopeSpans"] as? [[String: Any]])?.first)
        let encoded = try #require((scope["spans"] as? [[String: Any]])?.first)
        #expect(encoded["traceId"] as? String == "0123456789abcdef0000000000000001")
        #expect(encoded["spanId"] as? String == "0000000000000abc")
        #expect(encoded["parentSpanId"] as? String == "0000000000000007")
        #expect(encoded["startTimeUnixNano"] as? String == "1700000000000000000")
        #expect(encoded["endTimeUnixNano"] as? String == "1700000000500000000")
        #expect((encoded["status"] as? [String: Any])?["code"] as? Int == 2)
        let attrs = try #require(encoded["attributes"] as? [[String: Any]])
        func value(_ key: String) -> [String: Any]? {
            attrs.first { $0["key"] as? String == key }?["value"] as? [String: Any]
        }
        #expect(value("mlflow.spanType")?["stringValue"] as? String == "TOOL")
        #expect(value("exit_code")?["intValue"] as? String == "3")
        #expect(value("timed_out")?["boolValue"] as? Bool == false)
        #expect(value("ratio")?["doubleValue"] as? Double == 0.5)
        #expect(value("quote")?["stringValue"] as? String == "say \"hi\"\n\t\u{1}")
        #expect((encoded["events"] as? [[String: Any]])?.first?["name"] as? String == "exception")
    }
}
