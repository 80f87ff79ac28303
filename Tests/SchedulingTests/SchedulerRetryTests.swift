import ClockTesting
import Foundation
import SchedulerTesting
import Scheduling
import Storage
import Testing

/// Retries on a manual clock: the backoff and its jitter, the attempts counted and capped, which
/// ends are retried, the overlap policy, and retries that survive a restart or a crash.
@Suite("Scheduler retries on a manual clock")
struct SchedulerRetryTests {
    static let t0 = SchedulerHarness.epoch

    /// A schedule without cron or webhook (runs only when submitted), or with `cron`.
    func schedule(
        _ name: String, cron: String? = nil, overlap: OverlapPolicy = .allow, retry: RetryPolicy?
    ) -> ScheduleRecord {
        var record = ScheduleRecord(
            name: name, cron: cron, workflow: "w", overlap: overlap, createdAt: Self.t0, updatedAt: Self.t0)
        record.retry = retry
        return record
    }

    /// Submits a manual run of `schedule` and waits until the executor holds it.
    func submit(_ schedule: ScheduleRecord, _ h: SchedulerHarness) async throws -> RunRecord {
        // A run submitted before the scheduler opens waits for a slot to come free.
        try await eventually("the scheduler fires") { await h.scheduler.firing }
        let run = try #require(
            try await h.scheduler.submit(
                RunRecord(scheduleID: schedule.id, workflow: "w", trigger: "manual", queuedAt: h.clock.now()),
                overlap: schedule.overlap))
        try await started(count: h.executor.started.count + 1, h)
        return run
    }

    /// Waits until the executor has been given `count` runs, and holds the last.
    func started(count: Int, _ h: SchedulerHarness) async throws {
        try await eventually("\(count) runs started") {
            h.executor.started.count == count && h.executor.waitingCount == 1
        }
    }

    @Test("a failing run is retried after its backoff, doubling up to the cap, until the attempts run out")
    func retriesUntilLimit() async throws {
        let flaky = schedule(
            "flaky", retry: RetryPolicy(attempts: 3, backoffSeconds: 30, maxBackoffSeconds: 45))
        let h = try await SchedulerHarness.start(holding: true, schedules: [flaky])
        try await stopping(h) { h in
            let first = try await submit(flaky, h)
            h.executor.release(first.id, as: .failed)
            try await h.waitForRuns("the retry stored") { $0.count == 2 }
            let second = try #require(try await h.runs().last)
            #expect(second.state == .queued && second.fireAttempt == 2 && second.retryOf == first.id)
            #expect(second.notBefore == Self.t0.addingTimeInterval(30), "the whole backoff, jitter 0")
            #expect(second.dedupeKey == "retry:2:run:\(first.id)" && second.trigger == "manual")
            #expect(second.traceID != nil && second.traceID != first.traceID && second.retryOfTrace == first.traceID)

            try await h.advance(seconds: 29)
            #expect(h.executor.started.count == 1, "not before its backoff")
            // Once the retry starts nothing is left to sleep on the clock for: no settling.
            h.clock.advance(by: 1)
            try await started(count: 2, h)
            #expect(h.executor.started.last?.id == second.id)
            h.executor.release(second.id, as: .timedOut)
            try await h.waitForRuns("the second retry stored") { $0.count == 3 }
            let third = try #require(try await h.runs().last)
            #expect(
                third.fireAttempt == 3 && third.retryOf == second.id && third.dedupeKey == "retry:3:run:\(first.id)")
            #expect(third.notBefore == h.clock.now().addingTimeInterval(45), "60 s doubled, capped at 45 s")

            h.clock.advance(by: 45)
            try await started(count: 3, h)
            h.executor.release(third.id, as: .failed)
            try await h.waitForRuns("the last attempt ended") { $0.last?.state == .failed }
            try await eventually("nothing waits on the clock") { h.clock.nextDeadline == nil }
            let runs = try await h.runs()
            #expect(runs.map(\.state) == [.failed, .timedOut, .failed], "three attempts, then no more")
            #expect(runs.map(\.fireAttempt) == [1, 2, 3])
        }
    }

    @Test("the jitter takes at most half of the wait off, and the waits double up to the longest")
    func backoffBounds() {
        let policy = RetryPolicy(attempts: 10, backoffSeconds: 30, maxBackoffSeconds: 600)
        for attempt in 1...9 {
            let full = min(600, 30 * Double(1 << (attempt - 1)))
            for step in 0...100 {
                let wait = policy.delay(after: attempt, unit: Double(step) / 100)
                #expect(wait >= full / 2 && wait <= full, "attempt \(attempt), unit \(step)%: \(wait) s of \(full)")
            }
            #expect(policy.delay(after: attempt, unit: 0) == full)
            #expect(policy.delay(after: attempt, unit: 1) == full / 2)
        }
        #expect(policy.delay(after: 1_000, unit: 0) == 600, "no overflow far past the cap")
        #expect(!policy.retries(.cancelled, attempt: 1) && !policy.retries(.succeeded, attempt: 1))
        #expect(policy.retries(.interrupted, attempt: 9) && !policy.retries(.failed, attempt: 10))
    }

    @Test("a retry's dedupe key names its attempt and its fire, and takes no key a webhook sender may send")
    func retryKeys() {
        var delivery = RunRecord(scheduleID: "sch_x", workflow: "w", trigger: "webhook", dedupeKey: "hook:abc#2")
        #expect(delivery.fireKey == "hook:abc#2", "a first run's own key, whatever it holds")
        delivery.dedupeKey = "hook:abc"
        let key = RunRecord.retryKey(fire: delivery.fireKey, attempt: 2)
        #expect(key == "retry:2:hook:abc" && key != "hook:abc#2")
        var retry = RunRecord(scheduleID: "sch_x", workflow: "w", trigger: "webhook", dedupeKey: key)
        retry.fireAttempt = 2
        #expect(retry.fireKey == "hook:abc")
        var manual = RunRecord(id: "run_1", scheduleID: "sch_x", workflow: "w", trigger: "manual")
        #expect(manual.fireKey == "run:run_1")
        manual.dedupeKey = RunRecord.retryKey(fire: "run:run_0", attempt: 3)
        manual.fireAttempt = 3
        #expect(manual.fireKey == "run:run_0")
    }

    @Test("with jitter, the retry waits its backoff less a random share of its second half")
    func jitteredWait() async throws {
        let flaky = schedule("jittery", retry: RetryPolicy(attempts: 2, backoffSeconds: 40))
        let h = try await SchedulerHarness.start(holding: true, schedules: [flaky], retryJitter: 0.5)
        try await stopping(h) { h in
            let first = try await submit(flaky, h)
            h.executor.release(first.id, as: .failed)
            try await h.waitForRuns("the retry stored") { $0.count == 2 }
            #expect(try await h.runs().last?.notBefore == Self.t0.addingTimeInterval(30), "40 s less a quarter")
        }
    }

    @Test("cancelled and succeeded runs, and ends the policy does not name, are not retried")
    func notRetried() async throws {
        let failedOnly = schedule(
            "failed_only", retry: RetryPolicy(attempts: 5, backoffSeconds: 1, on: [.failed]))
        let h = try await SchedulerHarness.start(holding: true, schedules: [failedOnly])
        try await stopping(h) { h in
            let cancelled = try await submit(failedOnly, h)
            #expect(try await h.scheduler.cancel(runID: cancelled.id, reason: "stop") == .cancelling)
            try await h.waitForRuns("cancelled") { $0.last?.state == .cancelled }
            let succeeded = try await submit(failedOnly, h)
            h.executor.release(succeeded.id, as: .succeeded)
            try await h.waitForRuns("succeeded") { $0.last?.state == .succeeded }
            let timedOut = try await submit(failedOnly, h)
            h.executor.release(timedOut.id, as: .timedOut)
            try await h.waitForRuns("timed out") { $0.last?.state == .timedOut }
            try await eventually("nothing waits on the clock") { h.clock.nextDeadline == nil }
            h.clock.advance(by: 60)
            #expect(try await h.runs().map(\.state) == [.cancelled, .succeeded, .timedOut])
            #expect(h.executor.started.count == 3)
        }
    }

    @Test("overlap skip: a fire while a retry waits for its backoff is skipped, naming the retry")
    func overlapSkip() async throws {
        let minutely = schedule(
            "minutely", cron: "* * * * *", overlap: .skip, retry: RetryPolicy(attempts: 2, backoffSeconds: 90))
        let h = try await SchedulerHarness.start(holding: true, schedules: [minutely])
        try await stopping(h) { h in
            try await h.advance(to: Self.t0.addingTimeInterval(60))
            try await started(count: 1, h)
            let first = try #require(h.executor.started.first)
            h.executor.release(first.id, as: .failed)
            try await h.waitForRuns("the retry stored") { $0.count == 2 }
            let retry = try #require(try await h.runs().last)
            #expect(
                retry.notBefore == Self.t0.addingTimeInterval(150) && retry.dedupeKey == "retry:2:2024-01-01T00:01:00Z")

            try await h.advance(to: Self.t0.addingTimeInterval(120))
            try await h.waitForRuns("the next fire stored") { $0.count == 3 }
            let skipped = try #require(try await h.runs().last)
            #expect(skipped.state == .skipped && skipped.error?.contains(retry.id) == true)

            try await h.advance(to: Self.t0.addingTimeInterval(150))
            try await started(count: 2, h)
            #expect(h.executor.started.last?.id == retry.id)
            h.executor.release(retry.id, as: .succeeded)
            try await h.waitForRuns("the retry succeeded") { $0.first { $0.id == retry.id }?.state == .succeeded }
        }
    }

    @Test("a retry waiting for its backoff survives a restart, and runs when its backoff ends")
    func survivesRestart() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rt-\(UUID()).sqlite").path
        let store = try SQLiteStore(path: path)
        let flaky = schedule("restarted", retry: RetryPolicy(attempts: 2, backoffSeconds: 300))
        let h = try await SchedulerHarness.start(store: store, holding: true, schedules: [flaky])
        let first = try await submit(flaky, h)
        h.executor.release(first.id, as: .failed)
        try await h.waitForRuns("the retry stored") { $0.count == 2 }
        await h.stop()

        let later = Self.t0.addingTimeInterval(100)
        let again = try await SchedulerHarness.start(at: later, store: store, holding: true)
        try await stopping(again) { h in
            try await h.settle()
            #expect(h.executor.started.isEmpty, "still in its backoff")
            h.clock.advance(to: Self.t0.addingTimeInterval(300))
            try await started(count: 1, h)
            let retry = try #require(h.executor.started.first)
            #expect(retry.retryOf == first.id && retry.fireAttempt == 2)
            h.executor.release(retry.id, as: .failed)
            try await h.waitForRuns("the last attempt failed") { $0.last?.state == .failed }
            #expect(try await h.runs().count == 2, "two attempts: no third")
        }
    }

    @Test("a run a crash interrupted is retried at the next start, by the daemon's default policy")
    func interruptedByCrash() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ri-\(UUID()).sqlite").path
        let store = try SQLiteStore(path: path)
        let nightly = schedule("nightly", cron: "0 0 1 1 *", retry: nil)
        try await store.insertSchedule(nightly)
        var running = RunRecord(scheduleID: nightly.id, workflow: "w", trigger: "cron", dedupeKey: "k")
        running.traceID = "tr-00000000000000000000000000000abc"
        _ = try await store.insertRun(running)
        try await store.updateRuns([
            .started(id: running.id, at: Self.t0, rootSpanID: "00000000000000ab", rootStartNanos: 5)
        ])

        let h = try await SchedulerHarness.start(
            store: store, retry: RetryPolicy(attempts: 2, backoffSeconds: 10))
        try await stopping(h) { h in
            try await h.waitForRuns("interrupted, and retried") { runs in
                runs.first { $0.id == running.id }?.state == .interrupted && runs.count == 2
            }
            let retry = try #require(try await h.runs().last)
            #expect(retry.retryOf == running.id && retry.fireAttempt == 2 && retry.trigger == "cron")
            #expect(retry.dedupeKey == "retry:2:k" && retry.retryOfTrace == running.traceID)
            #expect(retry.notBefore == Self.t0.addingTimeInterval(10) && retry.state == .queued)
            try await h.advance(seconds: 10)
            try await h.waitForRuns("the retry ran") { $0.last?.state == .succeeded }
        }
    }
}
