import Foundation
import Testing

@Suite("schedule validate")
struct ScheduleValidateTests {
    /// A schedules directory with the given workflow files and one executable script.
    func directory(_ workflows: [String: String], policies: String? = nil) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "validate-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("workflows"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: root.appendingPathComponent("scripts"), withIntermediateDirectories: true)
        for (name, text) in workflows {
            try text.write(
                to: root.appendingPathComponent("workflows/\(name).yaml"), atomically: true, encoding: .utf8)
        }
        let script = root.appendingPathComponent("scripts/collect.sh")
        try "#!/bin/sh\necho '{}'\n".write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        if let policies {
            try policies.write(to: root.appendingPathComponent("policies.yaml"), atomically: true, encoding: .utf8)
        }
        return root
    }

    static let valid =
        "name: energy\nentry: collect\nnodes:\n  collect:\n    script: scripts/collect.sh\n    next: end\n"

    @Test("a valid directory: exit 0 and a one-line summary")
    func valid() throws {
        let root = try directory(["energy": Self.valid])
        let result = try ScheduleBinary.run(["validate", root.path])
        #expect(result.status == 0)
        #expect(result.stdout == "\(root.path): 1 workflow, 1 policy, 0 schedules, all valid\n")
        #expect(result.stderr.isEmpty)
    }

    @Test("a schedule whose days change under Vixie cron's rule: valid, with one warning naming the way back")
    func dayRuleWarning() throws {
        let root = try directory(["energy": Self.valid])
        try "cron: \"0 0 */2 * 1\"\nworkflow: energy\n".write(
            to: root.appendingPathComponent("odd_mondays.yaml"), atomically: true, encoding: .utf8)
        try "cron: \"0 0 */2 * 1\"\nworkflow: energy\nday_match: or\n".write(
            to: root.appendingPathComponent("kept.yaml"), atomically: true, encoding: .utf8)
        try "cron: \"0 0 1,15 * 1\"\nworkflow: energy\n".write(
            to: root.appendingPathComponent("plain.yaml"), atomically: true, encoding: .utf8)
        let result = try ScheduleBinary.run(["validate", root.path])
        #expect(result.status == 0, "\(result.stderr)")
        let warnings = result.stderr.split(separator: "\n")
        #expect(warnings.count == 1, "\(result.stderr)")
        let warning = String(warnings.first ?? "")
        #expect(warning.hasPrefix("\(root.path)/odd_mondays.yaml: warning: schedule odd_mondays: \"0 0 */2 * 1\""))
        #expect(warning.contains("set day_match: or to keep the old meaning"), "\(warning)")
        #expect(warning.contains("(was "), "\(warning)")
        let json = try ScheduleBinary.run(["validate", root.path, "--json"])
        #expect(json.stdout.contains("odd_mondays"), "\(json.stdout)")
        #expect(json.stdout.contains("\"warnings\""), "\(json.stdout)")
    }

    @Test("every problem on stderr as file:line:column, a count, exit 1")
    func problems() throws {
        let root = try directory(
            [
                "energy": Self.valid,
                "broken":
                    "name: broken\nentry: start\nnodes:\n  start:\n    script: scripts/missing.sh\n    policy: heavy\n    next: finish\n",
            ], policies: "policies:\n  analysis:\n    timeout: 5x\n")
        let result = try ScheduleBinary.run(["validate", root.path])
        #expect(result.status == 1)
        let file = root.appendingPathComponent("workflows/broken.yaml").path
        let policies = root.appendingPathComponent("policies.yaml").path
        #expect(
            result.stderr.split(separator: "\n").map(String.init) == [
                #"\#(policies):3:14: policy "analysis": timeout "5x" is not a duration from 1s to 3650d; use 90s, 5m or 1h30m"#,
                #"\#(file):5:13: node "start": script "scripts/missing.sh" does not exist in \#(root.path)"#,
                #"\#(file):6:13: node "start": policy "heavy" is not in policies.yaml; known: default"#,
                #"\#(file):7:11: node "start": next "finish" is not a node; use one of start or end"#,
                "4 problems in 2 files; nothing was loaded",
            ])
        #expect(result.stdout.isEmpty)
    }

    @Test("one file checks that file only, with delegations resolved against its directory; --json")
    func oneFile() throws {
        let root = try directory([
            "energy": Self.valid,
            "team": "name: team\nentry: ask\nnodes:\n  ask:\n    workflow: energy\n",
            "other": "name: other\nentry: x\nnodes: {}\n",
        ])
        let team = root.appendingPathComponent("workflows/team.yaml").path
        let ok = try ScheduleBinary.run(["validate", team, "--json"])
        #expect(ok.status == 0)
        let report = try #require(
            try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as? [String: Any])
        #expect(report["valid"] as? Bool == true)
        #expect(report["workflows"] as? [String] == ["team"])

        let other = try ScheduleBinary.run([
            "validate", root.appendingPathComponent("workflows/other.yaml").path, "--json",
        ])
        #expect(other.status == 1)
        let bad = try #require(try JSONSerialization.jsonObject(with: Data(other.stdout.utf8)) as? [String: Any])
        #expect(bad["valid"] as? Bool == false)
        let problems = try #require(bad["problems"] as? [[String: Any]])
        #expect(problems.map { $0["message"] as? String } == ["nodes must map node ids to their settings"])
    }

    @Test("schedule files are checked with the directory, and one alone against its workflows")
    func scheduleFiles() throws {
        let root = try directory(["energy": Self.valid])
        try "cron: \"0 2 * * *\"\ntime_zone: Europe/Berlin\nworkflow: energy\n".write(
            to: root.appendingPathComponent("nightly.yaml"), atomically: true, encoding: .utf8)
        let ok = try ScheduleBinary.run(["validate", root.path])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout == "\(root.path): 1 workflow, 1 policy, 1 schedule, all valid\n")
        let nightly = root.appendingPathComponent("nightly.yaml").path
        let one = try ScheduleBinary.run(["validate", nightly, "--json"])
        #expect(one.status == 0, "\(one.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])
        #expect(report["schedules"] as? [String] == ["nightly"])

        let bad = root.appendingPathComponent("hourly.yaml")
        try "cron: \"61 * * * *\"\nworkflow: energi\n".write(to: bad, atomically: true, encoding: .utf8)
        let expected = [
            #"\#(bad.path):1:7: cron: invalid cron expression "61 * * * *": minute field "61" is out of range 0-59"#,
            #"\#(bad.path):2:11: workflow: "energi" is not loaded; known: energy"#,
            "2 problems in 1 file; nothing was loaded",
        ]
        for target in [root.path, bad.path] {
            let result = try ScheduleBinary.run(["validate", target])
            #expect(result.status == 1)
            #expect(result.stderr.split(separator: "\n").map(String.init) == expected, "\(target)")
            #expect(result.stdout.isEmpty)
        }
        // The good file alone is still valid.
        #expect(try ScheduleBinary.run(["validate", nightly]).status == 0)
    }

    @Test("a path that does not exist: exit 2 and what to give instead")
    func missing() throws {
        let result = try ScheduleBinary.run(["validate", "/nonexistent/schedules"])
        #expect(result.status == 2)
        #expect(
            result.stderr
                == "schedule validate: /nonexistent/schedules does not exist; give a schedules directory, a schedule file or a workflow file\n"
        )
    }

    @Test("one pass: a broken workflow hides no schedule file, an unknown key no bad timeout, a bad zone no bad cron")
    func onePass() throws {
        let root = try directory([
            "energy": Self.valid,
            "broken": "name: broken\nentry: start\nnodes:\n  start:\n    script: scripts/missing.sh\n",
        ])
        let files = [
            "a": "cron: \"0 2 * * *\"\nworkflow: energy\ncolour: blue\ntimeout: 5x\n",
            "b": "cron: \"61 * * * *\"\nworkflow: energy\ntime_zone: Mars/Olympus\n",
            "c": "cron: \"0 2 * * *\"\nworkflow: broken\njitter: soon\n",
        ]
        for (name, text) in files {
            try text.write(to: root.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
        }
        let result = try ScheduleBinary.run(["validate", root.path])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        func has(_ file: String, _ fragment: String) -> Bool {
            lines.contains { $0.hasPrefix("\(root.path)/\(file)") && $0.contains(fragment) }
        }
        #expect(has("workflows/broken.yaml", "missing.sh"), "\(result.stderr)")
        #expect(has("a.yaml:3:1", #"unknown key "colour""#), "\(result.stderr)")
        #expect(has("a.yaml:4:10", #"timeout: "5x" is not a duration"#), "\(result.stderr)")
        #expect(has("b.yaml", "time_zone: unknown time zone"), "\(result.stderr)")
        #expect(has("b.yaml", #"minute field "61" is out of range"#), "\(result.stderr)")
        #expect(has("c.yaml", #"jitter: "soon" is not a duration"#), "\(result.stderr)")
        // The schedule naming the broken workflow is not also told that it is not loaded.
        #expect(!lines.contains { $0.contains(#""broken" is not loaded"#) }, "\(result.stderr)")
    }

    @Test("retry policies: every bad field refused with its file, line and field, in schedules and in the defaults")
    func retryProblems() throws {
        let root = try directory(
            ["energy": Self.valid],
            policies:
                "defaults:\n  retry: {attempts: 0, on: [failed, done]}\n  notify_sms: true\npolicies:\n  default: {timeout: 60s}\n"
        )
        let files = [
            "a":
                "cron: \"0 2 * * *\"\nworkflow: energy\nretry:\n  attempts: 3\n  backoff: 5x\n  max_backoff: 10s\n  on: [cancelled]\n",
            "b": "cron: \"0 2 * * *\"\nworkflow: energy\nretry: {backoff: 1m, colour: red}\n",
            "c": "cron: \"0 2 * * *\"\nworkflow: energy\nretry: 3\n",
            "ok":
                "cron: \"0 2 * * *\"\nworkflow: energy\nretry: {attempts: 3, backoff: 30s, max_backoff: 10m, on: [failed, timed_out]}\n",
        ]
        for (name, text) in files {
            try text.write(to: root.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
        }
        let result = try ScheduleBinary.run(["validate", root.path])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        func has(_ file: String, _ fragment: String) -> Bool {
            lines.contains { $0.hasPrefix("\(root.path)/\(file)") && $0.contains(fragment) }
        }
        #expect(has("a.yaml:5:12", #"retry.backoff: "5x" is not a duration"#), "\(result.stderr)")
        #expect(has("a.yaml:7:7", "retry.on: cancelled runs are never retried"), "\(result.stderr)")
        #expect(has("b.yaml:3:", "retry.attempts: is missing"), "\(result.stderr)")
        #expect(has("b.yaml:3:", #"unknown key "retry.colour""#), "\(result.stderr)")
        #expect(has("c.yaml:3:8", "retry must be a mapping"), "\(result.stderr)")
        #expect(has("policies.yaml:2:", "defaults.retry.attempts: 0 is not allowed; use 1 to 100"), "\(result.stderr)")
        #expect(has("policies.yaml:2:", #"defaults.retry.on: "done" is not allowed"#), "\(result.stderr)")
        #expect(has("policies.yaml:3:3", #"unknown key "defaults.notify_sms""#), "\(result.stderr)")
        #expect(!lines.contains { $0.contains("/ok.yaml") }, "\(result.stderr)")

        // The same files fixed: valid, the policies file's defaults included.
        try "defaults:\n  retry: {attempts: 2}\npolicies:\n  default: {timeout: 60s}\n".write(
            to: root.appendingPathComponent("policies.yaml"), atomically: true, encoding: .utf8)
        for name in ["a", "b", "c"] {
            try FileManager.default.removeItem(at: root.appendingPathComponent("\(name).yaml"))
        }
        let fixed = try ScheduleBinary.run(["validate", root.path])
        #expect(fixed.status == 0, "\(fixed.stderr)")
    }

    @Test("alert targets: a bad event, URL, target or key is refused with its file, line and field")
    func notifyProblems() throws {
        let root = try directory(
            ["energy": Self.valid],
            policies:
                "defaults:\n  notify:\n    - on: [failure]\n      slack: {}\n  missed: {after_skips: 0, sometimes: 1}\n"
                + "policies:\n  default: {timeout: 60s}\n")
        let text = """
            cron: "0 2 * * *"
            workflow: energy
            expected_duration: soon
            notify:
              - on: [failure, lunch]
                webhook: {url: "ftp://example.com/x"}
              - on: [recovered]
                email: {smtp_env: SMTP_URL, to: [oncall@example.com], cc: [boss@example.com]}
              - on: [missed]
            """
        try text.write(to: root.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        let result = try ScheduleBinary.run(["validate", root.path])
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        func has(_ file: String, _ fragment: String) -> Bool {
            lines.contains { $0.hasPrefix("\(root.path)/\(file)") && $0.contains(fragment) }
        }
        #expect(has("a.yaml:3:20", #"expected_duration: "soon" is not a duration"#), "\(result.stderr)")
        #expect(has("a.yaml:5:9", #"notify[0].on: "lunch" is not an event"#), "\(result.stderr)")
        #expect(has("a.yaml:6:20", #"notify[0].webhook.url: "ftp://example.com/x" is not a URL"#), "\(result.stderr)")
        #expect(has("a.yaml:8:", #"unknown key "notify[1].email.cc""#), "\(result.stderr)")
        #expect(has("a.yaml:9:", "notify[2].webhook: the entry has no target"), "\(result.stderr)")
        #expect(
            has("policies.yaml:4:", "defaults.notify[0].slack.url: give the incoming webhook's URL"), "\(result.stderr)"
        )
        #expect(has("policies.yaml:5:25", "defaults.missed.after_skips must be a whole number"), "\(result.stderr)")
        #expect(has("policies.yaml:5:28", #"unknown key "defaults.missed.sometimes""#), "\(result.stderr)")
    }

    @Test("a YAML syntax error: its own line and column, said once")
    func yamlSyntax() throws {
        let root = try directory(["energy": Self.valid])
        let file = root.appendingPathComponent("broken.yaml")
        try "cron: \"0 2 * * *\"\nworkflow: energy\ninput: {a: 1\ntimeout: 5m\n".write(
            to: file, atomically: true, encoding: .utf8)
        let result = try ScheduleBinary.run(["validate", root.path])
        #expect(result.status == 1)
        let problems = result.stderr.split(separator: "\n").filter { $0.hasPrefix(file.path) }
        #expect(problems.count == 1, "\(result.stderr)")
        let line = String(problems.first ?? "")
        #expect(line.hasPrefix("\(file.path):4:") || line.hasPrefix("\(file.path):5:"), "\(line)")
        #expect(
            line.contains(": is not valid YAML: ") && !line.contains("scanner") && !line.contains("error:"), "\(line)")
    }
}
