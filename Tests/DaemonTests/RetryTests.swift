import Foundation
import MLflowTesting
import SchedulerAPI
import SchedulerTesting
import Testing
import Workflows

/// Retries through a real daemon: a failing run tried again by its schedule's policy, each attempt
/// a run of its own with its own trace, tagged with its attempt and the trace before, and listed
/// together by `schedule runs`.
@Suite("schedulerd retries failed runs")
struct RetryTests {
    static let failing = "name: failing\nentry: work\nnodes:\n  work:\n    script: scripts/fail.sh\n"
    static let failScript = "#!/bin/sh\ncat > /dev/null\necho 'the upstream file is missing' >&2\nexit 3\n"

    @Test("a failing run is tried three times, a second apart: three traces, each tagged with its attempt")
    func threeAttempts() async throws {
        let server = try await MLflowTestServer.shared()
        let directory = try schedulesDirectory(
            workflows: ["failing": Self.failing], scripts: ["scripts/fail.sh": Self.failScript],
            schedules: [
                "flaky": "manual: true\nworkflow: failing\nretry: {attempts: 3, backoff: 1s, max_backoff: 1s}\n"
            ])
        let daemon = try DaemonProcess(schedules: directory, mlflow: server.uri)
        try await daemon.start()
        let started = try await daemon.request("POST", "/api/v1/schedules/flaky/run", body: "{}")
        #expect(started.status == 202 || started.status == 201, "\(started.json)")
        var runs: [JSONValue] = []
        try await eventually(timeout: .seconds(60), "three attempts ended") {
            runs = try await daemon.request("GET", "/api/v1/runs?limit=10").json["runs"]?.arrayValue ?? []
            return runs.count == 3 && runs.allSatisfy { $0["state"] == "failed" }
        }
        // Newest first: attempt 3 retries 2, which retries 1.
        #expect(runs.map { $0["attempt"] } == [3, 2, 1])
        #expect(runs[0]["retry_of"] == runs[1]["id"] && runs[1]["retry_of"] == runs[2]["id"])
        #expect(runs[2]["retry_of"] == .null)
        let starts = runs.compactMap { $0["started_at"]?.stringValue }.compactMap(APITimestamp.parse)
        #expect(starts.count == 3)
        if starts.count == 3 {
            #expect(starts[0].timeIntervalSince(starts[1]) >= 0.5, "the backoff, less at most half")
        }

        // Any attempt's detail lists the fire's attempts, first to last.
        let middle = try await daemon.request("GET", "/api/v1/runs/\(runs[1]["id"]?.stringValue ?? "")").json
        #expect(
            middle["attempts"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
                == runs.reversed().compactMap { $0["id"]?.stringValue }, "\(middle)")
        #expect(middle["attempts"]?.arrayValue?.map { $0["attempt"] } == [1, 2, 3])

        let traces = runs.compactMap { $0["trace_id"]?.stringValue }
        #expect(Set(traces).count == 3, "a trace per attempt")
        let reader = MLflowReader(uri: server.uri)
        for (index, run) in runs.enumerated() {
            let trace = try #require(run["trace_id"]?.stringValue)
            var tags: [String: String] = [:]
            try await eventually(timeout: .seconds(60), "the trace of attempt \(3 - index) in MLflow") {
                guard let found = try await reader.trace(trace), found.state == "ERROR" else { return false }
                tags = found.tags
                return true
            }
            #expect(tags["attempt"] == String(3 - index))
            #expect(tags["retry_of_trace_id"] == (index < 2 ? traces[index + 1] : nil))
            #expect(tags["trigger"] == "manual")
        }

        // `schedule runs` shows the attempts of the fire together, the latest first.
        let listed = try ScheduleCLIDaemonTests.schedule(["runs", "flaky"], daemon: daemon)
        #expect(listed.status == 0, "\(listed.stderr)")
        let lines = listed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.contains("ATTEMPT") == true, "\(listed.stdout)")
        #expect(lines.count == 4, "\(listed.stdout)")
        if lines.count == 4 {
            #expect(lines[1].hasPrefix(runs[0]["id"]?.stringValue ?? "?"), "\(listed.stdout)")
            #expect(lines[2].hasPrefix("  └ \(runs[1]["id"]?.stringValue ?? "?")"), "\(listed.stdout)")
            #expect(lines[3].hasPrefix("  └ \(runs[2]["id"]?.stringValue ?? "?")"), "\(listed.stdout)")
        }
        #expect(try await daemon.stop() == 0)
    }
}
