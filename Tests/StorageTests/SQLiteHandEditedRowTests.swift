import Foundation
import GRDB
import Testing

@testable import Storage

/// A database edited by hand (or by another program) can hold what the store never writes. Reading it
/// must not stop the daemon: a value of the wrong type is a thrown error, and what the store can make
/// sense of still reads.
@Suite("The SQLite store reads a hand-edited database without trapping")
struct SQLiteHandEditedRowTests {
    /// A store holding one webhook schedule with a secret and one run of it, and a second connection to
    /// the same file to edit it behind the store's back.
    struct Fixture {
        let store: SQLiteStore
        let editor: DatabaseQueue
        let schedule: ScheduleRecord
        let run: RunRecord
        let directory: URL

        static let secret = "whsec_ZG8tbm90LXByaW50LW1l"

        init() async throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("edited-\(UUID())")
            let path = directory.appendingPathComponent("schedulerd.sqlite").path
            store = try SQLiteStore(path: path)
            schedule = ScheduleRecord(
                name: "hook", cron: nil, webhook: true, webhookScheme: .standard, webhookSecret: Self.secret,
                workflow: "w")
            try await store.insertSchedule(schedule)
            run = RunRecord(
                scheduleID: schedule.id, workflow: "w", trigger: "webhook", dedupeKey: "delivery-1",
                payload: Data(Self.secret.utf8))
            #expect(try await store.insertRun(run))
            editor = try DatabaseQueue(path: path)
        }

        func edit(_ sql: String) async throws {
            try await editor.write { db in try db.execute(sql: sql) }
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    /// One edit that leaves a value no Swift property of its column can hold.
    struct WrongType: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let sql: String
        let table: String
    }

    static let wrongTypes = [
        WrongType(
            testDescription: "text in a run's time column", sql: "UPDATE run SET queued_at_ms = 'yesterday'",
            table: "run"),
        WrongType(
            testDescription: "a blob that is not UTF-8 in a run's text column",
            sql: "UPDATE run SET workflow = x'ff00fe'", table: "run"),
        WrongType(
            testDescription: "text in a schedule's count column",
            sql: "UPDATE schedule SET catchup_window_seconds = 'an hour'", table: "schedule"),
        WrongType(
            testDescription: "text in a schedule's flag", sql: "UPDATE schedule SET paused = 'maybe'",
            table: "schedule"),
        WrongType(
            testDescription: "text in a schedule's time column",
            sql: "UPDATE schedule SET created_at_ms = 'noon'", table: "schedule"),
    ]

    @Test(
        "a value of the wrong type is a thrown database error that names the row but shows none of its values",
        arguments: wrongTypes)
    func wrongType(_ edit: WrongType) async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        try await fixture.edit(edit.sql)
        let store = fixture.store
        let runID = fixture.run.id
        let scheduleID = fixture.schedule.id
        let id = edit.table == "run" ? runID : scheduleID
        let reads: [@Sendable () async throws -> Void] =
            edit.table == "run"
            ? [
                { _ = try await store.run(id: runID) },
                { _ = try await store.run(scheduleID: scheduleID, dedupeKey: "delivery-1") },
                { _ = try await store.runs(scheduleID: nil, limit: 10, before: nil) },
                { _ = try await store.runs(in: [.queued]) },
                { _ = try await store.latestRuns() },
            ]
            : [
                { _ = try await store.schedule(id: scheduleID) },
                { _ = try await store.schedule(named: "hook") },
                { _ = try await store.schedules() },
            ]
        for read in reads {
            let error = await #expect(throws: StorageError.self) { try await read() }
            #expect(error?.code == .database)
            #expect(error?.message.contains(id) == true)
            #expect(error?.message.contains(Fixture.secret) == false)
        }
        // The other table still reads.
        if edit.table == "run" {
            #expect(try await store.schedule(id: fixture.schedule.id) == fixture.schedule.settingMilliseconds())
        } else {
            #expect(try await store.run(id: fixture.run.id)?.id == fixture.run.id)
        }
    }

    @Test("a state, policy or scheme this version does not know reads as the default, as before")
    func unknownNames() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        try await fixture.edit(
            """
            UPDATE run SET state = 'paused';
            UPDATE schedule SET overlap = 'sometimes', catchup_mode = 'never', webhook_scheme = 'pigeon';
            """)
        let run = try #require(try await fixture.store.run(id: fixture.run.id))
        #expect(run.state == .failed)
        #expect(try await fixture.store.runCounts().isEmpty)
        let schedule = try #require(try await fixture.store.schedule(id: fixture.schedule.id))
        #expect(schedule.overlap == .skip && schedule.catchupMode == .latest && schedule.webhookScheme == nil)
    }

    @Test("times at the ends of the integer range read, and write back, without trapping")
    func extremeTimes() async throws {
        let fixture = try await Fixture()
        defer { fixture.remove() }
        try await fixture.edit(
            """
            UPDATE schedule SET webhook_previous_until_ms = 9223372036854775807, created_at_ms = -9223372036854775808;
            UPDATE run SET queued_at_ms = 9223372036854775807, nominal_time_ms = -9223372036854775808;
            """)
        let schedule = try #require(try await fixture.store.schedule(id: fixture.schedule.id))
        #expect(try #require(schedule.webhookPreviousUntil) > Date.distantFuture)
        try await fixture.store.updateSchedule(schedule)
        #expect(try await fixture.store.schedule(id: schedule.id)?.createdAt == schedule.createdAt)
        let run = try #require(try await fixture.store.run(id: fixture.run.id))
        #expect(run.queuedAt > Date.distantFuture)
        #expect(try #require(run.nominalTime) < Date.distantPast)
    }
}

extension ScheduleRecord {
    /// This schedule with its times cut to whole milliseconds, as the store keeps them.
    fileprivate func settingMilliseconds() -> ScheduleRecord {
        var copy = self
        copy.createdAt = Date(milliseconds: createdAt.milliseconds)
        copy.updatedAt = Date(milliseconds: updatedAt.milliseconds)
        return copy
    }
}
