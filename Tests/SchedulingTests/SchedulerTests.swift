import ClockTesting
import Foundation
import SchedulerTesting
import Scheduling
import Storage
import Testing

/// The scheduler on a manual clock: on-time fires, overlap policies, catch-up modes, DST days, the
/// global limit, jitter, remaining runs and recovery.
@Suite("Scheduler on a manual clock")
struct SchedulerTests {
    static let t0 = SchedulerHarness.epoch

    func schedule(
        // Overlap allow unless a test is about overlap: on a busy machine a run may still be going when the
        // test moves the clock to the next fire, and skip would then (rightly) skip that fire.
        _ name: String, cron: String, zone: String = "UTC", overlap: OverlapPolicy = .allow,
        catchupWindow: Int = 3600, catchup: CatchupMode = .latest, jitter: Int = 0, remaining: Int? = nil,
        created: Date = t0
    ) -> ScheduleRecord {
        ScheduleRecord(
            name: name, cron: cron, timeZone: zone, workflow: "w", overlap: overlap,
            catchupWindowSeconds: catchupWindow, catchupMode: catchup, jitterSeconds: jitter, remainingRuns: remaining,
            createdAt: created, updatedAt: created)
    }

    @Test("an every-minute schedule fires at each minute, once, with its nominal time and dedupe key")
    func everyMinute() async throws {
        let h = try await SchedulerHarness.start(schedules: [schedule("minutely", cron: "* * * * *")])
        try await stopping(h) { h in
            for minute in 1...3 { try await h.advance(to: Self.t0.addingTimeInterval(Double(60 * minute))) }
            try await h.waitForRuns("3 finished runs") { $0.count == 3 && $0.allSatisfy { $0.state == .succeeded } }
            let runs = try await h.runs()
            #expect(runs.map(\.trigger) == ["cron", "cron", "cron"])
            #expect(runs.map(\.nominalTime) == [60, 120, 180].map { Self.t0.addingTimeInterval($0) })
            // Every-minute covers the whole day: interval-like, so keyed by the UTC instant.
            #expect(runs.map(\.dedupeKey) == ["2024-01-01T00:01:00Z", "2024-01-01T00:02:00Z", "2024-01-01T00:03:00Z"])
            #expect(runs.allSatisfy { $0.startedAt != nil && $0.finishedAt != nil })
            // The trace id is chosen when the fire is stored, the root span's id and start before the run
            // starts; the executor gets exactly those.
            let given = Dictionary(uniqueKeysWithValues: h.executor.started.map { ($0.id, $0) })
            for run in runs {
                #expect(run.traceID?.count == 35 && run.traceID?.hasPrefix("tr-") == true)
                #expect(run.rootSpanID?.count == 16 && run.rootStartNanos != nil)
                #expect(given[run.id]?.traceID == run.traceID)
                #expect(given[run.id]?.rootSpanID == run.rootSpanID)
                #expect(given[run.id]?.rootStartNanos == run.rootStartNanos)
            }
        }
    }

    @Test("schedules due in the same second: the one with the shortest period is stored and started first")
    func shortestPeriodFirst() async throws {
        // 300 schedules whose first fire is a minute after they were made, and one every ten seconds,
        // all due at t0 + 60; one slot, so the runs start one at a time in the order they were stored.
        // (Released once, the executor holds no run after that: each ends as it starts.)
        let burst = (0..<300).map { schedule("daily-\($0)", cron: "1 0 * * *") }
        let ticker = schedule("ticker", cron: "*/10 * * * * *", created: Self.t0.addingTimeInterval(45))
        let h = try await SchedulerHarness.start(
            holding: true, maxConcurrentRuns: 1, schedules: burst + [ticker])
        try await stopping(h) { h in
            try await h.advance(to: Self.t0.addingTimeInterval(50))
            try await eventually("the ticker's fire at +50 s runs") { h.executor.started.count == 1 }
            h.executor.releaseAll()
            try await h.waitForRuns("the fire at +50 s ended") { $0.count == 1 && $0.allSatisfy(\.state.isFinal) }
            // Its next fire is 10 s after this one; the others' first is 60 s after they were made.
            try await h.advance(to: Self.t0.addingTimeInterval(60))
            // Released, the executor holds no run any more: they all run, one after the other.
            try await h.waitForRuns("every run of the tick at +60 s ended") {
                $0.count == 302 && $0.allSatisfy(\.state.isFinal)
            }
            #expect(h.executor.started[1].scheduleID == ticker.id, "\(h.executor.started[1].scheduleID ?? "-")")
        }
    }

