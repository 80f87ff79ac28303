import Foundation
import Storage
import Testing

/// The schedule revision clause.
extension StoreContract {
    /// The revision stays while nothing changes, and changes when a schedule is inserted, replaced,
    /// fired (its cursor moves) or deleted.
    public func scheduleRevision() async throws {
        let store = try await makeStore()
        let empty = try await store.scheduleRevision()
        #expect(empty == (try await store.scheduleRevision()))
        #expect(empty.count == 0)

        var nightly = Self.schedule("nightly")
        try await store.insertSchedule(nightly)
        let inserted = try await store.scheduleRevision()
        #expect(inserted != empty && inserted.count == 1)
        #expect(inserted == (try await store.scheduleRevision()), "reading changes nothing")

        nightly.pauseNote = "holidays"
        nightly.paused = true
        nightly.updatedAt = nightly.updatedAt.addingTimeInterval(5)
        try await store.updateSchedule(nightly)
        let updated = try await store.scheduleRevision()
        #expect(updated != inserted)

        _ = try await store.recordFires([
            ScheduleFires(scheduleID: nightly.id, runs: [], cursor: 1_717_200_060)
        ])
        let fired = try await store.scheduleRevision()
        #expect(fired != updated, "a fire moves the cursor, which peers must see")

        let other = Self.schedule("other")
        try await store.insertSchedule(other)
        let two = try await store.scheduleRevision()
        #expect(two.count == 2)
        #expect(try await store.deleteSchedule(id: other.id))
        let deleted = try await store.scheduleRevision()
        #expect(deleted.count == 1 && deleted != two)
    }
}
