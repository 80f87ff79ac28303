import Foundation
import ProcessSandbox
import SchedulerTesting
import Scheduling
import Storage
import Support
import Testing
import Workflows

/// The files the daemon reads at start and on SIGHUP: schedule files, workflow files and
/// `policies.yaml`. A broken file must give problems with a place and a message, never a crash that
/// would keep the daemon from starting. The shipped files in `schedules/` are the corpus.
@Suite("fuzz: schedule, workflow and policy files")
struct FileFuzzTests {
    static let schedules = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("schedules")

    static func corpus(_ folder: URL, only: (String) -> Bool = { _ in true }) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
            $0.hasSuffix(".yaml") && only($0)
        }
        let texts = try names.sorted().map {
            try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8)
        }
        try #require(!texts.isEmpty, "no corpus in \(folder.path)")
        return texts
    }

    /// YAML's own troublemakers, and the values these files take.
    static let yamlWords = [
        "\n  ", "\n- ", ": ", "- ", "{", "}", "[", "]", "&a ", "*a", "!!int ", "!!str ", "!!binary ", "|\n", ">\n",
        "---\n", "...\n", "? ", "~", "null", "true", "no", "yes", "0o777", "0x10", "1e400", ".inf", ".nan",
        "cron: ", "timeout: ", "jitter: ", "catchup: ", "remaining_runs: ", "retry: {attempts: ", "backoff: ",
        "max_backoff: ", "max_steps: ", "memory: ", "cpu: ", "processes: ", "open_files: ", "max_count: ",
        "max_bytes: ", "999999999d", "999999999999GiB", "99999999999KiB", "3651d", "1h30m", "250ms", "*/0",
        "0 0 31 2 *", "@every 0s", "1:0:0:0:0:0:0:0:0:0:0", "-1:0:0:0:0:0:0:0:0:0:0:0", "12:30", "@every 999999999h",
        "H(0-999999999)/3", "L-99999", "5#9", "time_zone: ",
        "Mars/Olympus", "next: ", "when: ", "{{ a.b[99999999999999999999] }}", "{{", "exists(", "((((((((((",
    ]

    @Test("schedule files: problems with a place, or a schedule that validates")
    func scheduleFiles() async throws {
        var mutator = Mutator(
            salt: 2, corpus: try Self.corpus(Self.schedules) { $0 != "policies.yaml" },
            dictionary: Self.yamlWords)
        let workflows: Set<String> = ["energy_analysis", "optimization", "conversation", "review", "dashboard"]
        try await fuzz("schedule files", make: { mutator.next() }) { text in
            switch ScheduleFile.parse(text, file: "fuzz.yaml", defaultName: "fuzz") {
            case .failure(let error):
                return Self.check(error.problems.map { ($0.line, $0.column, $0.message) })
            case .success(let entry):
                guard case .success(let valid) = entry.definition.validate(workflows: workflows, environment: [:])
                else { return nil }
                let record = valid.record
                if !(0...30 * 86_400).contains(record.catchupWindowSeconds) { return "catchup out of range" }
                if !(0...86_400).contains(record.jitterSeconds) { return "jitter out of range" }
                if let timeout = record.timeoutSeconds, !(1...7 * 86_400).contains(timeout) {
                    return "timeout out of range"
                }
                return nil
            }
        }
    }

    @Test("workflow files: problems with a place, or a workflow")
    func workflowFiles() async throws {
        var mutator = Mutator(
            salt: 3, corpus: try Self.corpus(Self.schedules.appendingPathComponent("workflows")),
            dictionary: Self.yamlWords)
        let context = WorkflowFile.Context(directory: Self.schedules, policies: ["default": .default])
        try await fuzz("workflow files", iterations: FuzzConfig.iterations / 2, make: { mutator.next() }) { text in
            do throws(WorkflowError) {
                _ = try WorkflowFile.parse(text, file: "fuzz.yaml", context: context)
                return nil
            } catch {
                return Self.check(error.problems.map { ($0.line, $0.column, $0.message) })
            }
        }
    }

    @Test("policies.yaml: problems with a place, or policies within their limits")
    func policyFiles() async throws {
        var mutator = Mutator(
            salt: 4,
            corpus: [try String(contentsOf: Self.schedules.appendingPathComponent("policies.yaml"), encoding: .utf8)],
            dictionary: Self.yamlWords)
        try await fuzz("policy files", make: { mutator.next() }) { text in
            do throws(SandboxError) {
                let policies = try PolicyFile.parse(text, file: "policies.yaml")
                for policy in policies.values {
                    if let memory = policy.memoryBytes, memory <= 0 || memory > PolicyFile.maximumSize {
                        return "memory \(memory) out of range"
                    }
                    if policy.timeout <= .zero || policy.timeout > DurationText.maximum {
                        return "timeout \(policy.timeout) out of range"
                    }
                }
                return nil
            } catch {
                return Self.check(error.problems.map { ($0.line, $0.column, $0.message) })
            }
        }
    }

    /// Yams reads YAML 1.1's base-60 integers with arithmetic that traps past `Int.max`; the files are
    /// read without it, so these stay strings (or are refused where a number is needed).
    @Test("a base-60 number past Int.max in any numeric field: a string or a problem, not a trap")
    func sexagesimal() throws {
        let huge = "1:0:0:0:0:0:0:0:0:0:0"
        let schedule = ScheduleFile.parse(
            "cron: '0 2 * * *'\nworkflow: w\nremaining_runs: \(huge)\ninput: {x: \(huge), t: 12:30}\n", file: "s.yaml",
            defaultName: "s")
        guard case .failure(let error) = schedule else {
            Issue.record("remaining_runs \(huge) was accepted")
            return
        }
        #expect(error.problems.map(\.message).contains { $0.contains("remaining_runs") }, "\(error.problems)")
        guard
            case .success(let entry) = ScheduleFile.parse(
                "cron: '0 2 * * *'\nworkflow: w\ninput: {x: \(huge), t: 12:30}\n", file: "s.yaml", defaultName: "s")
        else {
            Issue.record("an input with base-60 text was refused")
            return
        }
        #expect(entry.definition.input == ["x": .string(huge), "t": "12:30"])
        #expect(throws: SandboxError.self) {
            try PolicyFile.parse("policies:\n  p:\n    processes: \(huge)\n", file: "policies.yaml")
        }
        let context = WorkflowFile.Context(directory: Self.schedules, policies: ["default": .default])
        #expect(throws: WorkflowError.self) {
            try WorkflowFile.parse(
                "name: w\nentry: a\nmax_steps: \(huge)\nstate: {x: \(huge)}\nnodes:\n  a:\n    set: {y: \(huge)}\n",
                file: "w.yaml", context: context)
        }
        let workflow = try WorkflowFile.parse(
            "name: w\nentry: a\nstate: {x: \(huge)}\nnodes:\n  a:\n    set: {y: \(huge)}\n    retry: {attempts: 2}\n",
            file: "w.yaml", context: context)
        #expect(workflow.name == "w")
    }

    @Test("deeply nested YAML is refused with a problem, not a stack overflow")
    func deepYAML() throws {
        for text in [
            "input: " + String(repeating: "[", count: 100_000), "input: " + String(repeating: "{a: ", count: 50_000),
            String(repeating: "- ", count: 50_000) + "x",
            "name: deep\ncron: '0 2 * * *'\nworkflow: tick\ninput: {a: " + String(repeating: "[", count: 100_000)
                + String(repeating: "]", count: 100_000) + "}",
        ] {
            guard case .failure(let error) = ScheduleFile.parse(text, file: "deep.yaml", defaultName: "deep") else {
                Issue.record("deep nesting parsed")
                continue
            }
            #expect(Self.check(error.problems.map { ($0.line, $0.column, $0.message) }) == nil)
        }
    }

    /// `nil` when every problem has a place and a message.
    static func check(_ problems: [(line: Int, column: Int, message: String)]) -> String? {
        if problems.isEmpty { return "refused without a problem" }
        for problem in problems where problem.line < 1 || problem.column < 1 || problem.message.isEmpty {
            return "a problem without a place or message: \(problem)"
        }
        return nil
    }
}
