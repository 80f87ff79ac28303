import Foundation
import Testing
import Workflows

@Suite("JSON text")
struct JSONValueTests {
    @Test("strings are escaped exactly where JSON requires, keys sorted, and the text reads back the same")
    func escaping() throws {
        let value = JSONValue.object([
            "b": .string("quote \" backslash \\ newline \n tab \t return \r bell \u{07} nul \u{00}"),
            "a": .array([.integer(-3), .number(2.5), .bool(true), .null]),
            "ü": .string("ünïcödé 🌍 \u{2028}"),
        ])
        let text = value.jsonText
        #expect(
            text
                == #"{"a":[-3,2.5,true,null],"b":"quote \" backslash \\ newline \n tab \t return \r bell \u0007 nul \u0000","ü":"ünïcödé 🌍 \#u{2028}"}"#
        )
        #expect(try JSONValue(json: Data(text.utf8)) == value)
        #expect(JSONValue.string("").jsonText == #""""#)
        // A whole double is written as an integer.
        #expect(JSONValue.number(4).jsonText == "4")
        #expect(JSONValue.object([:]).jsonText == "{}")
    }
}

@Suite("JSON parsing")
struct JSONParserTests {
    @Test(
        "valid JSON reads as expected",
        arguments: [
            (
                #"{"a": [1, -2, 3.5, 1e3, true, false, null], "b": {"c": ""}}"#,
                JSONValue.object([
                    "a": .array([
                        .integer(1), .integer(-2), .number(3.5), .number(1000), .bool(true), .bool(false), .null,
                    ]),
                    "b": .object(["c": .string("")]),
                ])
            ),
            (
                #"  "esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83c\udf0d"  "#,
                .string("esc \" \\ / \u{08} \u{0C} \n \r \t é 🌍")
            ),
            ("9223372036854775807", .integer(Int64.max)),
            ("9223372036854775808", .number(9_223_372_036_854_775_808)),
            ("[]", .array([])),
            (#"{"k": 1, "k": 2}"#, .object(["k": .integer(2)])),
        ])
    func valid(text: String, expected: JSONValue) throws {
        #expect(try JSONValue(json: Data(text.utf8)) == expected)
    }

    @Test(
        "invalid JSON is refused with the place it went wrong",
        arguments: [
            ("", "unexpected end of input at byte 0"),
            ("[1,]", "unexpected character at byte 3"),
            ("01", "leading zero in a number at byte 2"),
            (#"{"a" 1}"#, "expected : at byte 5"),
            (#""\ud800""#, "lone surrogate in a \\u escape at byte 7"),
            ("\"a\u{01}\"", "control character in a string at byte 2"),
            ("{} x", "unexpected text after the value at byte 3"),
            ("tru", "expected true at byte 3"),
            ("1e999", "number out of range at byte 5"),
            (String(repeating: "[", count: 100_000), "nested deeper than 512 levels at byte 512"),
        ])
    func invalid(text: String, message: String) {
        let error = #expect(throws: WorkflowError.self) { try JSONValue(json: Data(text.utf8)) }
        #expect(error?.code == (message.hasPrefix("nested deeper") ? .jsonTooDeep : .invalidJSON))
        #expect(error.map { "\($0)" } == message)
    }

    @Test("invalid UTF-8 in a string is refused")
    func invalidUTF8() {
        let error = #expect(throws: WorkflowError.self) { try JSONValue(json: Data([0x22, 0xFF, 0x22])) }
        #expect(error?.code == .invalidJSON)
    }

    @Test("random values read back from their own text, and agree with Foundation on what is JSON")
    func roundTrip() throws {
        var generator = SystemRandomNumberGenerator()
        func random(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &generator) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &generator))
            case 2: return .integer(Int64.random(in: -1_000_000...1_000_000, using: &generator))
            case 3: return .number(Double.random(in: -1e6...1e6, using: &generator).rounded() + 0.5)
            case 4:
                let scalars = (0..<Int.random(in: 0...8, using: &generator)).compactMap { _ in
                    Unicode.Scalar(UInt32.random(in: 0...0x2FFF, using: &generator))
                }
                return .string(String(String.UnicodeScalarView(scalars)))
            case 5: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in random(depth + 1) })
            default:
                return .object(
                    Dictionary(
                        (0..<Int.random(in: 0...4, using: &generator)).map { i in ("k\(i)", random(depth + 1)) },
                        uniquingKeysWith: { a, _ in a }))
            }
        }
        for _ in 0..<2000 {
            let value = random(0)
            let text = value.jsonText
            #expect(try JSONValue(json: Data(text.utf8)) == value, "\(text)")
            #expect(
                (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) != nil, "\(text)"
            )
        }
    }
}
