import Foundation
import GRDB
import Logging
import Scheduling
import Testing

@testable import Storage

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

    @Test("a database from before manual schedules keeps its schedules and runs, and then takes a manual one")
    func manualMigration() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mig-\(UUID()).sqlite").path
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
        #expect(schedules.map(\.name) == ["nightly", "push"])
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

    @Test(
        "old finished runs are deleted in batches; running, queued and recent runs stay; the pruner removes artifacts")
    func retention() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ret-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("db.sqlite").path)
        let now = Date()
        let day: TimeInterval = 86_400
        func run(_ daysAgo: Double, _ state: RunState, finished: Bool = true) async throws -> String {
            let made = now.addingTimeInterval(-daysAgo * day)
            var record = RunRecord(
                id: SortableID.lowest("run", at: made).dropLast(4) + String(format: "%04d", Int(daysAgo * 10)),
                scheduleID: nil, workflow: "w", trigger: "manual", state: state, queuedAt: made)
            if finished { record.finishedAt = made.addingTimeInterval(60) }
            #expect(try await store.insertRun(record))
            return record.id
        }
        let old = [
            try await run(40, .succeeded), try await run(39, .failed), try await run(38, .skipped),
            try await run(37, .interrupted),
        ]
        let oldRunning = try await run(36, .running, finished: false)
        let oldQueued = try await run(35, .queued, finished: false)
        let recent = try await run(2, .succeeded)
        let cutoff = now.addingTimeInterval(-30 * day)
        #expect(try await store.deleteRuns(finishedBefore: cutoff, limit: 3) == Array(old.prefix(3)))
        for id in old.prefix(3) { #expect(try await store.run(id: id) == nil) }

        // The pruner takes the rest, and each deleted run's artifact folder.
        let artifacts = directory.appendingPathComponent("artifacts")
        for id in [old[3], recent] {
            try FileManager.default.createDirectory(
                at: artifacts.appendingPathComponent("\(id)/report"), withIntermediateDirectories: true)
        }
        let pruner = RunPruner(
            store: store, retention: .seconds(30 * 86_400), artifacts: artifacts, logger: Logger(label: "test"))
        #expect(await pruner.prune(now: now) == 1)
        #expect(try await store.run(id: old[3]) == nil)
        #expect(!FileManager.default.fileExists(atPath: artifacts.appendingPathComponent(old[3]).path))
        #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent(recent).path))
        for id in [oldRunning, oldQueued, recent] { #expect(try await store.run(id: id) != nil) }
        #expect(await pruner.prune(now: now) == 0)
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
