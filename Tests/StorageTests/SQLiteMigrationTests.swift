import Foundation
import GRDB
import Testing

@testable import Storage

@Suite("The SQLite store's migrations")
struct SQLiteMigrationTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mig-\(UUID()).sqlite").path
    }

    @Test("the migrations keep the names existing databases recorded, in order")
    func names() throws {
        let queue = try DatabaseQueue()
        try SQLiteMigrations.migrator.migrate(queue)
        let applied = try queue.read { try SQLiteMigrations.migrator.appliedMigrations($0) }
        #expect(
            applied == [
                "v1: schedules and runs", "v2: webhook schemes and secret rotation", "v3: manual schedules",
                "v4: declared remaining runs, day match and DST overrides", "v5: instances",
                "v6: run owners and attempts", "v7: retries", "v8: alerts", "v9: ended runs",
            ])
    }

    @Test("a database a newer version migrated is refused, saying so, and left as it was")
    func newerSchema() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try SQLiteStore(path: path)
        let queue = try DatabaseQueue(path: path)
        try queue.write {
            try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
        }
        /// The schema and the migrations recorded.
        func schema() throws -> [String] {
            try queue.read { db in
                try String.fetchAll(db, sql: "SELECT coalesce(sql, name) FROM sqlite_master ORDER BY name")
                    + String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier")
            }
        }
        let before = try schema()
        let error = #expect(throws: StorageError.self) { try SQLiteStore(path: path) }
        #expect(error?.code == .newerSchema)
        #expect(error?.message.contains("was changed by a newer schedulerd") == true, "\(String(describing: error))")
        #expect(try schema() == before)
    }

    @Test("a database from before manual schedules keeps its schedules and runs, and then takes a manual one")
    func manualMigration() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let queue = try DatabaseQueue(path: path)
            try SQLiteMigrations.migrator.migrate(queue, upTo: "v2: webhook schemes and secret rotation")
            try await queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO schedule (id, name, cron, time_zone, webhook, workflow, overlap,
                            catchup_window_seconds, catchup_mode, created_at_ms, updated_at_ms, webhook_scheme)
                        VALUES ('sch_a', 'nightly', '0 2 * * *', 'Europe/Berlin', 0, 'w', 'skip', 3600, 'latest', 1, 2, NULL),
                               ('sch_b', 'push', NULL, 'UTC', 1, 'w', 'allow', 0, 'none', 1, 2, 'github');
                        INSERT INTO run (id, schedule_id, workflow, trigger, state, queued_at_ms)
                        VALUES ('run_1', 'sch_a', 'w', 'cron', 'succeeded', 5);
                        """)
                #expect(throws: DatabaseError.self) {
                    try db.execute(
                        sql: """
                            INSERT INTO schedule (id, name, time_zone, webhook, workflow, overlap,
                                catchup_window_seconds, catchup_mode, created_at_ms, updated_at_ms)
                            VALUES ('sch_m', 'm', 'UTC', 0, 'w', 'skip', 0, 'none', 1, 1)
                            """)
                }
            }
        }
        let store = try SQLiteStore(path: path)
        let schedules = try await store.schedules().sorted { $0.id < $1.id }
        try #require(schedules.map(\.name) == ["nightly", "push"])
        #expect(schedules[0].cron == "0 2 * * *" && schedules[0].timeZone == "Europe/Berlin")
        #expect(schedules[1].webhook && schedules[1].webhookScheme == .github)
        let manual = ScheduleRecord(name: "checkup", cron: nil, workflow: "w")
        try await store.insertSchedule(manual)
        #expect(try await store.schedule(id: manual.id)?.cron == nil)
        // The run still points at its schedule, and deleting the schedule still keeps the run.
        #expect(try await store.run(id: "run_1")?.scheduleID == "sch_a")
        #expect(try await store.deleteSchedule(id: "sch_a"))
        #expect(try await store.run(id: "run_1")?.scheduleID == nil)
    }
}
