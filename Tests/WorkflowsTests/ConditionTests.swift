import Testing

@testable import Workflows

@Suite("Route conditions: parsing and evaluation, no code execution")
struct ConditionTests {
    static let state: JSONValue = [
        "approved": true, "risk": "low", "score": 0.82, "count": 3, "labels": ["urgent", "energy"],
        "report": ["summary": "ok", "notes": nil], "region": "eu", "empty": "",
        "items": [["name": "a"], ["name": "b"]],
    ]

    static let holds: [(String, Bool)] = [
        ("approved", true),
        ("not approved", false),
        ("approved == true and risk != 'high'", true),
        ("score >= 0.8", true),
        ("score > 0.9 or count == 3", true),
        ("count < 3", false),
        ("count <= 3.0", true),
        ("region in ['eu', 'us']", true),
        ("region not in ['eu', 'us']", false),
        ("'urgent' in labels", true),
        ("'ok' in report.summary", true),
        ("'summary' in report", true),
        ("exists(report.summary)", true),
        ("exists(report.missing)", false),
        ("exists(report.notes)", true),
        ("report.notes == null", true),
        ("missing == null", true),
        ("not exists(x) and (risk == \"low\" or risk == \"medium\")", true),
        ("empty", false),
        ("items[1].name == 'b'", true),
        ("items[5].name == null", true),
        ("'b' < 'c'", true),
        ("-1 < count", true),
        ("not not approved", true),
        ("exists(missing) and missing > 3", false),
    ]

    @Test("conditions evaluate as written", arguments: holds)
    func evaluate(_ text: String, _ expected: Bool) throws {
        #expect(try Condition(text).evaluate(Self.state) == expected)
    }

    static let parseErrors: [(String, String)] = [
        ("", "is empty; write a condition like `approved == true`"),
        ("score >", "expected a value: a state path, a number, a 'string', true, false, null or a list, found the end"),
        ("a == b == c", "comparisons do not chain (== at 8); join them with and"),
        ("status = 'ok'", "\"=\" at 8 is not an operator; use =="),
        ("'open", "the string starting at 1 is not closed"),
        ("(a and b", "expected `)` to close the `(` at 1, found the end"),
        ("a && b", "\"&\" at 3 is not allowed; use and, or, not, ==, !=, <, <=, >, >=, in"),
        ("x in [a]", "a list holds literals only, not state paths"),
        ("exists x", "expected `(` after exists, as in exists(report.score), found \"x\" at 8"),
        ("__import__('os')", "expected an operator (and, or, ==, in, …) or the end, found \"(\" at 11"),
        ("a not b", "expected `in` after `not`, found \"b\" at 7"),
    ]

    @Test("malformed conditions are refused with the position", arguments: parseErrors)
    func parseError(_ text: String, _ message: String) {
        let error = #expect(throws: WorkflowError.self) { try Condition(text) }
        #expect(error?.code == .invalidCondition)
        #expect(error?.message == message)
    }

    @Test("ordering across types is an evaluation error that names the operand")
    func evaluationError() throws {
        let error = #expect(throws: WorkflowError.self) { try Condition("risk > 3").evaluate(Self.state) }
        #expect(error?.code == .conditionNotEvaluable)
        let missing = try Condition("missing > 3")
        let labels = try Condition("labels > 3")
        do {
            _ = try missing.evaluate(Self.state)
        } catch {
            #expect(error.message == "missing is missing (null); > compares two numbers or two strings")
        }
        do {
            _ = try labels.evaluate(Self.state)
        } catch {
            #expect(error.message == "labels is an array; > compares two numbers or two strings")
        }
    }
}
