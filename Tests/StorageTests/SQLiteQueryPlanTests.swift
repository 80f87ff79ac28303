import Foundation
import GRDB
import Synchronization
import Testing

@testable import Storage

/// The queries a daemon runs every second, or at every start, must not read every run: a store
/// keeps a month of history, a million runs or more. Each statement the store runs for a claim, a
/// lease check and a hand-back is traced, and SQLite's plan for it read back.
@Suite("The SQLite store's recurring queries use the indexes")
struct SQLiteQueryPlanTests {
    @Test("claimQueued, expireLeases and releaseQueued search the in-flight index, never scan the runs")
    func inFlightIndex() async throws {
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("plans-\(UUID()).sqlite").path)
        // Finished runs, so that SQLite's planner has a table worth an index to look at.
        let finished = (0..<200).map { _ in
            RunRecord(scheduleID: nil, workflow: "w", trigger: "manual", state: .succeeded, queuedAt: Date())
        }
        _ = try await store.writeRuns(insert: finished, update: [])
        try await store.pool.write { db in try db.execute(sql: "ANALYZE") }

        let statements = Mutex<[String]>([])
        try await store.pool.write { db in
            db.trace(options: .statement) { event in
                if case .statement(let statement) = event { statements.withLock { $0.append(statement.expandedSQL) } }
            }
        }
        _ = try await store.claimQueued(owner: "ins_a", limit: 10)
        _ = try await store.expireLeases(silence: .seconds(30), sparing: "ins_a", error: "gone")
        _ = try await store.releaseQueued(owner: "ins_a")
        try await store.pool.write { db in db.trace(options: .statement, nil) }

        let onRuns = statements.withLock { $0 }.filter {
            ($0.hasPrefix("SELECT") || $0.hasPrefix("UPDATE")) && $0.contains("FROM run") || $0.hasPrefix("UPDATE run")
        }
        #expect(onRuns.count >= 4, "\(onRuns)")
        for sql in onRuns {
            let plan = try await store.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }
            }
            #expect(
                !plan.contains { $0 == "SCAN run" || $0.hasPrefix("SCAN run USING") },
                "\(sql)\n\(plan.joined(separator: "\n"))")
        }
    }
}
