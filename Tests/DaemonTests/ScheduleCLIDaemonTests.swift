import Foundation
import MLflowTesting
import SchedulerTesting
import Testing
import Workflows

/// The built `schedule` CLI against a running daemon, as a user types it.
@Suite("schedule talks to schedulerd", .serialized)
struct ScheduleCLIDaemonTests {
    /// A started daemon without MLflow whose schedules directory has only the `tick` workflow.
    static func tickDaemon() async throws -> DaemonProcess {
        let daemon = try DaemonProcess(
            schedules: try schedulesDirectory(workflows: ["tick": DaemonTests.tick]), mlflow: nil)
        try await daemon.start()
        return daemon
    }

    static func schedule(_ arguments: [String], daemon: DaemonProcess?, url: String? = nil) throws -> ProcessOutput {
        var environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        if let daemon {
            environment["SCHEDULERD_URL"] = "http://127.0.0.1:\(daemon.port)"
            environment["SCHEDULERD_TOKEN"] = daemon.token
        }
        if let url { environment["SCHEDULERD_URL"] = url }
        return try runProcess(
            DaemonProcess.productsDirectory.appendingPathComponent("schedule"), arguments, environment: environment)
    }

    @Test("SIGHUP reloads the schedules directory: a new file is applied, a removed one deleted, a bad one refused")
    func hangupReload() async throws {
        let directory = try schedulesDirectory(
            workflows: ["tick": DaemonTests.tick], schedules: ["first": "cron: \"0 0 1 1 *\"\nworkflow: tick\n"])
        let daemon = try DaemonProcess(schedules: directory, mlflow: nil)
        try await daemon.start()
        func names() async throws -> [String] {
            let list = try await daemon.request("GET", "/api/v1/schedules").json["schedules"]?.arrayValue ?? []
            return list.compactMap { $0["name"]?.stringValue }.sorted()
        }
        #expect(try await names() == ["first"])
        try "cron: \"0 3 * * *\"\nworkflow: tick\n".write(
            to: directory.appendingPathComponent("second.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("first.yaml"))
        daemon.signal(SIGHUP)
        try await eventually(timeout: .seconds(30), "the reload applied second.yaml and dropped first") {
            try await names() == ["second"]
        }
        // A file that is not valid changes nothing, and the daemon goes on.
        try "cron: \"61 * * * *\"\nworkflow: tick\n".write(
            to: directory.appendingPathComponent("third.yaml"), atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        try await eventually(timeout: .seconds(30), "the refused reload is logged") {
            daemon.logText().contains("third.yaml")
        }
        #expect(try await names() == ["second"])
        #expect((try await daemon.request("GET", "/readyz", authorized: false)).status == 200)
        #expect(try await daemon.stop() == 0)
    }

    @Test("add --webhook prints the URL and the secret once; secret rotate prints a new one and the grace period")
    func webhookCommands() async throws {
        let daemon = try await Self.tickDaemon()
        let added = try Self.schedule(
            ["add", "push", "--webhook", "--webhook-scheme", "token", "--workflow", "tick"], daemon: daemon)
        #expect(added.status == 0, "\(added.stderr)")
        let lines = added.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(added.stdout)")
        #expect(lines.first?.hasPrefix("sch_") == true)
        #expect(lines.dropFirst().first == "webhook: POST http://127.0.0.1:\(daemon.port)/hooks/push")
        let secretLine = try #require(lines.last)
        #expect(
            secretLine.hasPrefix("secret:  ")
                && secretLine.hasSuffix("(shown once; send it as Authorization: Bearer; scheme token)"))
        let token = String(secretLine.dropFirst("secret:  ".count).prefix(64))
        let accepted = try await daemon.send(
            "POST", "/hooks/push", body: Data("hello".utf8),
            headers: ["Authorization": "Bearer \(token)", "Content-Type": "text/plain"])
        #expect(accepted.status == 202, "\(accepted.json)")
        // The secret is not shown again.
        #expect(!(try Self.schedule(["show", "push", "--json"], daemon: daemon).stdout.contains(token)))

        let rotated = try Self.schedule(["secret", "rotate", "push", "--grace", "1h"], daemon: daemon)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        #expect(rotated.stdout.hasPrefix("secret:  ") && rotated.stdout.contains("the old secret is accepted until "))
        let refused = try Self.schedule(["secret", "rotate", "nope"], daemon: daemon)
        #expect(
            refused.status == 4 && refused.stderr.contains(#"no schedule with id or name "nope""#), "\(refused.stderr)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("add, list, show, run --wait, runs, pause, resume, rm, with plain and --json output")
    func lifecycle() async throws {
        let daemon = try await Self.tickDaemon()
        let added = try Self.schedule(
            [
                "add", "nightly", "--cron", "0 2 * * *", "--tz", "Europe/Berlin", "--workflow", "tick", "--input",
                "days=7",
            ],
            daemon: daemon)
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.hasPrefix("sch_"))

        let list = try Self.schedule(["list"], daemon: daemon)
        #expect(list.stdout.split(separator: "\n").first?.hasPrefix("NAME") == true)
        #expect(
            list.stdout.contains("nightly") && list.stdout.contains("0 2 * * *")
                && list.stdout.contains("Europe/Berlin"))

        let show = try Self.schedule(["show", "nightly", "--json"], daemon: daemon)
        let shown = try JSONValue(json: Data(show.stdout.utf8))
        #expect(shown["next_fires"]?.arrayValue?.count == 5)
        #expect(shown["input"] == ["days": 7])

        let run = try Self.schedule(["run", "nightly", "--wait"], daemon: daemon)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("ok   mark"))
        #expect(run.stdout.hasSuffix("succeeded\n"))

        let runs = try Self.schedule(["runs", "nightly", "--json"], daemon: daemon)
        let listed = try JSONValue(json: Data(runs.stdout.utf8))["runs"]?.arrayValue ?? []
        #expect(listed.count == 1 && listed.first?["trigger"] == "manual")

        #expect(
            try Self.schedule(["pause", "nightly", "--note", "maintenance"], daemon: daemon).stdout
                == "paused nightly\n")
        #expect(
            try Self.schedule(["resume", "nightly"], daemon: daemon).stdout.hasPrefix("resumed nightly; next fire "))
        #expect(try Self.schedule(["rm", "nightly"], daemon: daemon).stdout.hasPrefix("deleted nightly (sch_"))
        let gone = try Self.schedule(["show", "nightly"], daemon: daemon)
        #expect(gone.status == 4)
        #expect(gone.stderr == "schedule show: no schedule with id or name \"nightly\"\n")
        #expect(try await daemon.stop() == 0)
    }

    @Test("add --manual: listed as manual with no next fire, runs when asked; --manual with --cron is refused")
    func manual() async throws {
        let daemon = try await Self.tickDaemon()
        let added = try Self.schedule(["add", "checkup", "--manual", "--workflow", "tick"], daemon: daemon)
        #expect(added.status == 0, "\(added.stderr)")
        let row = try Self.schedule(["list"], daemon: daemon).stdout.split(separator: "\n").first {
            $0.hasPrefix("checkup")
        }
        #expect(row?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == "manual")
        let shown = try JSONValue(
            json: Data(try Self.schedule(["show", "checkup", "--json"], daemon: daemon).stdout.utf8))
        #expect(shown["manual"] == .bool(true))
        #expect(shown["next_fires"]?.arrayValue?.isEmpty ?? true)
        let run = try Self.schedule(["run", "checkup", "--wait"], daemon: daemon)
        #expect(run.status == 0 && run.stdout.hasSuffix("succeeded\n"), "\(run.stdout)")
        let both = try Self.schedule(
            ["add", "both", "--manual", "--cron", "0 2 * * *", "--workflow", "tick"], daemon: daemon)
        #expect(both.status != 0)
        #expect(
            both.stderr.contains(
                "manual: cannot be combined with cron; a manual schedule runs only with `schedule run`"),
            "\(both.stderr)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("add --day-match --dst-gap --dst-fold: stored, shown, and the next fires follow them")
    func cronOverrides() async throws {
        let daemon = try await Self.tickDaemon()
        let added = try Self.schedule(
            [
                "add", "first_monday", "--cron", "0 9 1-7 * MON", "--tz", "America/New_York", "--day-match", "and",
                "--dst-gap", "skip", "--dst-fold", "both", "--workflow", "tick",
            ], daemon: daemon)
        #expect(added.status == 0, "\(added.stderr)")
        let shown = try JSONValue(
            json: Data(try Self.schedule(["show", "first_monday", "--json"], daemon: daemon).stdout.utf8))
        #expect(shown["day_match"] == "and" && shown["dst_gap"] == "skip" && shown["dst_fold"] == "both")
        // Every next fire is a Monday in the first seven days (with `or` it would be every day 1-7
        // and every Monday).
        let fires = (shown["next_fires"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(!fires.isEmpty)
        let formatter = ISO8601DateFormatter()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "America/New_York")!
        for fire in fires {
            let date = try #require(formatter.date(from: fire), "\(fire)")
            #expect(
                calendar.component(.weekday, from: date) == 2 && calendar.component(.day, from: date) <= 7, "\(fire)")
        }
        let bad = try Self.schedule(
            ["add", "odd", "--cron", "0 9 * * *", "--dst-gap", "later", "--workflow", "tick"], daemon: daemon)
        #expect(bad.status != 0)
        #expect(bad.stderr.contains(#"dst_gap: "later" is not allowed; use coalesce, shift, skip"#), "\(bad.stderr)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("add without a name: named after the workflow, then -2; prints the id")
    func addWithoutName() async throws {
        let daemon = try await Self.tickDaemon()
        var ids: [String] = []
        for _ in 0..<2 {
            let added = try Self.schedule(["add", "--cron", "0 3 * * *", "--workflow", "tick"], daemon: daemon)
            #expect(added.status == 0, "\(added.stderr)")
            ids.append(added.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(ids.allSatisfy { $0.hasPrefix("sch_") }, "\(ids)")
        for (id, name) in zip(ids, ["tick", "tick-2"]) {
            let shown = try JSONValue(
                json: Data(try Self.schedule(["show", id, "--json"], daemon: daemon).stdout.utf8))
            #expect(shown["name"] == .string(name))
        }
        let unknown = try Self.schedule(["add", "--cron", "0 3 * * *", "--workflow", "nope"], daemon: daemon)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains(#"workflow: "nope" is not loaded"#), "\(unknown.stderr)")
        #expect(!unknown.stderr.contains("name:"), "\(unknown.stderr)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("a workflow file added after the start is found by add and apply without a SIGHUP; a broken one is not")
    func newWorkflow() async throws {
        let directory = try schedulesDirectory(workflows: ["tick": DaemonTests.tick])
        let daemon = try DaemonProcess(schedules: directory, mlflow: nil)
        try await daemon.start()
        try "name: tock\nentry: mark\nnodes:\n  mark:\n    set: {tocked: true}\n".write(
            to: directory.appendingPathComponent("workflows/tock.yaml"), atomically: true, encoding: .utf8)
        let added = try Self.schedule(["add", "later", "--manual", "--workflow", "tock"], daemon: daemon)
        #expect(added.status == 0, "\(added.stderr)")
        let run = try Self.schedule(["run", "later", "--wait"], daemon: daemon)
        #expect(run.status == 0 && run.stdout.hasSuffix("succeeded\n"), "\(run.stdout) \(run.stderr)")

        let files = FileManager.default.temporaryDirectory.appendingPathComponent(
            "apply-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        try "cron: \"0 4 * * *\"\nworkflow: tack\n".write(
            to: files.appendingPathComponent("early.yaml"), atomically: true, encoding: .utf8)
        try "name: tack\nentry: mark\nnodes:\n  mark:\n    set: {tacked: true}\n".write(
            to: directory.appendingPathComponent("workflows/tack.yaml"), atomically: true, encoding: .utf8)
        let loads = { daemon.logText().components(separatedBy: "loaded the workflows again").count - 1 }
        #expect(loads() == 1)
        // A dry run finds the new workflow too, and replaces nothing.
        let dry = try Self.schedule(["apply", files.path, "--dry-run"], daemon: daemon)
        #expect(dry.stdout == "+ early\n(dry run: nothing changed)\n", "\(dry.stderr)")
        #expect(loads() == 1)
        #expect(try Self.schedule(["apply", files.path], daemon: daemon).stdout == "+ early\n")
        #expect(loads() == 2)

        // A broken workflow file: the schedule is refused, and what was loaded stays.
        try "name: tuck\nentry: nowhere\nnodes: {}\n".write(
            to: directory.appendingPathComponent("workflows/tuck.yaml"), atomically: true, encoding: .utf8)
        let broken = try Self.schedule(["add", "never", "--manual", "--workflow", "tuck"], daemon: daemon)
        #expect(broken.status != 0)
        #expect(broken.stderr.contains(#"workflow: "tuck" is not loaded"#), "\(broken.stderr)")
        #expect(daemon.logText().contains("the workflows do not load"))
        #expect(try Self.schedule(["run", "later", "--wait"], daemon: daemon).status == 0)
        // A workflow a schedule uses was removed: not taken in behind SIGHUP's checks.
        for name in ["tuck", "tock"] {
            try FileManager.default.removeItem(at: directory.appendingPathComponent("workflows/\(name).yaml"))
        }
        let typo = try Self.schedule(["add", "typo", "--manual", "--workflow", "tik"], daemon: daemon)
        #expect(typo.status != 0)
        #expect(daemon.logText().contains("loaded workflows are gone from the directory"))
        #expect(try Self.schedule(["run", "later", "--wait"], daemon: daemon).status == 0)
        #expect(try await daemon.stop() == 0)
    }

    @Test("a failing run: --wait shows the failed node and exits 1")
    func failingRun() async throws {
        let daemon = try DaemonProcess(
            schedules: try schedulesDirectory(
                workflows: ["broken": "name: broken\nentry: fail\nnodes:\n  fail:\n    script: scripts/fail.sh\n"],
                scripts: ["scripts/fail.sh": "#!/bin/sh\necho 'no data' >&2\nexit 2\n"]),
            mlflow: nil)
        try await daemon.start()
        _ = try Self.schedule(["add", "b", "--webhook", "--workflow", "broken"], daemon: daemon)
        let run = try Self.schedule(["run", "b", "--wait"], daemon: daemon)
        #expect(run.status == 1)
        #expect(run.stdout.contains("FAIL fail"))
        #expect(run.stdout.contains("failed: node \"fail\" failed: ScriptFailed: exited with status 2: no data"))
        #expect(run.stderr == "", "the run's result is on stdout and in the exit status only")
        let json = try Self.schedule(["run", "b", "--wait", "--json"], daemon: daemon)
        #expect(json.status == 1)
        #expect(try JSONValue(json: Data(json.stdout.utf8))["state"]?.stringValue == "failed")
        #expect(json.stderr == "")
        #expect(try await daemon.stop() == 0)
    }

    @Test(
        "apply: a plan, --dry-run changes nothing, --prune deletes what the files no longer have, and only what this directory applied"
    )
    func apply() async throws {
        let daemon = try await Self.tickDaemon()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("apply-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "cron: \"0 1 * * *\"\nworkflow: tick\n".write(
            to: dir.appendingPathComponent("one.yaml"), atomically: true, encoding: .utf8)
        try "cron: \"0 2 * * *\"\nworkflow: tick\n".write(
            to: dir.appendingPathComponent("two.yaml"), atomically: true, encoding: .utf8)

        let dry = try Self.schedule(["apply", dir.path, "--dry-run"], daemon: daemon)
        #expect(dry.stdout == "+ one\n+ two\n(dry run: nothing changed)\n")
        #expect(try Self.schedule(["list", "--json"], daemon: daemon).stdout.contains("\"schedules\":[]"))

        #expect(try Self.schedule(["apply", dir.path], daemon: daemon).stdout == "+ one\n+ two\n")
        try "cron: \"30 2 * * *\"\nworkflow: tick\n".write(
            to: dir.appendingPathComponent("two.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("one.yaml"))
        #expect(try Self.schedule(["apply", dir.path], daemon: daemon).stdout == "~ two\n")
        #expect(try Self.schedule(["apply", dir.path, "--prune"], daemon: daemon).stdout == "- one\n= two\n")

        // Another directory's --prune, and the daemon's own schedules directory applied again (on
        // SIGHUP and at start), leave the schedules this directory applied alone.
        let other = FileManager.default.temporaryDirectory.appendingPathComponent(
            "apply-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try "cron: \"0 3 * * *\"\nworkflow: tick\n".write(
            to: other.appendingPathComponent("three.yaml"), atomically: true, encoding: .utf8)
        #expect(try Self.schedule(["apply", other.path, "--prune"], daemon: daemon).stdout == "+ three\n")
        daemon.signal(SIGHUP)
        try await eventually(timeout: .seconds(30), "the reload is logged") {
            daemon.logText().contains("reloaded the schedules directory")
        }
        #expect(try await daemon.stop() == 0)
        try await daemon.start()
        let names = try JSONValue(json: Data(try Self.schedule(["list", "--json"], daemon: daemon).stdout.utf8))[
            "schedules"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["three", "two"])

        try "cron: \"99 * * * *\"\nworkflow: tick\n".write(
            to: dir.appendingPathComponent("bad.yaml"), atomically: true, encoding: .utf8)
        let bad = try Self.schedule(["apply", dir.path], daemon: daemon)
        #expect(bad.status == 1)
        let badPath = dir.appendingPathComponent("bad.yaml").resolvingSymlinksInPath().path
        #expect(
            bad.stderr
                == "schedule apply: the schedules are not valid; nothing was applied\n"
                + "  \(badPath): cron: invalid cron expression \"99 * * * *\": minute field \"99\" is out of range 0-59\n"
        )
        #expect(try await daemon.stop() == 0)
    }

    @Test("no daemon: the message says where it looked and how to start it")
    func unreachable() throws {
        let port = try freeTCPPort()
        let result = try Self.schedule(["list"], daemon: nil, url: "http://127.0.0.1:\(port)")
        #expect(result.status == 3)
        #expect(result.stderr.hasPrefix("schedule list: cannot reach schedulerd at http://127.0.0.1:\(port) ("))
        #expect(result.stderr.contains("start it with `schedulerd`"))
    }

    @Test("/metrics: Prometheus text with fires, runs by state, lateness and the queue")
    func metrics() async throws {
        let daemon = try await Self.tickDaemon()
        _ = try await daemon.request(
            "POST", "/api/v1/schedules", body: #"{"name":"s","cron":"* * * * * *","workflow":"tick"}"#)
        try await eventually("a run finished") {
            let runs = try await daemon.request("GET", "/api/v1/runs?limit=5").json["runs"]?.arrayValue ?? []
            return runs.contains { $0["state"] == "succeeded" }
        }
        let text = try await daemon.request("GET", "/metrics", authorized: false).json.stringValue ?? ""
        #expect(text.contains("schedulerd_fires_total{trigger=\"cron\"}"))
        #expect(text.contains("schedulerd_runs_total{state=\"succeeded\"}"))
        #expect(text.contains("schedulerd_fire_lateness_seconds_bucket{le=\"0.01\"}"))
        #expect(text.contains("schedulerd_queue_depth"))
        #expect(text.contains("schedulerd_trace_spool_depth_spans"))
        #expect(text.contains("schedulerd_clock_offset_seconds"))
        // The daemon's identity, as schedule instances shows it.
        let instance = try #require(
            try await daemon.request("GET", "/api/v1/instances").json["instances"]?.arrayValue?.first {
                $0["this"] == true
            })
        let id = try #require(instance["id"]?.stringValue)
        #expect(text.contains("schedulerd_instance_info{instance_id=\"\(id)\""), "\(text)")
        #expect(try await daemon.request("GET", "/readyz", authorized: false).status == 200)
        #expect(try await daemon.stop() == 0)
    }

    @Test("manners: resume on a running schedule says so, a mistyped name gets the closest, a mistyped command too")
    func manners() async throws {
        let daemon = try await Self.tickDaemon()
        _ = try await daemon.request(
            "POST", "/api/v1/schedules", body: #"{"name":"nightly","cron":"0 2 * * *","workflow":"tick"}"#)
        let resumed = try Self.schedule(["resume", "nightly"], daemon: daemon)
        #expect(resumed.status == 0)
        #expect(resumed.stdout.hasPrefix("nightly was not paused; nothing changed"), "\(resumed.stdout)")
        let typo = try Self.schedule(["show", "nighlty"], daemon: daemon)
        #expect(typo.status != 0)
        #expect(
            typo.stderr.contains(#"no schedule with id or name "nighlty"; did you mean "nightly"?"#), "\(typo.stderr)")
        let command = try Self.schedule(["lst"], daemon: daemon)
        #expect(command.status == 64)
        #expect(command.stderr.hasPrefix(#"error: "lst" is not a schedule command; did you mean "list"?"#))
        #expect(try await daemon.stop() == 0)
    }

    @Test("schedule cancel: a running run stops and ends cancelled; cancelling it again says it ended")
    func cancel() async throws {
        // A run far longer than the CLI takes to start, however loaded the machine: it is cancelled.
        let daemon = try DaemonProcess(
            schedules: try schedulesDirectory(
                workflows: ["slow": DaemonTests.slow],
                scripts: ["scripts/slow.sh": "#!/bin/sh\ncat > /dev/null\nsleep 120\necho '{}'\n"]),
            mlflow: nil)
        try await daemon.start()
        let id = try await daemon.startManualRun("slow", workflow: "slow")
        let cancel = try Self.schedule(["cancel", id, "--wait", "--reason", "testing"], daemon: daemon)
        #expect(cancel.status == 0, "\(cancel.stderr)")
        #expect(cancel.stdout == "cancelled \(id)\n")
        let run = try await daemon.request("GET", "/api/v1/runs/\(id)").json
        #expect(run["state"] == "cancelled")
        #expect(run["error"] == "cancelled through the API: testing")
        let again = try Self.schedule(["cancel", id], daemon: daemon)
        #expect(again.status != 0)
        #expect(again.stderr.contains("already ended (cancelled)"), "\(again.stderr)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("a schedule whose workflow file is deleted: SIGHUP warns, list shows the problem, /metrics counts it")
    func deletedWorkflow() async throws {
        let directory = try schedulesDirectory(workflows: [
            "tick": DaemonTests.tick,
            "extra": DaemonTests.tick.replacingOccurrences(of: "name: tick", with: "name: extra"),
        ])
        let daemon = try DaemonProcess(schedules: directory, mlflow: nil)
        try await daemon.start()
        let created = try await daemon.request(
            "POST", "/api/v1/schedules", body: #"{"name":"orphan","cron":"0 2 * * *","workflow":"extra"}"#)
        #expect(created.status == 201, "\(created.json)")
        try FileManager.default.removeItem(at: directory.appendingPathComponent("workflows/extra.yaml"))
        daemon.signal(SIGHUP)
        try await eventually(timeout: .seconds(30), "the reload warns about orphan") {
            daemon.logText().contains(#"a schedule cannot run: workflow "extra" is not loaded"#)
        }
        let list = try Self.schedule(["list"], daemon: daemon)
        #expect(list.stdout.contains(#"workflow "extra" is not loaded"#), "\(list.stdout)")
        let metrics = try await daemon.request("GET", "/metrics", authorized: false)
        let text = metrics.json.stringValue ?? ""
        #expect(text.contains("schedulerd_schedule_problems_schedules 1"), "\(text)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("/metrics counts every admitted fire under its trigger: webhook and manual too")
    func firesByTrigger() async throws {
        let daemon = try await Self.tickDaemon()
        let created = try await daemon.request(
            "POST", "/api/v1/schedules",
            body: #"{"name":"hook","webhook":true,"webhook_scheme":"token","workflow":"tick","overlap":"allow"}"#)
        let secret = try #require(created.json["webhook_secret"]?.stringValue)
        for _ in 0..<3 {
            let answer = try await daemon.send(
                "POST", "/hooks/hook", body: Data("{}".utf8),
                headers: ["Authorization": "Bearer \(secret)", "Content-Type": "application/json"])
            #expect(answer.status == 202)
        }
        for _ in 0..<2 { _ = try await daemon.request("POST", "/api/v1/schedules/hook/run", body: "{}") }
        let metrics = try await daemon.request("GET", "/metrics", authorized: false).json.stringValue ?? ""
        #expect(metrics.contains(#"schedulerd_fires_total{trigger="webhook"} 3"#), "\(metrics)")
        #expect(metrics.contains(#"schedulerd_fires_total{trigger="manual"} 2"#), "\(metrics)")
        #expect(try await daemon.stop() == 0)
    }
}