    @Test("a burst larger than one stored batch: every schedule fires once, its cursor moves, every run ends")
    func burstOverSeveralBatches() async throws {
        // Five batches of the timer (32, 64, 128, 256 schedules, then the rest), each planned while
        // the one before is stored.
        let count = 2 * 256 + 88
        let schedules = (0..<count).map { schedule("burst-\($0)", cron: "* * * * *") }
        let h = try await SchedulerHarness.start(schedules: schedules)
        try await stopping(h) { h in
            let minute = Self.t0.addingTimeInterval(60)
            try await h.advance(to: minute)
            try await h.waitForRuns("a finished run for every schedule") {
                $0.count == count && $0.allSatisfy { $0.state == .succeeded }
            }
            let runs = try await h.runs()
            #expect(Set(runs.compactMap(\.scheduleID)) == Set(schedules.map(\.id)))
            #expect(runs.allSatisfy { $0.nominalTime == minute })
            let stored = try await h.store.schedules()
            #expect(stored.allSatisfy { $0.lastFireSeconds == Int64(minute.timeIntervalSince1970) })
        }
    }

    @Test("overlap skip: a fire while the previous run goes on is stored as skipped, with the reason")
    func overlapSkip() async throws {
        let h = try await SchedulerHarness.start(
            holding: true, schedules: [schedule("s", cron: "* * * * *", overlap: .skip)])
        try await stopping(h) { h in
            try await h.advance(seconds: 60)
            try await h.waitForRuns("the first run starts") { $0.first?.state == .running }
            try await h.advance(seconds: 60)
            try await h.waitForRuns("the second fire is skipped") { $0.count == 2 }
            let runs = try await h.runs()
            #expect(runs.map(\.state) == [.running, .skipped])
            #expect(runs[1].error == "skipped: run \(runs[0].id) of this schedule was still going (overlap: skip)")
            #expect(h.executor.started.count == 1)
        }
    }

    @Test("overlap allow: runs of the same schedule go side by side")
    func overlapAllow() async throws {
        let h = try await SchedulerHarness.start(
            holding: true, schedules: [schedule("a", cron: "* * * * *", overlap: .allow)])
        try await stopping(h) { h in
            try await h.advance(seconds: 60)
            try await h.advance(seconds: 60)
            try await h.waitForRuns("two running") { $0.count == 2 && $0.allSatisfy { $0.state == .running } }
            // A run is stored as running just before the executor is handed it.
            try await eventually(timeout: .seconds(60), "the executor has both runs") {
                h.executor.started.count == 2
            }
        }
    }

    @Test("overlap buffer-one: one fire waits for the running run, a third is skipped")
    func overlapBufferOne() async throws {
        let h = try await SchedulerHarness.start(
            holding: true, schedules: [schedule("b", cron: "* * * * *", overlap: .bufferOne)])
        try await stopping(h) { h in
            try await h.advance(seconds: 60)
            try await h.waitForRuns("the first run starts") { $0.first?.state == .running }
            try await h.advance(seconds: 60)
            try await h.advance(seconds: 60)
            try await h.waitForRuns("three fires stored") { $0.count == 3 }
            var runs = try await h.runs()
            #expect(runs.map(\.state) == [.running, .queued, .skipped])
            #expect(runs[2].error == "skipped: a run of this schedule was already waiting (overlap: buffer-one)")
            h.executor.release(runs[0].id)
            try await h.waitForRuns("the buffered run starts") { $0[1].state == .running }
            runs = try await h.runs()
            #expect(runs[0].state == .succeeded)
            // The run is stored as running just before the executor is handed it.
            try await eventually(timeout: .seconds(60), "the executor has the buffered run") {
                h.executor.started.count == 2
            }
            #expect(h.executor.started.map(\.id) == [runs[0].id, runs[1].id])
        }
    }

