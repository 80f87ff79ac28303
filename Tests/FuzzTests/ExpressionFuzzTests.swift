import Foundation
import SchedulerTesting
import Testing
import Workflows

/// Route conditions and templates come from workflow files and are evaluated over states that hold
/// what webhook senders posted; JSON comes from senders, scripts and the API. None may trap.
@Suite("fuzz: conditions, templates and JSON")
struct ExpressionFuzzTests {
    /// A state with every kind of value, numbers at their limits among them.
    static let state: JSONValue = [
        "a": ["b": 1, "c": [1, 2, 3], "d": "text"], "n": .integer(.max), "m": .integer(.min), "x": 1e308,
        "y": -1e308, "s": "ü\u{0}", "list": ["eu", "us", .null, true], "deep": [[[["x": 1]]]], "empty": [:],
        "z": 0, "t": true, "f": false,
    ]

    @Test("conditions: parse and evaluate, or a parse or evaluation error")
    func conditions() async throws {
        var mutator = Mutator(
            salt: 5,
            corpus: [
                "approved and risk != 'high'", "score >= 0.8 or not exists(review.notes)",
                "region in ['eu', 'us'] and 'urgent' in labels", "a.c[2] == 3", "n > m", "x < y", "(t or f) and not z",
                "list[99999999999999999999] == null", "a.c[-1] != 1", "s in 'ü'",
            ],
            dictionary: [
                " and ", " or ", "not ", "==", "!=", "<", "<=", ">", ">=", " in ", " not in ", "(", ")", "[", "]", ".",
                "exists(", "'", "\"", "a.b", "n", "m", "x", "deep[0][0][0][0].x", "list", "9223372036854775807",
                "-9223372036854775808", "1e400", "[0]", "[-1]", "[9223372036854775808]",
                String(repeating: "(", count: 5000),
                String(repeating: "not ", count: 5000), String(repeating: "a.", count: 5000),
            ])
        try await fuzz("conditions", make: { mutator.next() }) { text in
            guard let condition = try? Condition(text) else { return nil }
            _ = try? condition.evaluate(Self.state)
            return nil
        }
    }

    @Test("templates: parse and render, or a parse error")
    func templates() async throws {
        var mutator = Mutator(
            salt: 6,
            corpus: [
                "{{ a.b }}", "Report for {{ a.d }} and {{ list[1] }}", "{{ n }}", "{{deep[0][0][0][0].x}}", "plain",
            ],
            dictionary: [
                "{{", "}}", "{{ ", " }}", ".", "[", "]", "a", "[99999999999999999999]", "[-1]", "n", "x",
                String(repeating: "{{", count: 3000), String(repeating: "[0]", count: 3000),
            ])
        try await fuzz("templates", make: { mutator.next() }) { text in
            guard let template = try? Template(.string(text)) else { return nil }
            _ = template.render(Self.state)
            _ = try? Template(["k": .string(text), "l": [.string(text)]]).render(Self.state)
            return nil
        }
    }

    @Test("JSON: bodies parse or are refused with an offset inside the input")
    func json() async throws {
        var mutator = Mutator(
            salt: 7,
            corpus: [
                #"{"a": 1, "b": [true, false, null], "c": "\u00fc\ud83d\ude00"}"#,
                "[1e308, -1e308, 9223372036854775807]",
                #"{"message": "hi", "n": -9223372036854775808}"#, "0", #""x""#,
            ],
            dictionary: [
                "{", "}", "[", "]", ",", ":", "\"", "\\u", "\\ud800", "\\udc00", "\\", "1e999999999", "-", "0.",
                String(repeating: "[", count: 100_000), String(repeating: "{\"a\":", count: 20_000),
            ])
        try await fuzz("json", make: { mutator.next() }) { text in
            do {
                let value = try JSONValue(json: Data(text.utf8))
                // What was read writes out and reads back the same.
                // (Compared as text: a number like -1e-0 writes as -1 and reads back as an integer.)
                let again = try JSONValue(json: Data(value.jsonText.utf8))
                return again.jsonText == value.jsonText ? nil : "does not read back: \(value.jsonText.prefix(200))"
            } catch let error as WorkflowError {
                guard error.code == .invalidJSON || error.code == .jsonTooDeep else { return "code \(error.code)" }
                guard let offset = error.offset else { return "no offset" }
                return (0...text.utf8.count).contains(offset) ? nil : "offset \(offset) outside the input"
            }
        }
    }

    @Test("nesting past the limit is refused, not a stack overflow")
    func deepNesting() throws {
        for text in [String(repeating: "[", count: 1_000_000), String(repeating: "{\"a\":", count: 200_000)] {
            let error = #expect(throws: WorkflowError.self) { try JSONValue(json: Data(text.utf8)) }
            #expect(error?.code == .jsonTooDeep)
        }
        for text in [
            String(repeating: "(", count: 200_000) + "t", String(repeating: "not ", count: 200_000) + "t",
            String(repeating: "(", count: 65) + "t" + String(repeating: ")", count: 65),
            String(repeating: "[", count: 65) + "1" + String(repeating: "]", count: 65),
            String(repeating: "t and ", count: 1000) + "t",
        ] {
            let error = #expect(throws: WorkflowError.self) { try Condition(text) }
            #expect(error?.code == .invalidCondition)
        }
        // Up to the limits, a condition parses and evaluates.
        let deep = String(repeating: "(", count: 64) + "t" + String(repeating: ")", count: 64)
        #expect(try Condition(deep).evaluate(Self.state))
        let chain = String(repeating: "t and ", count: 680) + "t"
        #expect(try Condition(chain).evaluate(Self.state))
    }

    @Test("a needle with NUL in a string with non-ASCII (Foundation's contains trapped on it)")
    func nulNeedle() throws {
        #expect(try Condition("s in 'ü'").evaluate(Self.state) == false)
        #expect(try Condition("'ü' in s").evaluate(Self.state))
    }
}
