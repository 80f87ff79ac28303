import Foundation
import MLflowTesting
import SchedulerTesting
import Storage
import Testing
import Workflows

/// Stopping the daemon: what it answers while running runs finish, that the spans of every finished
/// run reach MLflow before it exits, and that a second signal cancels instead of waiting.
@Suite("stopping schedulerd", .serialized)
struct StopTests {
    @Test("SIGTERM right after runs ended: every run's trace has its root in MLflow, and the spool is empty")
    func spoolDelivered() async throws {
        // An MLflow of its own: the shared one, busy with the other suites, once kept its SQLite file
        // locked past the 20 s grace (it answered 503), and this test is about the daemon's stop.
        let server = try MLflowTestServer()
        try await server.start()
        defer { server.stop() }
        let daemon = try DaemonProcess(
            schedules: try schedulesDirectory(workflows: ["tick": DaemonTests.tick]), mlflow: server.uri,
            experiment: "stop-\(UUID().uuidString.prefix(8))")
        try await daemon.start()
        _ = try await daemon.request(
            "POST", "/api/v1/schedules", body: #"{"name":"now","manual":true,"workflow":"tick","overlap":"allow"}"#)
        var ids: [String] = []
        for _ in 0..<5 {
            let started = try await daemon.request("POST", "/api/v1/schedules/now/run", body: "{}")
            ids.append(try #require(started.json["run_id"]?.stringValue))
        }
        var traces: [String] = []
        // Ended, and the experiment resolved (a run shows its trace_url only then): what the stop must
        // do is deliver the spans, not find the experiment in an MLflow the other suites keep busy.
        try await eventually(timeout: .seconds(60), "the runs end and the experiment is known") {
            traces = []
            for id in ids {
                let run = try await daemon.request("GET", "/api/v1/runs/\(id)").json
                guard run["state"] == "succeeded", let trace = run["trace_id"]?.stringValue,
                    run["trace_url"]?.stringValue != nil
                else { return false }
                traces.append(trace)
            }
            return true
        }
        #expect(try await daemon.stop(signal: SIGTERM) == 0)
        // Read once, right after the exit: delivered before, not eventually.
        let reader = MLflowReader(uri: server.uri)
        for trace in traces {
            let found = try await reader.trace(trace)
            #expect(found?.state == "OK", "trace \(trace): \(String(describing: found?.state))")
        }
        #expect(daemon.logText().contains("stopped with every span delivered"), "\(daemon.logText())")
    }

    @Test(
        "while runs finish after SIGTERM: /readyz 503, /healthz 200, reads work, writes and webhooks 503, --wait sees the end"
    )
    func servingWhileStopping() async throws {
        let daemon = try DaemonProcess(
            schedules: try schedulesDirectory(
                workflows: ["slow": DaemonTests.slow], scripts: ["scripts/slow.sh": DaemonTests.slowScript]),
            mlflow: nil)
        try await daemon.start()
        let created = try await daemon.request(
            "POST", "/api/v1/schedules",
            body: #"{"name":"slow","webhook":true,"webhook_scheme":"token","workflow":"slow","overlap":"allow"}"#)
        let secret = try #require(created.json["webhook_secret"]?.stringValue)
        // A user following a run with --wait, started before the stop.
        // Off the cooperative pool: the CLI blocks its thread until the run ends, and with the pool's
        // other threads busy in other tests the polls below could miss the whole run.
        let waiter = Task {
            try await offload { try ScheduleCLIDaemonTests.schedule(["run", "slow", "--wait"], daemon: daemon) }
        }
        try await eventually("a run is running") {
            let runs = try await daemon.request("GET", "/api/v1/runs").json["runs"]?.arrayValue ?? []
            return runs.contains { $0["state"] == "running" }
        }
        daemon.signal(SIGTERM)
        try await eventually("/readyz says the daemon stops") {
            (try await daemon.request("GET", "/readyz", authorized: false)).status == 503
        }
        #expect((try await daemon.request("GET", "/healthz", authorized: false)).status == 200)
        #expect((try await daemon.request("GET", "/api/v1/schedules")).status == 200)
        let write = try await daemon.request("POST", "/api/v1/schedules/slow/pause", body: "{}")
        #expect(write.status == 503)
        #expect(write.retryAfter == "30")
        #expect(write.json["error"]?["message"]?.stringValue?.hasPrefix("schedulerd is stopping") == true)
        let hook = try await daemon.send(
            "POST", "/hooks/slow", body: Data("{}".utf8),
            headers: ["Authorization": "Bearer \(secret)", "Content-Type": "application/json"])
        #expect(hook.status == 503)
        #expect(hook.retryAfter == "30")
        let waited = try await waiter.value
        #expect(waited.status == 0, "\(waited.stdout) \(waited.stderr)")
        #expect(waited.stdout.hasSuffix("succeeded\n"), "\(waited.stdout)")
        #expect(try await daemon.stop(signal: SIGTERM) == 0)
    }

    @Test("a second SIGTERM while stopping cancels the running runs instead of waiting for them")
    func secondSignalHurries() async throws {
        let long = "#!/bin/sh\ncat > /dev/null\nsleep 120\necho '{}'\n"
        let daemon = try DaemonProcess(
            schedules: try schedulesDirectory(
                workflows: ["slow": DaemonTests.slow], scripts: ["scripts/slow.sh": long]),
            mlflow: nil)
        try await daemon.start()
        let id = try await daemon.startManualRun("long", workflow: "slow")
        daemon.signal(SIGTERM)
        try await eventually("the stop began") {
            (try await daemon.request("GET", "/readyz", authorized: false)).status == 503
        }
        let began = ContinuousClock.now
        daemon.signal(SIGTERM)
        // The grace is 20 s (DaemonProcess): an exit well before it means the run was not waited for.
        #expect(try await daemon.stop(signal: SIGTERM, timeout: .seconds(60)) == 0)
        #expect(ContinuousClock.now - began < .seconds(15))
        #expect(daemon.logText().contains("a second stop signal: not waiting for running runs"))
        #expect(try await daemon.withStore { try await $0.run(id: id)?.state } == .cancelled)
    }
}
