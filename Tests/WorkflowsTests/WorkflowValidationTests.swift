import Foundation
import ProcessSandbox
import Testing

@testable import Workflows

/// Every validation error, with its exact message: file, line, column, what is wrong and how to fix it.
@Suite("Workflow files are checked before anything runs")
struct WorkflowValidationTests {
    struct Case: CustomStringConvertible, Sendable {
        var description: String
        var workflows: [String: String]
        var expected: [String]
    }

    static let scripts = ["scripts/ok.sh": emit("{}")]
    static let policies = "policies:\n  analysis:\n    timeout: 5m\n"

    static let cases: [Case] = [
        Case(
            description: "unknown next node",
            workflows: [
                "a": "name: a\nentry: one\nnodes:\n  one:\n    set: {x: 1}\n    next: tow\n  two:\n    set: {y: 2}\n"
            ],
            expected: [
                // One message: "two" is unreachable only because of the typo, so that is not said too.
                #"a.yaml:6:11: node "one": next "tow" is not a node (did you mean "two"?); use one of one, two or end"#
            ]),
        Case(
            description: "unknown entry",
            workflows: ["a": "name: a\nentry: first\nnodes:\n  one:\n    set: {x: 1}\n"],
            expected: [#"a.yaml:2:8: entry "first" is not a node; nodes are: one"#]),
        Case(
            description: "unreachable node",
            workflows: [
                "a": "name: a\nentry: one\nnodes:\n  one:\n    set: {x: 1}\n    next: end\n  orphan:\n    set: {y: 2}\n"
            ],
            expected: [
                #"a.yaml:7:3: node "orphan" is unreachable from entry "one"; lead to it with next from another node, or remove it"#
            ]),
        Case(
            description: "missing script",
            workflows: ["a": "name: a\nentry: one\nnodes:\n  one:\n    script: scripts/missing.sh\n"],
            expected: [#"a.yaml:5:13: node "one": script "scripts/missing.sh" does not exist in DIR"#]),
        Case(
            description: "script outside the schedules directory",
            workflows: ["a": "name: a\nentry: one\nnodes:\n  one:\n    script: ../../etc/passwd\n"],
            expected: [
                #"a.yaml:5:13: node "one": script "../../etc/passwd" must be relative to the schedules directory and stay inside it"#
            ]),
        Case(
            description: "unknown policy",
            workflows: ["a": "name: a\nentry: one\nnodes:\n  one:\n    script: scripts/ok.sh\n    policy: heavy\n"],
            expected: [#"a.yaml:6:13: node "one": policy "heavy" is not in policies.yaml; known: analysis, default"#]),
        Case(
            description: "unknown workflow in a delegation",
            workflows: ["a": "name: a\nentry: one\nnodes:\n  one:\n    workflow: team\n"],
            expected: [#"a.yaml:4:3: node "one": workflow "team" is not defined; known workflows: a"#]),
        Case(
            description: "delegation cycle between workflows",
            workflows: [
                "a": "name: a\nentry: one\nnodes:\n  one:\n    workflow: b\n",
                "b": "name: b\nentry: two\nnodes:\n  two:\n    workflow: a\n",
            ],
            expected: [
                #"a.yaml:4:3: node "one": delegation cycle a → b → a; a workflow may not delegate to itself, directly or through others"#,
                #"b.yaml:4:3: node "two": delegation cycle b → a → b; a workflow may not delegate to itself, directly or through others"#,
            ]),
        Case(
            description: "a workflow delegating to itself",
            workflows: ["a": "name: a\nentry: one\nnodes:\n  one:\n    workflow: a\n"],
            expected: [
                #"a.yaml:4:3: node "one": delegation cycle a → a; a workflow may not delegate to itself, directly or through others"#
            ]),
        Case(
            description: "bad route expression",
            workflows: [
                "a":
                    "name: a\nentry: gate\nnodes:\n  gate:\n    route:\n      - when: \"score >> 3\"\n        next: end\n    default: end\n"
            ],
            expected: [
                #"a.yaml:6:23: node "gate": condition "score >> 3": expected a value: a state path, a number, a 'string', true, false, null or a list, found ">" at 8"#
            ]),
        Case(
            description: "single = in a route expression",
            workflows: [
                "a":
                    "name: a\nentry: gate\nnodes:\n  gate:\n    route:\n      - when: status = 'ok'\n        next: end\n    default: end\n"
            ],
            expected: [#"a.yaml:6:22: node "gate": condition "status = 'ok'": "=" at 8 is not an operator; use =="#]),
        Case(
            description: "route without default",
            workflows: [
                "a": "name: a\nentry: gate\nnodes:\n  gate:\n    route:\n      - when: ok\n        next: end\n"
            ],
            expected: [
                #"a.yaml:5:5: node "gate": a route node needs default: <node> (or default: end) for when no condition holds"#
            ]),
        Case(
            description: "duplicate node names",
            workflows: [
                "a": "name: a\nentry: one\nnodes:\n  one:\n    set: {x: 1}\n  one:\n    set: {x: 2}\n"
            ],
            expected: [
                #"a.yaml:4:3: "one" appears more than once in the mapping here; node ids and keys must be unique"#
            ]),
        Case(
            description: "duplicate workflow names",
            workflows: [
                "a": "name: same\nentry: one\nnodes:\n  one:\n    set: {x: 1}\n",
                "b": "name: same\nentry: one\nnodes:\n  one:\n    set: {x: 1}\n",
            ],
            expected: [
                #"b.yaml:1:1: workflow name "same" is already used by a.yaml; workflow names must be unique"#
            ]),
        Case(
            description: "a node with no kind, and one with two",
            workflows: [
                "a":
                    "name: a\nentry: one\nnodes:\n  one:\n    next: two\n  two:\n    set: {x: 1}\n    script: scripts/ok.sh\n"
            ],
            expected: [
                #"a.yaml:4:3: node "one" has no kind; give it one of script, http, llm, workflow, route, set, swift"#,
                #"a.yaml:8:5: node "two" has several kinds (set, script); give it exactly one"#,
            ]),
        Case(
            description: "negative and malformed durations, retry attempts out of range",
            workflows: [
                "a":
                    "name: a\nentry: one\ntimeout: -5s\nnodes:\n  one:\n    set: {x: 1}\n    timeout: 10 minutes\n    retry: {attempts: 0, backoff: 1s}\n"
            ],
            expected: [
                #"a.yaml:3:10: timeout "-5s" is not a duration from 1ms to 3650d; use 500ms, 90s, 5m or 1h30m"#,
                #"a.yaml:7:14: node "one": timeout "10 minutes" is not a duration from 1ms to 3650d; use 500ms, 90s, 5m or 1h30m"#,
                #"a.yaml:8:23: node "one": retry attempts "0" must be a whole number from 1 to 100"#,
            ]),
        Case(
            description: "unknown keys",
            workflows: [
                "a": "name: a\nentry: one\nschedule: daily\nnodes:\n  one:\n    set: {x: 1}\n    nxt: end\n"
            ],
            expected: [
                #"a.yaml:3:1: unknown key "schedule"; allowed: name, type, description, entry, state, timeout, max_steps, nodes"#,
                #"a.yaml:7:5: node "one": unknown key "nxt" for a set node; allowed: next, retry, timeout, continue_on_error, append, description, parameters, set"#,
            ]),
        Case(
            description: "bad template and bad state path in set",
            workflows: [
                "a": "name: a\nentry: one\nnodes:\n  one:\n    set: {\"a..b\": 1, c: \"{{ x + 1 }}\"}\n"
            ],
            expected: [
                #"a.yaml:5:11: node "one": "a..b" is not a state path (like report.status or items[0], an index up to 99999)"#,
                #"a.yaml:5:25: node "one": set c: "{{ x + 1 }}" must hold a state path like {{ report.summary }} or {{ items[0] }} (an index up to 99999)"#,
            ]),
        Case(
            description: "an http node without url, a GET with a body, a bad method",
            workflows: [
                "a":
                    "name: a\nentry: one\nnodes:\n  one:\n    http: {method: FETCH}\n    next: two\n  two:\n    http: {url: \"http://x/\", body: {a: 1}}\n"
            ],
            expected: [
                #"a.yaml:5:20: node "one": method "FETCH" is not allowed; use GET, POST, PUT, PATCH, DELETE, HEAD"#,
                #"a.yaml:5:11: node "one": http needs a url"#,
                #"a.yaml:8:36: node "two": a GET request has no body; use POST, PUT or PATCH"#,
            ]),
        Case(
            description: "an http url that is neither a URL, a template nor an environment reference",
            workflows: [
                "a":
                    "name: a\nentry: one\nnodes:\n  one:\n    http: {url: \"ftp://x/\"}\n    next: two\n  two:\n    http: {url: \"${1BAD}/healthz\"}\n    next: three\n  three:\n    http: {url: \"${SCHEDULERD_URL}/healthz\"}\n"
            ],
            expected: [
                #"a.yaml:5:17: node "one": url "ftp://x/" must start with http://, https://, {{ path }} or ${VARIABLE}"#,
                #"a.yaml:8:17: node "two": ${1BAD} is not an environment variable name"#,
            ]),
        Case(
            description: "an unregistered Swift node kind",
            workflows: ["a": "name: a\nentry: one\nnodes:\n  one:\n    swift: summarize\n"],
            expected: [
                #"a.yaml:5:12: node "one": swift node kind "summarize" is not registered; this program registers none"#
            ]),
        Case(
            description: "a fan-out to a single node, and next on a route node",
            workflows: [
                "a":
                    "name: a\nentry: one\nnodes:\n  one:\n    set: {x: 1}\n    next: [two]\n  two:\n    route:\n      - {when: x, next: end}\n    default: end\n    next: end\n"
            ],
            expected: [
                #"a.yaml:6:11: node "one": a next list fans out to two or more distinct nodes (not end)"#,
                #"a.yaml:11:11: node "two": a route node picks its next node with route and default, not next"#,
            ]),
        Case(
            description: "not YAML",
            workflows: ["a": "name: a\nnodes: [unclosed\n"],
            expected: [#"a.yaml:3:1: is not valid YAML: did not find expected ',' or ']'"#]),
        Case(
            description: "a bad workflow name and a node named end",
            workflows: ["a": "name: Energy Analysis\nentry: end\nnodes:\n  end:\n    set: {x: 1}\n"],
            expected: [
                #"a.yaml:1:7: name "Energy Analysis" must be lowercase letters, digits, _ and -, starting with a letter"#,
                #"a.yaml:4:3: node id "end" must be letters, digits, _ and -, starting with a letter, and not "end""#,
            ]),
    ]

    @Test("each problem is reported with its exact message", arguments: cases)
    func problem(_ testCase: Case) throws {
        let fixture = try WorkflowFixture(workflows: testCase.workflows, scripts: Self.scripts, policies: Self.policies)
        let problems = fixture.problems().map {
            $0.replacingOccurrences(of: fixture.directory.standardizedFileURL.path, with: "DIR")
        }
        #expect(problems.sorted() == testCase.expected.sorted())
    }

    @Test("a valid directory loads, and an invalid file stops the whole catalog from loading")
    func allOrNothing() throws {
        let good = "name: good\nentry: one\nnodes:\n  one:\n    script: scripts/ok.sh\n    policy: analysis\n"
        let fixture = try WorkflowFixture(workflows: ["good": good], scripts: Self.scripts, policies: Self.policies)
        let catalog = try fixture.catalog()
        #expect(catalog.workflows.keys.sorted() == ["good"])
        #expect(catalog.policies["analysis"]?.timeout == .seconds(300))

        let broken = try WorkflowFixture(
            workflows: ["good": good, "bad": "name: bad\nentry: x\nnodes:\n  one:\n    set: {}\n"],
            scripts: Self.scripts, policies: Self.policies)
        #expect(throws: WorkflowError.self) { try broken.catalog() }
    }

    @Test("a registered Swift node kind is accepted")
    func swiftKind() throws {
        let fixture = try WorkflowFixture(
            workflows: ["a": "name: a\nentry: one\nnodes:\n  one:\n    swift: summarize\n    with: {words: 5}\n"])
        let catalog = try fixture.catalog(nodeKinds: ["summarize"])
        guard case .swift(let name, let configuration)? = catalog.workflows["a"]?.nodes["one"]?.kind else {
            Issue.record("not a swift node")
            return
        }
        #expect(name == "summarize")
        #expect(configuration == ["words": 5])
    }
}
