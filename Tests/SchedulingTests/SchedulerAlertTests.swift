import ClockTesting
import Foundation
import SchedulerTesting
import Scheduling
import Storage
import Testing

/// Which alerts runs' ends store in the outbox, on a manual clock: one per failure streak, after the
/// last attempt, `recovered` when it ends, `success` when asked for, and a run a crash interrupted.
@Suite("Scheduler alerts on a manual clock")
struct SchedulerAlertTests {
    static let t0 = SchedulerHarness.epoch
    static let hook = AlertTarget.webhook(url: "http://127.0.0.1:9/alerts", secretEnv: nil)

    func schedule(_ name: String, notify: [NotifyRule]?, retry: RetryPolicy? = nil) -> ScheduleRecord {
        var record = ScheduleRecord(
            name: name, cron: nil, workflow: "w", overlap: .allow, createdAt: Self.t0, updatedAt: Self.t0)
        record.notify = notify
        record.retry = retry
        return record
    }

    /// Submits a run of `schedule`, waits until it is held, and ends it `state`.
    func run(_ schedule: ScheduleRecord, ending state: RunState, _ h: SchedulerHarness) async throws -> RunRecord {
        try await eventually("the scheduler fires") { await h.scheduler.firing }
        let count = h.executor.started.count
        let run = try #require(
            try await h.scheduler.submit(
                RunRecord(scheduleID: schedule.id, workflow: "w", trigger: "manual", queuedAt: h.clock.now())))
        try await eventually("the run started") {
            h.executor.started.count == count + 1 && h.executor.waitingCount == 1
        }
        h.executor.release(run.id, as: state)
        try await h.waitForRuns("the run ended") { $0.first { $0.id == run.id }?.state == state }
        return run
    }

    func alerts(_ h: SchedulerHarness) async throws -> [AlertRecord] {
        try await h.store.alerts(scheduleID: nil, limit: 100, before: nil).reversed()
    }

    /// Waits until `count` alerts are stored (a run's alerts are stored just after its end).
    func alerts(count: Int, _ h: SchedulerHarness) async throws -> [AlertRecord] {
        try await eventually("\(count) alerts stored") { try await alerts(h).count == count }
        return try await alerts(h)
    }

    @Test("one failure alert per streak, recovered when it ends, success only where asked for")
    func streaks() async throws {
        let watched = schedule(
            "watched",
            notify: [
                NotifyRule(on: [.failure, .recovered], target: Self.hook),
                NotifyRule(on: [.success], target: .slack(url: "https://hooks.example.com/x", urlEnv: nil)),
            ])
        let h = try await SchedulerHarness.start(holding: true, schedules: [watched])
        try await stopping(h) { h in
            let ok = try await run(watched, ending: .succeeded, h)
            #expect(try await alerts(count: 1, h).map(\.event) == [.success], "no recovery without a failure before")
            let first = try await run(watched, ending: .failed, h)
            _ = try await alerts(count: 2, h)
            _ = try await run(watched, ending: .timedOut, h)
            let back = try await run(watched, ending: .succeeded, h)
            _ = try await alerts(count: 4, h)
            _ = try await run(watched, ending: .cancelled, h)
            // A late alert of the streak's second failure or of the cancelled run would come before
            // one of this run's.
            _ = try await run(watched, ending: .succeeded, h)
            let stored = Array(try await alerts(count: 5, h).prefix(4))
            #expect(stored.map(\.event) == [.success, .failure, .recovered, .success])
            #expect(stored.map(\.runID) == [ok.id, first.id, back.id, back.id])
            #expect(stored.allSatisfy { $0.state == .pending && $0.scheduleName == "watched" })
            #expect(stored[1].targetJSON == Self.hook.json && stored[0].targetJSON.contains("slack"))
            let payload = try #require(
                try JSONSerialization.jsonObject(with: Data(stored[1].payloadJSON.utf8)) as? [String: Any])
            #expect(payload["event"] as? String == "failure" && payload["state"] as? String == "failed")
            #expect(payload["schedule"] as? String == "watched" && payload["run_id"] as? String == first.id)
            #expect(payload["attempt"] as? Int == 1 && payload["trace_id"] as? String == first.traceID)
        }
    }

    @Test("a run that will be retried alerts nothing; its last attempt failing does, once")
    func afterLastAttempt() async throws {
        let flaky = schedule(
            "flaky", notify: [NotifyRule(on: [.failure], target: Self.hook)],
            retry: RetryPolicy(attempts: 2, backoffSeconds: 10))
        let h = try await SchedulerHarness.start(holding: true, schedules: [flaky])
        try await stopping(h) { h in
            let first = try await run(flaky, ending: .failed, h)
            try await h.waitForRuns("the retry stored") { $0.count == 2 }
            #expect(try await alerts(h).isEmpty, "a retry follows")
            h.clock.advance(by: 10)
            try await eventually("the retry started") { h.executor.started.count == 2 && h.executor.waitingCount == 1 }
            let retry = try #require(h.executor.started.last)
            #expect(retry.retryOf == first.id)
            h.executor.release(retry.id, as: .failed)
            try await h.waitForRuns("the retry failed") { $0.last?.state == .failed }
            let stored = try await alerts(count: 1, h)
            #expect(stored.map(\.runID) == [retry.id] && stored.first?.event == .failure)
            let payload = try #require(
                try JSONSerialization.jsonObject(with: Data(stored[0].payloadJSON.utf8)) as? [String: Any])
            #expect(payload["attempt"] as? Int == 2)
        }
    }

    @Test("a schedule's notify: [] silences the default; the default alerts the others; a crash's run alerts")
    func defaultsAndCrash() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("al-\(UUID()).sqlite").path
        let store = try SQLiteStore(path: path)
        let quiet = schedule("quiet", notify: [])
        let plain = schedule("plain", notify: nil)
        try await store.insertSchedule(quiet)
        try await store.insertSchedule(plain)
        var running = RunRecord(scheduleID: plain.id, workflow: "w", trigger: "manual", dedupeKey: "k")
        _ = try await store.insertRun(running)
        try await store.updateRuns([
            .started(id: running.id, at: Self.t0, rootSpanID: "00000000000000ab", rootStartNanos: 5)
        ])
        running.state = .running
        let h = try await SchedulerHarness.start(
            store: store, holding: true, notify: [NotifyRule(on: [.failure, .recovered], target: Self.hook)])
        try await stopping(h) { h in
            try await eventually("the interrupted run alerted") { try await alerts(h).count == 1 }
            #expect(try await alerts(h).first?.runID == running.id)
            _ = try await run(quiet, ending: .failed, h)
            // The plain schedule's success ends its streak: the recovery is the next alert, and the
            // quiet schedule's failure, ended before, made none.
            _ = try await run(plain, ending: .succeeded, h)
            let stored = try await alerts(count: 2, h)
            #expect(stored.map(\.scheduleName) == ["plain", "plain"], "notify: [] tells no one")
            #expect(stored.map(\.event) == [.failure, .recovered])
        }
    }
}
