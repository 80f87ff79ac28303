import Foundation
import Storage
import Testing

/// The clauses that keep a fire from running twice: dedupe keys and the timer's batches.
extension StoreContract {
    /// `recordFires` stores a tick's runs for several schedules at once: a dedupe key the schedule has
    /// already (stored before, or earlier in the same call) is left out, while the same key in another
    /// schedule is not; each cursor moves forward only; a queued run stored counts against the stored
    /// remaining runs, and the last one pauses the schedule, which a later tick leaves paused.
    public func recordFiresDedupe() async throws {
        let store = try await makeStore()
        let a = Self.schedule("a", remainingRuns: 1)
        let b = Self.schedule("b")
        try await store.applySchedules(insert: [a, b], update: [], delete: [])
        let old = Self.run(b.id, dedupeKey: "k1")
        #expect(try await store.insertRun(old))

        let runA = Self.run(a.id, dedupeKey: "k1")
        let again = Self.run(b.id, dedupeKey: "k1")
        let runB = Self.run(b.id, dedupeKey: "k2")
        let twice = Self.run(b.id, dedupeKey: "k2")
        let stored = try await store.recordFires([
            ScheduleFires(scheduleID: a.id, runs: [runA], cursor: 60),
            ScheduleFires(
                scheduleID: b.id, runs: [again, runB, twice], cursor: 120),
        ])
        #expect(stored == RunWriteResult(stored: [runA.id, runB.id], remaining: [a.id: 0]))
        #expect(Set(try await store.runs(scheduleID: b.id, limit: 10, before: nil).map(\.id)) == [old.id, runB.id])
        #expect(try await store.run(scheduleID: b.id, dedupeKey: "k1")?.id == old.id)
        #expect(try await store.run(scheduleID: b.id, dedupeKey: "k2")?.id == runB.id)
        #expect(try await store.run(scheduleID: a.id, dedupeKey: "k1")?.id == runA.id)

        let pausedA = try #require(try await store.schedule(id: a.id))
        #expect(pausedA.lastFireSeconds == 60 && pausedA.remainingRuns == 0)
        #expect(pausedA.paused && pausedA.pauseNote == ScheduleFires.lastRunPauseNote)
        let movedB = try #require(try await store.schedule(id: b.id))
        #expect(movedB.lastFireSeconds == 120 && !movedB.paused && movedB.pauseNote == nil)

        // A cursor never moves back; a later tick leaves the pause and the count as they are.
        #expect(
            try await store.recordFires([
                ScheduleFires(scheduleID: a.id, runs: [], cursor: 180),
                ScheduleFires(scheduleID: b.id, runs: [], cursor: 30),
            ]) == RunWriteResult(remaining: [a.id: 0]))
        let laterA = try #require(try await store.schedule(id: a.id))
        #expect(laterA.lastFireSeconds == 180 && laterA.remainingRuns == 0)
        #expect(laterA.paused && laterA.pauseNote == ScheduleFires.lastRunPauseNote)
        let laterB = try #require(try await store.schedule(id: b.id))
        #expect(laterB.lastFireSeconds == 120 && laterB.remainingRuns == nil)
    }

    /// `recordFires` decides by the schedule's row as stored, not by the caller's copy, which may be
    /// behind another daemon's writes: a run for a fire at or before the stored cursor is left out (it
    /// was handled), queued runs past the stored remaining runs are left out, skipped runs are written
    /// whatever the count, and the run that takes the last one pauses the schedule.
    public func recordFiresCountsStored() async throws {
        let store = try await makeStore()
        let limited = Self.schedule("limited", remainingRuns: 2)
        try await store.applySchedules(insert: [limited], update: [], delete: [])
        let fire = { (second: Int64, state: RunState) in
            var run = Self.run(limited.id, dedupeKey: "k\(second)", state: state)
            run.nominalTime = Date(timeIntervalSince1970: TimeInterval(second))
            return run
        }
        let first = fire(60, .queued)
        #expect(
            try await store.recordFires([ScheduleFires(scheduleID: limited.id, runs: [first], cursor: 60)])
                == RunWriteResult(stored: [first.id], remaining: [limited.id: 1]))

        // A daemon behind: it plans the fire at 60 again under another key, a skipped fire, and three
        // queued ones, as if two runs were left.
        let handled = fire(60, .queued)
        var skipped = fire(90, .skipped)
        skipped.error = "skipped here"
        let second = fire(120, .queued)
        let third = fire(180, .queued)
        let fourth = fire(240, .queued)
        let result = try await store.recordFires([
            ScheduleFires(scheduleID: limited.id, runs: [handled, skipped, second, third, fourth], cursor: 240)
        ])
        #expect(result == RunWriteResult(stored: [skipped.id, second.id], remaining: [limited.id: 0]))
        #expect(try await store.run(id: handled.id) == nil)
        #expect(try await store.run(id: third.id) == nil)
        #expect(try await store.run(id: fourth.id) == nil)
        let row = try #require(try await store.schedule(id: limited.id))
        #expect(row.lastFireSeconds == 240 && row.remainingRuns == 0)
        #expect(row.paused && row.pauseNote == ScheduleFires.lastRunPauseNote)
    }

    /// `recordFires` is one transaction: when one run of the tick cannot be stored (its id is taken),
    /// no run of the tick is stored and no cursor moves.
    public func recordFiresAllOrNothing() async throws {
        let store = try await makeStore()
        let a = Self.schedule("a")
        let b = Self.schedule("b")
        try await store.applySchedules(insert: [a, b], update: [], delete: [])
        let manual = Self.run(nil)
        #expect(try await store.insertRun(manual))

        let fine = Self.run(a.id, dedupeKey: "k1")
        let clash = Self.run(b.id, dedupeKey: "k1", id: manual.id)
        await #expect(throws: StorageError.self) {
            try await store.recordFires([
                ScheduleFires(scheduleID: a.id, runs: [fine], cursor: 60),
                ScheduleFires(scheduleID: b.id, runs: [clash], cursor: 60),
            ])
        }
        #expect(try await store.run(id: fine.id) == nil)
        #expect(try await store.run(scheduleID: a.id, dedupeKey: "k1") == nil)
        #expect(try await store.run(scheduleID: b.id, dedupeKey: "k1") == nil)
        #expect(try await store.schedule(id: a.id) == a)
        #expect(try await store.schedule(id: b.id) == b)
        #expect(try await store.run(id: manual.id) == manual)
    }

    /// `insertRun` stores a schedule's dedupe key once: the second run with it is refused (false) and
    /// the first stays as it was. The same key in another schedule is another fire, and runs without
    /// a key (manual runs, runs of no schedule) never collide. `run(scheduleID:dedupeKey:)` finds the
    /// stored run.
    public func insertRunDedupe() async throws {
        let store = try await makeStore()
        let a = Self.schedule("a")
        let b = Self.schedule("b")
        try await store.applySchedules(insert: [a, b], update: [], delete: [])

        let first = Self.run(a.id, dedupeKey: "2024-06-01T00:00:00Z")
        #expect(try await store.insertRun(first))
        var second = Self.run(a.id, dedupeKey: first.dedupeKey, state: .skipped)
        second.error = "a second delivery"
        #expect(try await store.insertRun(second) == false)
        #expect(try await store.run(id: second.id) == nil)
        #expect(try await store.run(scheduleID: a.id, dedupeKey: "2024-06-01T00:00:00Z") == first)
        #expect(try await store.run(scheduleID: a.id, dedupeKey: "another") == nil)
        #expect(try await store.run(scheduleID: b.id, dedupeKey: "2024-06-01T00:00:00Z") == nil)

        #expect(try await store.insertRun(Self.run(b.id, dedupeKey: "2024-06-01T00:00:00Z")))
        for run in [Self.run(a.id), Self.run(a.id), Self.run(nil), Self.run(nil)] {
            #expect(try await store.insertRun(run))
        }
        #expect(try await store.runs(scheduleID: a.id, limit: 10, before: nil).count == 3)
        #expect(try await store.runs(scheduleID: nil, limit: 10, before: nil).count == 6)
    }
}
