import Foundation
import GRDB
import Support

/// Who holds the waiting and running runs. With SQLite one daemon uses the store, and the store's
/// clock is the machine's; the statements are those of the PostgreSQL engine, so that the contract
/// holds the same for both.
extension SQLiteStore {
    /// The runs `owner` holds, queued or running, by id.
    public func heldRuns(owner: String) async throws -> [String: RunState] {
        try await read { db in
            var held: [String: RunState] = [:]
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, state FROM run WHERE owner = ? AND state IN ('queued', 'running')"),
                arguments: [owner])
            for row in rows {
                if let state = RunState(rawValue: try row.decode(String.self, forColumn: "state")) {
                    held[try row.decode(String.self, forColumn: "id")] = state
                }
            }
            return held
        }
    }

    /// Interrupts the running runs, and frees the queued runs, of owners other than `sparing` without
    /// a heartbeat within `silence` (or without an instance row), and stores the retries `retry`
    /// makes of the interrupted ones, in one transaction.
    /// - Returns: the runs interrupted, as stored now.
    public func expireLeases(
        silence: Duration, sparing: String?, error: String, retry: @escaping @Sendable (RunRecord) -> RunRecord?
    ) async throws -> [RunRecord] {
        let now = Date().milliseconds
        let since = now - Int64(saturating: (silence.timeInterval * 1000).rounded())
        let arguments: StatementArguments = ["since": since, "sparing": sparing]
        return try await write { db in
            let silent = """
                (owner IS NULL OR (owner IS NOT :sparing
                    AND owner NOT IN (SELECT id FROM instance WHERE heartbeat_at_ms >= :since)))
                """
            let ids = try String.fetchAll(
                db, sql: "SELECT id FROM run WHERE \(Self.inFlight) AND state = 'running' AND \(silent) ORDER BY id",
                arguments: arguments)
            for start in stride(from: 0, to: ids.count, by: 500) {
                let batch = Array(ids[start..<min(start + 500, ids.count)])
                try db.execute(
                    sql: """
                        UPDATE run SET state = 'interrupted', finished_at_ms = ?, error = ?
                        WHERE id IN (\(batch.map { _ in "?" }.joined(separator: ",")))
                        """,
                    arguments: StatementArguments(
                        [now.databaseValue, error.databaseValue] + batch.map(\.databaseValue)))
            }
            try db.execute(
                sql: """
                    UPDATE run SET owner = NULL
                    WHERE \(Self.inFlight) AND state = 'queued' AND owner IS NOT NULL AND \(silent)
                    """,
                arguments: arguments)
            var runs: [RunRecord] = []
            for start in stride(from: 0, to: ids.count, by: 500) {
                runs += try RunRow.fetchAll(db, keys: ids[start..<min(start + 500, ids.count)]).map(\.record)
            }
            let insert = try Self.insertRunStatement(db)
            for run in runs { if let next = retry(run) { _ = try Self.insert(next, with: insert, db) } }
            return runs.sorted { $0.id < $1.id }
        }
    }

    /// Makes up to `limit` queued runs held by no one `owner`'s, oldest first.
    public func claimQueued(owner: String, limit: Int) async throws -> [RunRecord] {
        guard limit > 0 else { return [] }
        return try await write { db in
            let ids = try String.fetchAll(
                db,
                sql: """
                    SELECT id FROM run
                    WHERE \(Self.inFlight) AND state = 'queued' AND owner IS NULL AND NOT \(Self.heldElsewhere)
                    ORDER BY id LIMIT :limit
                    """,
                arguments: ["limit": limit, "owner": owner])
            guard !ids.isEmpty else { return [] }
            let marks = ids.map { _ in "?" }.joined(separator: ",")
            try db.execute(
                sql: "UPDATE run SET owner = ? WHERE id IN (\(marks))",
                arguments: StatementArguments([owner.databaseValue] + ids.map(\.databaseValue)))
            return try RunRow.fetchAll(db, keys: ids).map(\.record).sorted { $0.id < $1.id }
        }
    }

    /// The partial index `run_state`'s own condition, written before `state = 'queued'` or
    /// `state = 'running'`: SQLite does not see that either implies it, and without it reads every
    /// run in id order (300 ms a query with a million runs stored; a claim runs every second).
    static let inFlight = "state IN ('queued', 'running')"

    /// True for a run (the outer query's `run`) of a `buffer-one` or `cancel-other` schedule with
    /// another run queued or running held by an instance other than `:owner`.
    static let heldElsewhere = """
        EXISTS (
            SELECT 1 FROM schedule JOIN run AS other ON other.schedule_id = schedule.id
            WHERE schedule.id = run.schedule_id AND schedule.overlap IN ('buffer-one', 'cancel-other')
                AND other.id <> run.id AND other.state IN ('queued', 'running')
                AND other.owner IS NOT NULL AND other.owner <> :owner)
        """

    /// Hands `owner`'s queued runs back, held by no one.
    public func releaseQueued(owner: String) async throws -> Int {
        try await write { db in
            try db.execute(
                sql: "UPDATE run SET owner = NULL WHERE \(Self.inFlight) AND state = 'queued' AND owner = ?",
                arguments: [owner])
            return db.changesCount
        }
    }
}
