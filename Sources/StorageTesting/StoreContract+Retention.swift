import Foundation
import Storage
import Testing

/// The retention clause.
extension StoreContract {
    /// `deleteRuns(finishedBefore:limit:)` deletes only runs in a final state (every final state) whose
    /// end is strictly before the cutoff, oldest first, at most `limit` per call, and returns their ids
    /// in that order. Queued and running runs stay however old, and so do runs that began before the
    /// cutoff but ended at or after it. Large batches behave the same.
    public func deleteFinishedRuns() async throws {
        let store = try await makeStore()
        let cutoff = Self.reference
        let day: TimeInterval = 86_400
        var serial = 0
        /// A run made `daysBeforeCutoff` before the cutoff, ended a minute later unless `endsAt` is given.
        func run(_ daysBeforeCutoff: Double, _ state: RunState, endsAt end: Date? = nil) -> RunRecord {
            serial += 1
            let made = cutoff.addingTimeInterval(-daysBeforeCutoff * day)
            var record = RunRecord(
                id: Self.runID(madeAt: made, serial: serial), scheduleID: nil, workflow: "w", trigger: "manual",
                state: state, queuedAt: made)
            if state.isFinal { record.finishedAt = end ?? made.addingTimeInterval(60) }
            return record
        }
        var skippedWithoutEnd = run(38, .skipped)
        skippedWithoutEnd.finishedAt = nil  // ends when it was queued
        let old = [
            run(40, .succeeded), run(39, .failed), skippedWithoutEnd, run(37, .interrupted), run(36.5, .cancelled),
            run(36, .timedOut),
        ]
        let staying = [
            run(45, .running), run(44, .queued),
            run(31, .succeeded, endsAt: cutoff.addingTimeInterval(day)),
            run(1.0 / 24, .failed, endsAt: cutoff),
            run(-2, .succeeded),
        ]
        #expect(try await store.insertRuns(staying + old).count == old.count + staying.count)

        #expect(try await store.deleteRuns(finishedBefore: cutoff, limit: 4) == old.prefix(4).map(\.id))
        for id in old.prefix(4).map(\.id) { #expect(try await store.run(id: id) == nil) }
        #expect(try await store.deleteRuns(finishedBefore: cutoff, limit: 100) == old.suffix(2).map(\.id))
        #expect(try await store.deleteRuns(finishedBefore: cutoff, limit: 100).isEmpty)
        for record in staying { #expect(try await store.run(id: record.id)?.id == record.id) }

        // Many at once: the oldest `limit` of them, in order.
        let many = (0..<1200).map { i in run(300 - Double(i) / 10, .succeeded) }
        _ = try await store.writeRuns(insert: many.shuffled(), update: [])
        #expect(try await store.deleteRuns(finishedBefore: cutoff, limit: 1100) == many.prefix(1100).map(\.id))
        #expect(try await store.deleteRuns(finishedBefore: cutoff, limit: 1100) == many.suffix(100).map(\.id))
        #expect(try await store.runs(scheduleID: nil, limit: 100, before: nil).count == staying.count)
    }
}
