import Foundation
import Storage
import Testing

/// The clauses that keep a fire from running twice: dedupe keys and the timer's batches.
extension StoreContract {
    /// `recordFires` stores a tick's runs for several schedules at once: a dedupe key the schedule has
    /// already (stored before, or earlier in the same call) is left out, while the same key in another
    /// schedule is not; each cursor moves forward only; remaining runs are set as given; a pause note
    /// pauses the schedule, and a later tick without one keeps the pause and its note.
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
            ScheduleFires(scheduleID: a.id, runs: [runA], cursor: 60, remainingRuns: 0, pauseNote: "no runs left"),
            ScheduleFires(
                scheduleID: b.id, runs: [again, runB, twice], cursor: 120, remainingRuns: nil, pauseNote: nil),
        ])
        #expect(stored == RunWriteResult(stored: [runA.id, runB.id]))
        #expect(Set(try await store.runs(scheduleID: b.id, limit: 10, before: nil).map(\.id)) == [old.id, runB.id])
        #expect(try await store.run(scheduleID: b.id, dedupeKey: "k1")?.id == old.id)
        #expect(try await store.run(scheduleID: b.id, dedupeKey: "k2")?.id == runB.id)
        #expect(try await store.run(scheduleID: a.id, dedupeKey: "k1")?.id == runA.id)

        let pausedA = try #require(try await store.schedule(id: a.id))
        #expect(pausedA.lastFireSeconds == 60 && pausedA.remainingRuns == 0)
        #expect(pausedA.paused && pausedA.pauseNote == "no runs left")
        let movedB = try #require(try await store.schedule(id: b.id))
        #expect(movedB.lastFireSeconds == 120 && !movedB.paused && movedB.pauseNote == nil)

        // A cursor never moves back; a tick without a note leaves a pause as it is.
        #expect(
            try await store.recordFires([
                ScheduleFires(scheduleID: a.id, runs: [], cursor: 180, remainingRuns: nil, pauseNote: nil),
                ScheduleFires(scheduleID: b.id, runs: [], cursor: 30, remainingRuns: 4, pauseNote: nil),
            ]) == RunWriteResult())
        let laterA = try #require(try await store.schedule(id: a.id))
        #expect(laterA.lastFireSeconds == 180 && laterA.remainingRuns == nil)
        #expect(laterA.paused && laterA.pauseNote == "no runs left")
        let laterB = try #require(try await store.schedule(id: b.id))
        #expect(laterB.lastFireSeconds == 120 && laterB.remainingRuns == 4)
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
                ScheduleFires(scheduleID: a.id, runs: [fine], cursor: 60, remainingRuns: nil, pauseNote: nil),
                ScheduleFires(scheduleID: b.id, runs: [clash], cursor: 60, remainingRuns: nil, pauseNote: "x"),
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
