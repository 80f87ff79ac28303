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
