import Foundation
import MLflowTesting
import SchedulerTesting
import Storage
import Testing
import Workflows

/// The built daemon as a process, against a real MLflow server.
@Suite("schedulerd as a process", .serialized)
struct DaemonTests {
    static let tick = "name: tick\nentry: mark\nnodes:\n  mark:\n    set: {ticked: true}\n"
    static let slow = "name: slow\nentry: work\nnodes:\n  work:\n    script: scripts/slow.sh\n"
    static let slowScript = "#!/bin/sh\ncat > /dev/null\nsleep 3\necho '{\"slept\": 3}'\n"

    @Test("a daemon whose chosen port another process took first is started again on a new port, and answers there")
    func portTaken() async throws {
        let daemon = try DaemonProcess(
            schedules: try schedulesDirectory(workflows: ["tick": Self.tick]), mlflow: nil)
        let taken = daemon.port
        // A listener of another test's kind on the daemon's port.
        let squatter = try await FixtureProcess.start(
            script: "tcp_forward.py", arguments: [String(taken), "127.0.0.1", "1"])
        try await daemon.start()
        #expect(daemon.port != taken)
        #expect(try await daemon.request("GET", "/healthz", authorized: false).status == 200)
        #expect(try await daemon.stop() == 0)
        #expect(daemon.logText().contains("Address already in use"))
        _ = squatter
    }

