import Foundation
import Logging
import SchedulerTesting
import Storage
import Testing

@testable import Scheduling

/// The journal's group commit when the store refuses writes: changes kept across an outage, and a
/// change the store refuses for itself.
@Suite("The run journal", .timeLimit(.minutes(1)))
struct RunJournalTests {
    /// An end of `run`, succeeded now.
    static func end(_ run: RunRecord) -> RunUpdate {
        .finished(id: run.id, state: .succeeded, at: Date(), outputJSON: nil, error: nil, nodesJSON: nil)
    }

    @Test("a change the store refuses while it takes others holds back no later change, and is dropped with an error")
    func refusedChange() async throws {
        let base = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID()).sqlite").path)
        let poisoned = RunRecord(scheduleID: nil, workflow: "w", trigger: "manual")
        let others = (0..<3).map { _ in RunRecord(scheduleID: nil, workflow: "w", trigger: "manual") }
        _ = try await base.insertRuns([poisoned] + others)
        let store = OutageStore(base: base)
        store.refusing = [poisoned.id]
        let logs = LogCapture()
        let journal = RunJournal(store: store, logger: logs.logger())

        await #expect(throws: StorageError.self) { try await journal.write([Self.end(poisoned)]) }
        // While the refused end is kept, later changes of other runs are written: at first together
        // with it (and refused with it), then, after a few failures, without it.
        for run in others {
            try await eventually("a later run's end is written") {
                _ = try? await journal.write([Self.end(run)])
                return try await base.run(id: run.id)?.state == .succeeded
            }
        }
        try await eventually("the refused change is dropped") {
            !logs.matching(.error, "dropped a run change the store refuses").isEmpty
        }
        let dropped = try #require(logs.matching(.error, "dropped a run change the store refuses").first)
        #expect(dropped.metadata["run_id"] == poisoned.id && dropped.metadata["change"] == "finished")
        #expect(try await base.run(id: poisoned.id)?.state == .queued, "the run keeps its stored state")
    }

    @Test("kept changes are written once the store is back, and an outage drops none of them")
    func outage() async throws {
        let base = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID()).sqlite").path)
        let runs = (0..<3).map { _ in RunRecord(scheduleID: nil, workflow: "w", trigger: "manual") }
        _ = try await base.insertRuns(runs)
        let store = OutageStore(base: base)
        store.down = true
        let logs = LogCapture()
        let journal = RunJournal(store: store, logger: logs.logger())
        for run in runs {
            await #expect(throws: StorageError.self) { try await journal.write([Self.end(run)]) }
        }
        // Past the attempts together: kept changes are tried one at a time, and all fail alike.
        try await eventually("the kept changes are tried one at a time") { store.failures >= 3 + 3 }
        store.down = false
        try await eventually("every kept end is written") {
            var ended = true
            for run in runs where try await base.run(id: run.id)?.state != .succeeded { ended = false }
            return ended
        }
        #expect(logs.matching(.error, "dropped a run change").isEmpty)
        #expect(!logs.matching(.info, "run changes are stored again").isEmpty)
    }
}
