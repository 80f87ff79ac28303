import Foundation
import Storage
import Testing

/// The schedule clauses.
extension StoreContract {
    /// A schedule with every field set, and one with every optional field empty, read back by id, by
    /// name and in the list exactly as they were inserted; unknown ids and names read as `nil`.
    public func scheduleRoundTrip() async throws {
        let store = try await makeStore()
        var full = ScheduleRecord(
            name: "nightly-backup", cron: "0 2 * * 1-5", timeZone: "Europe/Berlin", webhook: true,
            webhookScheme: .standard, webhookSecret: "whsec_c2VjcmV0", webhookSecretEnv: "BACKUP_HOOK_SECRET",
            workflow: "backup", inputJSON: #"{"target":"s3","keep":7}"#, overlap: .bufferOne,
            catchupWindowSeconds: 7200, catchupMode: .all, jitterSeconds: 30, timeoutSeconds: 900, paused: true,
            pauseNote: "paused for maintenance", remainingRuns: 3, source: "/etc/schedulerd/backup.yaml",
            lastFireSeconds: 1_717_196_400, createdAt: Self.instant(1_717_000_000_123),
            updatedAt: Self.instant(1_717_100_000_456))
        full.webhookPreviousSecret = "whsec_b2xk"
        full.webhookPreviousUntil = Self.instant(1_717_300_000_789)
        full.declaredRemainingRuns = 5
        full.dayMatch = "or"
        full.dstGap = "shift"
        full.dstFold = "both"
        // A manual schedule: neither cron nor webhook, nothing optional set; a name beyond ASCII.
        let bare = ScheduleRecord(
            name: "nächtlich ☾", cron: nil, workflow: "report", createdAt: Self.reference, updatedAt: Self.reference)
        try await store.insertSchedule(full)
        try await store.insertSchedule(bare)
        for record in [full, bare] {
            #expect(try await store.schedule(id: record.id) == record)
            #expect(try await store.schedule(named: record.name) == record)
        }
        // As a set: how names beyond ASCII sort is the database's collation, not the contract.
        #expect(Set(try await store.schedules()) == [full, bare])
        #expect(try await store.schedule(id: "sch_none") == nil)
        #expect(try await store.schedule(named: "none") == nil)
    }

    /// Inserting, replacing every field and deleting schedules; a second delete returns false; the list
    /// is ordered by name, whatever the order of insertion.
    public func scheduleLifecycle() async throws {
        let store = try await makeStore()
        #expect(try await store.schedules().isEmpty)
        let b = Self.schedule("b")
        let c = Self.schedule("c")
        let a = Self.schedule("a")
        for schedule in [b, c, a] { try await store.insertSchedule(schedule) }
        #expect(try await store.schedules().map(\.name) == ["a", "b", "c"])

        var renamed = b
        renamed.name = "d"
        renamed.cron = "*/5 * * * *"
        renamed.workflow = "other"
        renamed.paused = true
        renamed.updatedAt = Self.instant(1_717_200_060_000)
        try await store.updateSchedule(renamed)
        #expect(try await store.schedule(id: b.id) == renamed)
        #expect(try await store.schedule(named: "b") == nil)
        #expect(try await store.schedules().map(\.name) == ["a", "c", "d"])

        #expect(try await store.deleteSchedule(id: c.id))
        #expect(try await store.deleteSchedule(id: c.id) == false)
        #expect(try await store.schedule(id: c.id) == nil)
        #expect(try await store.schedules().map(\.id) == [a.id, b.id])
    }

    /// A second schedule with a taken name is refused with `.duplicateName`, and so is renaming a
    /// schedule to a taken name; neither changes what is stored.
    public func duplicateName() async throws {
        let store = try await makeStore()
        let first = Self.schedule("nightly")
        let other = Self.schedule("hourly")
        try await store.insertSchedule(first)
        try await store.insertSchedule(other)

        let insertError = await #expect(throws: StorageError.self) {
            try await store.insertSchedule(Self.schedule("nightly", workflow: "intruder"))
        }
        #expect(insertError?.code == .duplicateName)

        var renamed = other
        renamed.name = "nightly"
        let updateError = await #expect(throws: StorageError.self) { try await store.updateSchedule(renamed) }
        #expect(updateError?.code == .duplicateName)

        #expect(try await store.schedules() == [other, first])
    }

    /// Replacing a schedule whose id is not stored throws `.notFound` and stores nothing.
    public func updateMissingSchedule() async throws {
        let store = try await makeStore()
        let error = await #expect(throws: StorageError.self) {
            try await store.updateSchedule(Self.schedule("ghost"))
        }
        #expect(error?.code == .notFound)
        #expect(try await store.schedules().isEmpty)
    }

    /// Deleting a schedule keeps its runs, their `scheduleID` cleared, so their history stays readable.
    public func deleteScheduleKeepsRuns() async throws {
        let store = try await makeStore()
        let schedule = Self.schedule("gone")
        try await store.insertSchedule(schedule)
        let run = Self.run(schedule.id, dedupeKey: "k1", state: .succeeded)
        #expect(try await store.insertRun(run))
        #expect(try await store.deleteSchedule(id: schedule.id))
        let kept = try #require(try await store.run(id: run.id))
        #expect(kept.scheduleID == nil)
        #expect(kept.dedupeKey == "k1" && kept.state == .succeeded)
    }

    /// `applySchedules` deletes, replaces and inserts as one change: a name given up by a deleted or
    /// renamed schedule can be taken in the same call, and a call that fails anywhere changes nothing.
    public func applySchedulesAllOrNothing() async throws {
        let store = try await makeStore()
        let a = Self.schedule("a")
        let b = Self.schedule("b")
        let c = Self.schedule("c")
        try await store.applySchedules(insert: [a, b, c], update: [], delete: [])
        #expect(try await store.schedules().map(\.id) == [a.id, b.id, c.id])

        // "a" is deleted and b takes its name; a new schedule takes b's old name.
        var bAsA = b
        bAsA.name = "a"
        let d = Self.schedule("b")
        try await store.applySchedules(insert: [d], update: [bAsA], delete: [a.id])
        let afterSwap = try await store.schedules()
        #expect(afterSwap == [bAsA, d, c])

        // Fails on a taken name ("c"): the delete, the update and the other insert are undone.
        var changed = bAsA
        changed.workflow = "changed"
        let duplicate = await #expect(throws: StorageError.self) {
            try await store.applySchedules(
                insert: [Self.schedule("e"), Self.schedule("c")], update: [changed], delete: [d.id])
        }
        #expect(duplicate?.code == .duplicateName)
        #expect(try await store.schedules() == afterSwap)

        // Fails on a schedule that does not exist: the same.
        let missing = await #expect(throws: StorageError.self) {
            try await store.applySchedules(
                insert: [Self.schedule("f")], update: [changed, Self.schedule("ghost")], delete: [c.id])
        }
        #expect(missing?.code == .notFound)
        #expect(try await store.schedules() == afterSwap)
    }
}
