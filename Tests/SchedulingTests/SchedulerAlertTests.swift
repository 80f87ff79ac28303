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

    @Test("a run going past its expected duration alerts overdue once, while it runs")
    func overdue() async throws {
        var slow = schedule("slow", notify: [NotifyRule(on: [.overdue], target: Self.hook)])
        slow.expectedDurationSeconds = 60
        let h = try await SchedulerHarness.start(holding: true, schedules: [slow])
        try await stopping(h) { h in
            try await eventually("the scheduler fires") { await h.scheduler.firing }
            let run = try #require(
                try await h.scheduler.submit(
                    RunRecord(scheduleID: slow.id, workflow: "w", trigger: "manual", queuedAt: h.clock.now())))
            try await eventually("the run is held, its overdue timer set") {
                h.executor.waitingCount == 1 && h.clock.nextDeadline == Self.t0.addingTimeInterval(60)
            }
            h.clock.advance(by: 59)
            #expect(try await alerts(h).isEmpty)
            h.clock.advance(by: 1)
            let stored = try await alerts(count: 1, h)
            #expect(stored.first?.event == .overdue && stored.first?.runID == run.id)
            let payload = try #require(
                try JSONSerialization.jsonObject(with: Data(stored[0].payloadJSON.utf8)) as? [String: Any])
            #expect(payload["state"] as? String == "running" && payload["expected_duration_seconds"] as? Int == 60)
            #expect(try await h.store.run(id: run.id)?.state == .running, "the run goes on")
            h.executor.release(run.id, as: .succeeded)
            try await h.waitForRuns("the run ended") { $0.first?.state == .succeeded }
            #expect(try await alerts(h).count == 1)
        }
    }

    @Test("fires that fell in a downtime beyond the catch-up window alert missed; without a target they are recorded")
    func missedInDowntime() async throws {
        var told = ScheduleRecord(
            name: "told", cron: "* * * * *", workflow: "w", overlap: .allow, catchupWindowSeconds: 120,
            catchupMode: .latest, createdAt: Self.t0, updatedAt: Self.t0)
        told.notify = [NotifyRule(on: [.missed], target: Self.hook)]
        var untold = told
        untold.id = SortableID.make("sch")
        untold.name = "untold"
        untold.notify = []
        // The daemon starts an hour after the schedules' last fire.
        let h = try await SchedulerHarness.start(
            at: Self.t0.addingTimeInterval(3600), schedules: [told, untold])
        try await stopping(h) { h in
            let stored = try await alerts(count: 2, h)
            let byName = Dictionary(uniqueKeysWithValues: stored.map { ($0.scheduleName, $0) })
            #expect(byName["told"]?.state == .pending && byName["told"]?.event == .missed)
            #expect(byName["untold"]?.state == .recorded && byName["untold"]?.targetJSON == "{}")
            let toldAlert = try #require(byName["told"])
            let payload = try #require(
                try JSONSerialization.jsonObject(with: Data(toldAlert.payloadJSON.utf8)) as? [String: Any])
            #expect(payload["first_missed"] as? String == "2024-01-01T00:01:00Z")
            #expect(payload["missed_count_is_lower_bound"] as? Bool == true)
            #expect((payload["reason"] as? String)?.contains("catch-up window") == true, "\(payload)")
            // The latest missed fire inside the window still runs, and the one on time, per schedule.
            try await h.waitForRuns("the catch-up and on-time runs") { runs in
                runs.count == 4 && runs.filter { $0.trigger == "catchup" }.count == 2
            }
            #expect(try await h.store.claimAlerts(now: h.clock.now(), lease: .seconds(60), limit: 10).count == 1)
        }
    }

    @Test("three fires in a row skipped by the overlap policy alert missed, once per streak")
    func missedBySkips() async throws {
        var minutely = ScheduleRecord(
            name: "minutely", cron: "* * * * *", workflow: "w", overlap: .skip, createdAt: Self.t0, updatedAt: Self.t0)
        minutely.notify = [NotifyRule(on: [.missed], target: Self.hook)]
        let h = try await SchedulerHarness.start(holding: true, schedules: [minutely])
        try await stopping(h) { h in
            try await h.advance(to: Self.t0.addingTimeInterval(60))
            try await eventually("the first run is held") { h.executor.waitingCount == 1 }
            for minute in 2...3 { try await h.advance(to: Self.t0.addingTimeInterval(Double(60 * minute))) }
            try await h.waitForRuns("two skipped") { $0.filter { $0.state == .skipped }.count == 2 }
            #expect(try await alerts(h).isEmpty, "two skips are not yet missed")
            for minute in 4...5 { try await h.advance(to: Self.t0.addingTimeInterval(Double(60 * minute))) }
            try await h.waitForRuns("four skipped") { $0.filter { $0.state == .skipped }.count == 4 }
            let stored = try await alerts(count: 1, h)
            #expect(stored.first?.event == .missed && stored.first?.scheduleName == "minutely")
            let payload = try #require(
                try JSONSerialization.jsonObject(with: Data(stored[0].payloadJSON.utf8)) as? [String: Any])
            #expect((payload["reason"] as? String)?.hasPrefix("3 fires in a row were skipped") == true, "\(payload)")
        }
    }

    @Test("a run waiting for a slot past the limit alerts missed for its schedule, once until its runs start")
    func stuckQueued() async throws {
        let busy = schedule("busy", notify: [NotifyRule(on: [.missed], target: Self.hook)])
        let h = try await SchedulerHarness.start(
            holding: true, maxConcurrentRuns: 1, schedules: [busy], queuedTooLong: .seconds(600))
        try await stopping(h) { h in
            try await eventually("the scheduler fires") { await h.scheduler.firing }
            var ids: [String] = []
            for _ in 0..<3 {
                let run = try #require(
                    try await h.scheduler.submit(
                        RunRecord(scheduleID: busy.id, workflow: "w", trigger: "manual", queuedAt: h.clock.now())))
                ids.append(run.id)
            }
            try await eventually("one runs, two wait, the timer set for the first to wait too long") {
                h.executor.waitingCount == 1 && h.clock.nextDeadline == Self.t0.addingTimeInterval(600)
            }
            h.clock.advance(by: 599)
            #expect(try await alerts(h).isEmpty)
            h.clock.advance(by: 1)
            let stored = try await alerts(count: 1, h)
            #expect(stored.first?.event == .missed && stored.first?.runID == ids[1], "the schedule's first stuck run")
            let payload = try #require(
                try JSONSerialization.jsonObject(with: Data(stored[0].payloadJSON.utf8)) as? [String: Any])
            #expect(
                (payload["reason"] as? String)?.hasPrefix("a run has waited 600 s for a slot") == true, "\(payload)")
            h.executor.release(ids[0], as: .succeeded)
            try await eventually("the second run started") {
                h.executor.started.count == 2 && h.executor.waitingCount == 1
            }
            #expect(try await alerts(h).count == 1, "the third run waits as long, for the same schedule")
        }
    }
}
