import Foundation
import Storage
import Testing

@Suite("The store's ids and batches")
struct StoreTests {
    @Test("ids made in a row are strictly increasing, even within one millisecond, and keep the ULID layout")
    func sortableIDs() {
        let ids = (0..<20_000).map { _ in SortableID.make("run") }
        #expect(zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        let alphabet = Set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        #expect(
            ids.allSatisfy { $0.count == 30 && $0.hasPrefix("run_") && $0.dropFirst(4).allSatisfy(alphabet.contains) })
        // Several ids share a millisecond (20,000 take far less than 20 s), and still differ.
        #expect(Set(ids.map { $0.prefix(14) }).count < ids.count)
        #expect(Set(ids).count == ids.count)
    }

    @Test("a tick's fires are stored in one batch: a repeated dedupe key is left out, cursors move, a pause is kept")
    func recordFires() async throws {
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID()).sqlite").path)
        let a = ScheduleRecord(name: "a", cron: "* * * * *", workflow: "w", remainingRuns: 1)
        let b = ScheduleRecord(name: "b", cron: "* * * * *", workflow: "w")
        try await store.applySchedules(insert: [a, b], update: [], delete: [])
        let old = RunRecord(scheduleID: b.id, workflow: "w", trigger: "cron", dedupeKey: "k1")
        #expect(try await store.insertRun(old))
        let runA = RunRecord(scheduleID: a.id, workflow: "w", trigger: "cron", dedupeKey: "k1")
        let again = RunRecord(scheduleID: b.id, workflow: "w", trigger: "cron", dedupeKey: "k1")
        let runB = RunRecord(scheduleID: b.id, workflow: "w", trigger: "cron", dedupeKey: "k2")
        let stored = try await store.recordFires([
            ScheduleFires(scheduleID: a.id, runs: [runA], cursor: 60, remainingRuns: 0, pauseNote: "done"),
            ScheduleFires(scheduleID: b.id, runs: [again, runB], cursor: 120, remainingRuns: nil, pauseNote: nil),
        ])
        #expect(stored == [runA.id, runB.id])
        let runs = try await store.runs(scheduleID: b.id, limit: 10, before: nil)
        #expect(Set(runs.map(\.id)) == [old.id, runB.id])
        let storedA = try #require(try await store.schedule(id: a.id))
        #expect(
            storedA.lastFireSeconds == 60 && storedA.paused && storedA.pauseNote == "done" && storedA.remainingRuns == 0
        )
        // The cursor never moves back.
        _ = try await store.recordFires([
            ScheduleFires(scheduleID: b.id, runs: [], cursor: 30, remainingRuns: nil, pauseNote: nil)
        ])
        #expect(try await store.schedule(id: b.id)?.lastFireSeconds == 120)
    }

    @Test("run changes apply in order: started, nodes, finished")
    func updateRuns() async throws {
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("su-\(UUID()).sqlite").path)
        let run = RunRecord(scheduleID: nil, workflow: "w", trigger: "manual")
        #expect(try await store.insertRun(run))
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        try await store.updateRuns([
            .started(id: run.id, at: at, rootSpanID: "00000000000000ab", rootStartNanos: 7),
            .nodes(id: run.id, json: "[1]"),
            .finished(
                id: run.id, state: .failed, at: at.addingTimeInterval(2), outputJSON: "{}", error: "boom",
                nodesJSON: nil),
        ])
        let stored = try #require(try await store.run(id: run.id))
        #expect(stored.state == .failed && stored.startedAt == at && stored.finishedAt == at.addingTimeInterval(2))
        #expect(stored.rootSpanID == "00000000000000ab" && stored.rootStartNanos == 7)
        #expect(stored.nodesJSON == "[1]" && stored.error == "boom" && stored.outputJSON == "{}")
    }
}