    @Test(
        "an every-second schedule: 10 ± 1 runs in 10 s, each a trace in MLflow tagged trigger=cron and the schedule id")
    func everySecond() async throws {
        let server = try await MLflowTestServer.shared()
        let experiment = "daemon-\(UUID().uuidString.prefix(8))"
        let daemon = try DaemonProcess(
            schedules: try schedulesDirectory(workflows: ["tick": Self.tick]), mlflow: server.uri,
            experiment: experiment)
        try await daemon.start()
        let created = try await daemon.request(
            "POST", "/api/v1/schedules",
            body: #"{"name":"every_second","cron":"* * * * * *","workflow":"tick","overlap":"allow"}"#)
        #expect(created.status == 201, "\(created.json)")
        let id = try #require(created.json["id"]?.stringValue)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let since = try #require(created.json["created_at"]?.stringValue.flatMap { formatter.date(from: $0) })
        // The interval under test: ten seconds of wall time.
        try await Task.sleep(for: .seconds(10.5))
        _ = try await daemon.request("POST", "/api/v1/schedules/\(id)/pause", body: "{}")
        let until = since.addingTimeInterval(10)

        var runs: [JSONValue] = []
        try await eventually(timeout: .seconds(30), "the runs finish") {
            runs =
                try await daemon.request("GET", "/api/v1/runs?schedule=\(id)&limit=1000").json["runs"]?.arrayValue ?? []
            return runs.allSatisfy { $0["state"] == "succeeded" }
        }
        let inWindow = runs.filter {
            guard let fire = $0["fire_time"]?.stringValue.flatMap({ formatter.date(from: $0) }) else { return false }
            return fire > since && fire <= until
        }
        #expect((9...11).contains(inWindow.count), "\(inWindow.count) runs fired in 10 s")
        #expect(inWindow.allSatisfy { $0["trigger"] == "cron" })

        let reader = MLflowReader(uri: server.uri)
        for run in inWindow {
            let traceID = try #require(run["trace_id"]?.stringValue)
            var trace: MLflowReader.Trace?
            try await eventually(timeout: .seconds(60), "trace \(traceID) in MLflow") {
                trace = try await reader.trace(traceID)
                return trace?.state == "OK"
            }
            #expect(trace?.tags["trigger"] == "cron")
            #expect(trace?.tags["schedule_id"] == id)
            #expect(trace?.tags["run_id"] == run["id"]?.stringValue)
            #expect(trace?.tags["fire_time"] != nil)
        }
        #expect(try await daemon.stop() == 0)
    }

    @Test("SIGKILL mid-run: after a restart the run is interrupted, its trace ERROR, the missed fire caught up once")
    func killAndRestart() async throws {
        let server = try await MLflowTestServer.shared()
        let directory = try schedulesDirectory(
            workflows: ["slow": Self.slow], scripts: ["scripts/slow.sh": Self.slowScript],
            schedules: [
                "every_ten": "cron: \"*/10 * * * * *\"\nworkflow: slow\ncatchup: 1h\ncatchup_mode: latest\n"
            ])
        let daemon = try DaemonProcess(schedules: directory, mlflow: server.uri)
        var killed: JSONValue = .null
        var killedID = ""
        var before: Set<String> = []
        // On a busy machine the run seen running can finish before the kill lands; the database
        // (read while the daemon is down) says whether it did, and then the kill is tried again.
        for attempt in 1...3 {
            try await daemon.start()
            killed = .null
            try await eventually(timeout: .seconds(30), "a run is running") {
                let runs = try await daemon.request("GET", "/api/v1/runs?limit=5").json["runs"]?.arrayValue ?? []
                if let running = runs.first(where: { $0["state"] == "running" }) { killed = running }
                return killed != .null
            }
            #expect(try await daemon.stop(signal: SIGKILL) == SIGKILL)
            killedID = try #require(killed["id"]?.stringValue)
            let (state, ids) = try await daemon.withStore { store in
                (
                    try await store.run(id: killedID)?.state,
                    Set(try await store.runs(scheduleID: nil, limit: 10_000, before: nil).map(\.id))
                )
            }
            before = ids
            if state == .running { break }
            #expect(attempt < 3, "the run seen running had always finished before SIGKILL landed")
        }
        // Down long enough for at least one fire (every ten seconds) to be missed.
        try await Task.sleep(for: .seconds(12))
        try await daemon.start()
        try await eventually(timeout: .seconds(30), "the killed run is interrupted") {
            try await daemon.request("GET", "/api/v1/runs/\(killedID)").json["state"] == "interrupted"
        }
        var catchups: [JSONValue] = []
        try await eventually(timeout: .seconds(30), "a catch-up run") {
            let runs = try await daemon.request("GET", "/api/v1/runs?limit=100").json["runs"]?.arrayValue ?? []
            catchups = runs.filter { $0["trigger"] == "catchup" && !before.contains($0["id"]?.stringValue ?? "") }
            return !catchups.isEmpty
        }
        #expect(catchups.count == 1)
        let trace = try #require(killed["trace_id"]?.stringValue)
        try await eventually(timeout: .seconds(60), "the interrupted run's trace is closed ERROR") {
            try await MLflowReader(uri: server.uri).trace(trace)?.state == "ERROR"
        }
        #expect(try await daemon.stop() == 0)

        let (runs, running) = try await daemon.withStore { store in
            (try await store.runs(scheduleID: nil, limit: 10_000, before: nil), try await store.runs(in: [.running]))
        }
        let keys = runs.compactMap(\.dedupeKey)
        #expect(Set(keys).count == keys.count, "a dedupe key has two runs")
        #expect(running.isEmpty)
    }

    @Test("SIGTERM with a run in flight: the daemon waits, the run finishes, the process exits 0")
    func gracefulStop() async throws {
        let directory = try schedulesDirectory(
            workflows: ["slow": Self.slow], scripts: ["scripts/slow.sh": Self.slowScript])
        let daemon = try DaemonProcess(schedules: directory, mlflow: nil)
        try await daemon.start()
        let created = try await daemon.request(
            "POST", "/api/v1/schedules", body: #"{"name":"manual_only","webhook":true,"workflow":"slow"}"#)
        #expect(created.status == 201, "\(created.json)")
        let started = try await daemon.request("POST", "/api/v1/schedules/manual_only/run", body: "{}")
        #expect(started.status == 202)
        let runID = try #require(started.json["run_id"]?.stringValue)
        try await eventually("the run is running") {
            try await daemon.request("GET", "/api/v1/runs/\(runID)").json["state"] == "running"
        }
        #expect(try await daemon.stop(signal: SIGTERM) == 0)
        let run = try #require(try await daemon.withStore { try await $0.run(id: runID) })
        #expect(run.state == .succeeded, "\(run.error ?? "")")
        #expect(daemon.logText().contains("stopping: no new fires; waiting for running runs"))
    }

    @Test("a stored schedule whose days change under Vixie cron's rule: one warning at start naming it and the fix")
    func dayRuleWarning() async throws {
        let directory = try schedulesDirectory(
            workflows: ["tick": Self.tick],
            schedules: [
                "odd_mondays": "cron: \"0 0 */2 * 1\"\nworkflow: tick\n",
                "kept": "cron: \"0 0 */2 * 1\"\nworkflow: tick\nday_match: or\n",
                "daily": "cron: \"0 0 * * *\"\nworkflow: tick\n",
            ])
        let daemon = try DaemonProcess(schedules: directory, mlflow: nil)
        try await daemon.start()
        let warnings = daemon.logText().split(separator: "\n").filter { $0.contains("day_match: or") }
        #expect(warnings.count == 1, "\(daemon.logText())")
        let line = String(warnings.first ?? "")
        #expect(line.contains("odd_mondays") && line.contains("0 0 */2 * 1") && line.contains("next_fire"), "\(line)")
        #expect(try await daemon.stop() == 0)
    }
}