    @Test("overlap cancel-other: a new fire cancels the running run, then runs")
    func overlapCancelOther() async throws {
        let h = try await SchedulerHarness.start(
            holding: true, schedules: [schedule("c", cron: "* * * * *", overlap: .cancelOther)])
        try await stopping(h) { h in
            try await h.advance(seconds: 60)
            try await h.waitForRuns("the first run starts") { $0.first?.state == .running }
            try await h.advance(seconds: 60)
            try await h.waitForRuns("the first is cancelled and the second runs") {
                $0.map(\.state) == [.cancelled, .running]
            }
        }
    }

    @Test("catch-up latest: after three hours down, only the latest missed fire in the window runs, tagged catchup")
    func catchupLatest() async throws {
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("cl-\(UUID()).sqlite").path)
        try await store.insertSchedule(schedule("l", cron: "*/10 * * * *", catchupWindow: 3600, catchup: .latest))
        let h = try await SchedulerHarness.start(at: Self.t0.addingTimeInterval(3 * 3600 + 5 * 60), store: store)
        try await stopping(h) { h in
            try await h.waitForRuns("one catch-up run") { $0.count == 1 && $0[0].state == .succeeded }
            let run = try #require(try await h.runs().first)
            #expect(run.trigger == "catchup")
            #expect(run.nominalTime == Self.t0.addingTimeInterval(3 * 3600))
            // The next fire is on time again.
            try await h.advance(to: Self.t0.addingTimeInterval(3 * 3600 + 10 * 60))
            try await h.waitForRuns("the next fire") { $0.count == 2 }
            #expect(try await h.runs().last?.trigger == "cron")
        }
    }

    @Test("catch-up all: every missed fire inside the window, oldest first; none: nothing")
    func catchupAllAndNone() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID()).sqlite").path
        let store = try SQLiteStore(path: path)
        // Overlap allow: with skip, the missed fires would be stored but skipped while the first runs.
        try await store.insertSchedule(
            schedule("all", cron: "*/10 * * * *", overlap: .allow, catchupWindow: 3600, catchup: .all))
        try await store.insertSchedule(schedule("none", cron: "*/10 * * * *", catchupWindow: 3600, catchup: .none))
        // Down from t0 to t0+3h05m: the window (1 h) plus the 60 s threshold reaches back to 2:04, so the
        // fires at 2:10 … 3:00 are missed and within reach: six of them.
        let h = try await SchedulerHarness.start(at: Self.t0.addingTimeInterval(3 * 3600 + 5 * 60), store: store)
        try await stopping(h) { h in
            try await h.waitForRuns("six catch-up runs") { $0.count == 6 && $0.allSatisfy { $0.state == .succeeded } }
            let runs = try await h.runs()
            let all = try #require(try await store.schedule(named: "all"))
            #expect(runs.allSatisfy { $0.scheduleID == all.id && $0.trigger == "catchup" })
            #expect(
                runs.compactMap(\.nominalTime).sorted()
                    == (0..<6).map { Self.t0.addingTimeInterval(2 * 3600 + 10 * 60 + Double($0 * 600)) })
        }
    }

    @Test(
        "catch-up all meets the overlap policy within one tick: skip keeps the oldest, buffer-one one more, cancel-other the newest"
    )
    func catchupAllWithOverlap() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("co-\(UUID()).sqlite").path
        let store = try SQLiteStore(path: path)
        for (name, policy) in [("skip", OverlapPolicy.skip), ("buffer", .bufferOne), ("cancel", .cancelOther)] {
            try await store.insertSchedule(
                schedule(name, cron: "*/10 * * * *", overlap: policy, catchupWindow: 3600, catchup: .all))
        }
        // Three missed fires each (0:10, 0:20, 0:30), all stored in the first tick.
        let h = try await SchedulerHarness.start(at: Self.t0.addingTimeInterval(35 * 60), store: store, holding: true)
        try await stopping(h) { h in
            func states(_ name: String) async throws -> [String] {
                let id = try #require(try await store.schedule(named: name)).id
                return try await h.runs().filter { $0.scheduleID == id }.sorted { $0.nominalTime! < $1.nominalTime! }
                    .map(\.state.rawValue)
            }
            try await h.waitForRuns("nine runs stored, three running") {
                $0.count == 9 && $0.filter { $0.state == .running }.count == 3
            }
            #expect(try await states("skip") == ["running", "skipped", "skipped"])
            #expect(try await states("cancel") == ["cancelled", "cancelled", "running"])
            let skipped = try await h.runs().filter { $0.state == .skipped }
            #expect(skipped.count == 3)
            let cancelled = try await h.runs().filter { $0.state == .cancelled }
            #expect(
                cancelled.allSatisfy {
                    $0.error == "cancelled before it started: a newer fire replaced it (overlap: cancel-other)"
                })
            // buffer-one: the oldest runs, the next waits for it, the third is skipped.
            #expect(try await states("buffer") == ["running", "queued", "skipped"])
            h.executor.releaseAll()
            try await h.waitForRuns("the buffered fire ran after the first") {
                $0.filter { $0.state == .succeeded }.count == 4
            }
            #expect(try await states("buffer") == ["succeeded", "succeeded", "skipped"])
        }
    }

    @Test("a restart on the same store runs no fire twice, and runs the one missed while down")
    func restartDedupe() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rd-\(UUID()).sqlite").path
        let store = try SQLiteStore(path: path)
        let first = try await SchedulerHarness.start(store: store, schedules: [schedule("r", cron: "* * * * *")])
        try await first.advance(seconds: 60)
        try await first.advance(seconds: 60)
        try await first.waitForRuns("two runs") { $0.count == 2 && $0.allSatisfy { $0.state == .succeeded } }
        await first.stop()
        // Restart at the same moment, then later: no duplicates, the missed minute caught up once.
        let second = try await SchedulerHarness.start(at: Self.t0.addingTimeInterval(120), store: store)
        try await second.advance(to: Self.t0.addingTimeInterval(300))
        try await second.waitForRuns("four runs") { $0.count >= 3 }
        await second.stop()
        let runs = try await second.runs()
        #expect(Set(runs.compactMap(\.dedupeKey)).count == runs.count)
        #expect(runs.compactMap(\.nominalTime).max() == Self.t0.addingTimeInterval(300))
    }

    @Test("the global limit: five due at once, two run, three wait queued, all finish in turn")
    func globalLimit() async throws {
        let schedules = (0..<5).map { schedule("g\($0)", cron: "* * * * *") }
        let h = try await SchedulerHarness.start(holding: true, maxConcurrentRuns: 2, schedules: schedules)
        try await stopping(h) { h in
            try await h.advance(seconds: 60)
            try await h.waitForRuns("two running, three queued") {
                $0.filter { $0.state == .running }.count == 2 && $0.filter { $0.state == .queued }.count == 3
            }
            #expect(await h.scheduler.load == (running: 2, queued: 3))
            h.executor.releaseAll()
            try await h.waitForRuns("all five done") { $0.count == 5 && $0.allSatisfy { $0.state == .succeeded } }
        }
    }

    @Test("jitter: a run starts at its fire plus a delay that is the same every time")
    func jitter() async throws {
        let s = schedule("j", cron: "5 0 * * *", jitter: 30)
        let h = try await SchedulerHarness.start(schedules: [s])
        try await stopping(h) { h in
            let delay = Jitter.delay(scheduleID: s.id, dedupeKey: "2024-01-01T00:05", limit: 30)
            #expect(delay == Jitter.delay(scheduleID: s.id, dedupeKey: "2024-01-01T00:05", limit: 30))
            #expect((0...30).contains(delay))
            try await h.advance(seconds: 300)
            try await h.waitForRuns("the run is stored") { $0.count == 1 }
            #expect(try await h.runs().first?.dedupeKey == "2024-01-01T00:05")
            if delay > 0 {
                #expect(try await h.runs().first?.state == .queued)
                #expect(try await h.runs().first?.notBefore == Self.t0.addingTimeInterval(300 + Double(delay)))
                try await h.advance(seconds: Double(delay))
            }
            try await h.waitForRuns("the run ran") { $0.first?.state == .succeeded }
        }
    }

    @Test("jitter longer than the gap between fires stays before the next fire")
    func jitterCapped() async throws {
        let s = schedule("jc", cron: "* * * * *", jitter: 3600)
        let h = try await SchedulerHarness.start(schedules: [s])
        try await stopping(h) { h in
            try await h.advance(seconds: 60)
            try await h.waitForRuns("the run is stored") { $0.count == 1 }
            let run = try #require(try await h.runs().first)
            let delay = Jitter.delay(scheduleID: s.id, dedupeKey: run.dedupeKey ?? "", limit: 59)
            #expect((0...59).contains(delay))
            #expect((run.notBefore ?? Self.t0.addingTimeInterval(60)) == Self.t0.addingTimeInterval(60 + Double(delay)))
        }
    }

    @Test("loaded and firing (what /readyz reports) once started, and no longer firing once stopped")
    func firing() async throws {
        let h = try await SchedulerHarness.start(schedules: [schedule("f", cron: "0 0 1 1 *")])
        #expect(h.scheduler.schedule("f") != nil || !h.scheduler.loaded)
        try await eventually("the scheduler has started") { await h.scheduler.firing }
        // Loaded: a name it does not know is not stored either (webhooks answer 404 without a read).
        #expect(h.scheduler.loaded)
        #expect(h.scheduler.schedule("f")?.name == "f")
        await h.stop()
        #expect(await h.scheduler.firing == false)
    }

    @Test("remaining runs: the schedule pauses itself after its last run, with a note")
    func remainingRuns() async throws {
        let h = try await SchedulerHarness.start(schedules: [schedule("twice", cron: "* * * * *", remaining: 2)])
        try await stopping(h) { h in
            try await h.advance(seconds: 60)
            // The second fire pauses the schedule, so the scheduler has nothing to sleep until: no settle.
            h.clock.advance(by: 60)
            try await h.waitForRuns("two runs") { $0.count == 2 }
            try await eventually("the schedule pauses") { try await h.store.schedule(named: "twice")?.paused == true }
            let stored = try #require(try await h.store.schedule(named: "twice"))
            #expect(stored.paused)
            #expect(stored.remainingRuns == 0)
            #expect(stored.pauseNote == "paused after its last remaining run")
            // Paused: the scheduler no longer sleeps on the clock for it, so later minutes add nothing.
            try await eventually("the scheduler sleeps on no deadline") { h.clock.nextDeadline == nil }
            h.clock.advance(by: 600)
            #expect(h.clock.nextDeadline == nil)
            #expect(try await h.runs().count == 2)
        }
    }

    @Test("remaining runs: the stored count decides when this daemon's copy is behind, and it takes the stored count")
    func remainingRunsStoredCount() async throws {
        let h = try await SchedulerHarness.start(schedules: [schedule("counted", cron: "* * * * *", remaining: 3)])
        try await stopping(h) { h in
            // Another daemon used two of the three runs; this one has not heard (no change notice here).
            var stored = try #require(try await h.store.schedule(named: "counted"))
            stored.remainingRuns = 1
            try await h.store.updateSchedule(stored)
            // Its one fire takes the last run, which pauses the schedule: nothing left to sleep until.
            h.clock.advance(by: 60)
            try await h.waitForRuns("one run") { $0.count == 1 }
            try await eventually("this daemon's copy is paused") { h.scheduler.schedule(stored.id)?.paused == true }
            let copy = try #require(h.scheduler.schedule(stored.id))
            #expect(copy.remainingRuns == 0 && copy.pauseNote == ScheduleFires.lastRunPauseNote)
            let row = try #require(try await h.store.schedule(id: stored.id))
            #expect(row.paused && row.remainingRuns == 0)
            try await eventually("the scheduler sleeps on no deadline") { h.clock.nextDeadline == nil }
            h.clock.advance(by: 600)
            #expect(try await h.runs().count == 1)
        }
    }

    @Test("at start, a run left running is interrupted (its trace closed) and a queued run is resumed")
    func recovery() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rc-\(UUID()).sqlite").path
        let store = try SQLiteStore(path: path)
        let s = schedule("rec", cron: "0 0 1 1 *")
        try await store.insertSchedule(s)
        var running = RunRecord(scheduleID: s.id, workflow: "w", trigger: "cron", dedupeKey: "a")
        running.traceID = "tr-0123"
        _ = try await store.insertRun(running)
        try await store.updateRuns([
            .started(id: running.id, at: Self.t0, rootSpanID: "00000000000000ab", rootStartNanos: 5)
        ])
        let queued = RunRecord(scheduleID: s.id, workflow: "w", trigger: "manual", dedupeKey: "b")
        _ = try await store.insertRun(queued)

        let h = try await SchedulerHarness.start(store: store)
        try await stopping(h) { h in
            try await h.waitForRuns("recovered") {
                $0.first { $0.id == running.id }?.state == .interrupted
                    && $0.first { $0.id == queued.id }?.state == .succeeded
            }
            #expect(h.executor.interrupted.map(\.id) == [running.id])
            #expect(h.executor.interrupted.first?.rootSpanID == "00000000000000ab")
            let interrupted = try #require(try await store.run(id: running.id))
            #expect(interrupted.error == "the daemon stopped while this run was going; found at the next start")
        }
    }

    @Test("a schedule deleted from the store is gone from the webhooks' lookup after a reload or a re-read")
    func lookupForgetsDeleted() async throws {
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("lk-\(UUID()).sqlite").path)
        let kept = schedule("kept", cron: "0 0 1 1 *")
        let reloaded = schedule("reloaded", cron: "0 0 1 1 *")
        let reread = schedule("reread", cron: "0 0 1 1 *")
        for s in [kept, reloaded, reread] { try await store.insertSchedule(s) }
        let h = try await SchedulerHarness.start(store: store)
        try await stopping(h) { h in
            for s in [kept, reloaded, reread] {
                #expect(h.scheduler.schedule(s.name)?.id == s.id)
                #expect(h.scheduler.schedule(s.id)?.name == s.name)
            }
            #expect(try await store.deleteSchedule(id: reloaded.id))
            try await h.scheduler.reload()
            #expect(try await store.deleteSchedule(id: reread.id))
            try await h.scheduler.scheduleChanged(id: reread.id)
            for s in [reloaded, reread] {
                #expect(h.scheduler.schedule(s.name) == nil, "\(s.name) is still found by name")
                #expect(h.scheduler.schedule(s.id) == nil, "\(s.name) is still found by id")
            }
            #expect(h.scheduler.schedule(kept.name)?.id == kept.id)
        }
    }
}
