import Foundation
import PostgresStorage
import Storage
import StorageTesting
import Testing

/// `StoreCopy`: a daemon's SQLite file copied into an empty store, every record as it was.
@Suite("Copying a store into an empty one")
struct StoreCopyTests {
    /// A SQLite store with one of everything: schedules of each trigger (a webhook's secrets, a pause,
    /// a remaining-runs count, a cursor) and runs in every state, with payloads, output and nodes, one
    /// of a deleted schedule.
    static func filled() async throws -> SQLiteStore {
        let store = try SQLiteStore(path: Self.path())
        var nightly = ScheduleRecord(name: "nightly", cron: "0 2 * * *", timeZone: "Europe/Berlin", workflow: "w")
        nightly.paused = true
        nightly.pauseNote = "holidays"
        nightly.remainingRuns = 3
        nightly.lastFireSeconds = 1_733_277_600
        let hook = ScheduleRecord(
            name: "hook", cron: nil, webhook: true, webhookScheme: .standard, webhookSecret: "whsec_c2VjcmV0",
            workflow: "w")
        let gone = ScheduleRecord(name: "gone", cron: "* * * * *", workflow: "w")
        try await store.applySchedules(insert: [nightly, hook, gone], update: [], delete: [])

        let base = Date(timeIntervalSince1970: 1_733_300_000)
        var runs: [RunRecord] = []
        for (i, state) in RunState.allCases.enumerated() {
            var run = RunRecord(
                scheduleID: i % 2 == 0 ? nightly.id : hook.id, workflow: "w", trigger: i % 2 == 0 ? "cron" : "webhook",
                nominalTime: base, dedupeKey: "key-\(i)", state: state == .skipped ? .skipped : .queued,
                queuedAt: base.addingTimeInterval(Double(i)), inputJSON: #"{"i":\#(i)}"#,
                payload: i % 2 == 0 ? nil : Data("payload-\(i)".utf8))
            run.traceID = "tr-0123456789abcdef0123456789abcd\(String(format: "%02x", i))"
            if state == .skipped { run.error = "skipped: a run was going" }
            runs.append(run)
        }
        runs.append(RunRecord(scheduleID: gone.id, workflow: "w", trigger: "cron", dedupeKey: "gone-1", queuedAt: base))
        _ = try await store.writeRuns(insert: runs, update: [])
        var updates: [RunUpdate] = []
        for (run, state) in zip(runs, RunState.allCases) where state != .queued && state != .skipped {
            updates.append(
                .started(
                    id: run.id, at: run.queuedAt.addingTimeInterval(1), rootSpanID: "00000000000000aa",
                    rootStartNanos: 1_733_300_001_000_000_000))
            if state == .running {
                updates.append(.nodes(id: run.id, json: #"[{"node":"a"}]"#))
            } else {
                updates.append(
                    .finished(
                        id: run.id, state: state, at: run.queuedAt.addingTimeInterval(2), outputJSON: #"{"done":true}"#,
                        error: state == .succeeded ? nil : "it went \(state.rawValue)", nodesJSON: #"[{"node":"a"}]"#))
            }
        }
        try await store.updateRuns(updates)
        _ = try await store.deleteSchedule(id: gone.id)
        return store
    }

    static func path() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("copy-\(UUID().uuidString.prefix(8)).sqlite").path
    }

    /// The copy's promises, whatever the target's engine.
    static func check(_ source: SQLiteStore, _ target: any SchedulerStore) async throws {
        let summary = try await StoreCopy.copy(from: source, to: target)
        #expect(summary.schedules == 2)
        #expect(summary.runs == RunState.allCases.count + 1)
        #expect(try await target.schedules() == (try await source.schedules()))
        for run in try await source.runs(scheduleID: nil, limit: 100, before: nil) {
            #expect(try await target.run(id: run.id) == run, "\(run.id) \(run.state)")
        }
        // Dedupe keys came along: the same fire is not stored again.
        let first = try #require(try await source.runs(scheduleID: nil, limit: 100, before: nil).last)
        if let schedule = first.scheduleID, let key = first.dedupeKey {
            #expect(try await target.run(scheduleID: schedule, dedupeKey: key)?.id == first.id)
        }
        // A second copy finds the target full and writes nothing.
        await #expect(throws: StorageError.self) { try await StoreCopy.copy(from: source, to: target) }
        #expect(try await target.runs(scheduleID: nil, limit: 100, before: nil).count == summary.runs)
    }

    @Test("SQLite into an empty SQLite file: every schedule and run as it was; a full target is refused")
    func intoSQLite() async throws {
        try await Self.check(try await Self.filled(), try SQLiteStore(path: Self.path()))
    }

    @Test(
        "SQLite into an empty PostgreSQL database: every schedule and run as it was; a full target is refused",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func intoPostgreSQL() async throws {
        let source = try await Self.filled()
        try await PostgresTestDatabase.withStore(prefix: "copy") { target in
            try await Self.check(source, target)
        }
    }
}
