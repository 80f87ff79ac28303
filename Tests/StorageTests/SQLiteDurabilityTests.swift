import Foundation
import GRDB
import Synchronization
import Testing

@testable import Storage

/// What reaches the disk before a write returns: with ``SQLiteStore/Durability/full`` a write that
/// stores a promise (a new run, a schedule change) commits with `synchronous = FULL`, and every other
/// write with `NORMAL`; with `normal` none is synced.
@Suite("The SQLite store syncs the writes it promises")
struct SQLiteDurabilityTests {
    static func store(_ durability: SQLiteStore.Durability) throws -> SQLiteStore {
        try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("durability-\(UUID()).sqlite").path,
            durability: durability)
    }

    /// `synchronous` as the writer connection has it inside a write (1 is NORMAL, 2 is FULL).
    static func synchronous(_ store: SQLiteStore, durable: Bool) async throws -> Int {
        try await store.write(durable: durable) { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    @Test("full: a durable write commits with FULL, and the writes after it with NORMAL again")
    func full() async throws {
        let store = try Self.store(.full)
        #expect(store.durability == .full)
        #expect(try await Self.synchronous(store, durable: false) == 1)
        #expect(try await Self.synchronous(store, durable: true) == 2)
        #expect(try await Self.synchronous(store, durable: false) == 1)
        // A durable write whose body fails is rolled back, and leaves NORMAL behind too.
        await #expect(throws: StorageError.self) {
            try await store.write(durable: true) { _ in throw StorageError(code: .notFound, message: "no") }
        }
        #expect(try await Self.synchronous(store, durable: false) == 1)
    }

    @Test("normal: no write is synced at commit")
    func normal() async throws {
        let store = try Self.store(.normal)
        #expect(try await Self.synchronous(store, durable: true) == 1)
        #expect(try await Self.synchronous(store, durable: false) == 1)
    }

    @Test("under either durability, new runs and schedules store as before, dedupe keys too")
    func promisesStore() async throws {
        for durability in SQLiteStore.Durability.allCases {
            let store = try Self.store(durability)
            let schedule = ScheduleRecord(name: "nightly", cron: "0 2 * * *", workflow: "w")
            try await store.insertSchedule(schedule)
            let run = RunRecord(
                scheduleID: schedule.id, workflow: "w", trigger: "webhook", dedupeKey: "delivery-1", queuedAt: Date())
            #expect(try await store.insertRun(run))
            #expect(try await store.insertRun(run) == false, "the delivery's dedupe key is taken")
            #expect(try await store.run(id: run.id)?.state == .queued)
            #expect(try await Self.synchronous(store, durable: false) == 1)
        }
    }

    /// The statements the writer connection runs while `body` runs.
    static func traced(_ store: SQLiteStore, _ body: () async throws -> Void) async throws -> [String] {
        let statements = Mutex<[String]>([])
        try await store.pool.write { db in
            db.trace(options: .statement) { event in
                if case .statement(let statement) = event { statements.withLock { $0.append(statement.sql) } }
            }
        }
        try await body()
        try await store.pool.write { db in db.trace(options: .statement, nil) }
        return statements.withLock { $0 }
    }

    @Test(
        "full: new runs, fires and schedule changes commit with FULL; a run's start or end alone with NORMAL"
    )
    func whichWrites() async throws {
        let store = try Self.store(.full)
        let schedule = ScheduleRecord(name: "nightly", cron: "0 2 * * *", workflow: "w")
        let run = RunRecord(
            scheduleID: schedule.id, workflow: "w", trigger: "webhook", dedupeKey: "delivery-1", queuedAt: Date())
        let fire = RunRecord(
            scheduleID: schedule.id, workflow: "w", trigger: "cron", dedupeKey: "fire-1", queuedAt: Date())
        let durable: [(String, () async throws -> Void)] = [
            ("insertSchedule", { try await store.insertSchedule(schedule) }),
            ("updateSchedule", { try await store.updateSchedule(schedule) }),
            ("insertRun", { _ = try await store.insertRun(run) }),
            (
                "recordFires",
                { _ = try await store.recordFires([ScheduleFires(scheduleID: schedule.id, runs: [fire], cursor: 1)]) }
            ),
            (
                "writeRuns with a new run",
                {
                    _ = try await store.writeRuns(
                        insert: [RunRecord(scheduleID: nil, workflow: "w", trigger: "manual")], update: [])
                }
            ),
        ]
        for (name, write) in durable {
            let statements = try await Self.traced(store, write)
            #expect(statements.contains("PRAGMA synchronous = FULL"), "\(name): \(statements)")
        }
        let started = try await Self.traced(store) {
            _ = try await store.writeRuns(
                insert: [], update: [.started(id: run.id, at: Date(), rootSpanID: "r", rootStartNanos: 1, fence: nil)])
        }
        #expect(!started.contains("PRAGMA synchronous = FULL"), "\(started)")
        #expect(try await store.run(id: run.id)?.state == .running)
        #expect(try await Self.synchronous(store, durable: false) == 1)
    }
}
