import Foundation
import GRDB
import Support

/// The `run` table: ``SchedulerStore``'s run half.
extension SQLiteStore {
    /// Stores a new run.
    /// - Returns: false, storing nothing, when the run's schedule has a run with its dedupe key already.
    public func insertRun(_ run: RunRecord) async throws -> Bool {
        try await write(durable: true) { db in try Self.insert(run, with: Self.insertRunStatement(db), db) }
    }

    /// Stores new runs, then applies `updates` in order, in one transaction; an end that applies
    /// stores the run that retries it, if it names one.
    /// - Returns: the ids of the new runs stored, retries included (a run whose schedule has its
    ///   dedupe key already is not), and of the runs whose fenced changes did not apply.
    public func writeRuns(insert runs: [RunRecord], update updates: [RunUpdate]) async throws -> RunWriteResult {
        guard !runs.isEmpty || !updates.isEmpty else { return RunWriteResult() }
        return try await write(durable: !runs.isEmpty) { db in
            var result = RunWriteResult()
            if !runs.isEmpty {
                let insert = try Self.insertRunStatement(db)
                for run in runs where try Self.insert(run, with: insert, db) { result.stored.insert(run.id) }
            }
            for update in updates {
                guard try Self.apply(update, db) else {
                    result.refused.insert(update.runID)
                    continue
                }
                if let retry = update.retry, try Self.insert(retry, with: Self.insertRunStatement(db), db) {
                    result.stored.insert(retry.id)
                }
            }
            return result
        }
    }

    /// Applies one change (see ``RunFence`` for what a fenced one requires).
    /// - Returns: false when a fenced change did not apply; true otherwise, also for a change without a
    ///   fence to a run that is not stored.
    static func apply(_ update: RunUpdate, _ db: Database) throws -> Bool {
        // A change without a fence matches any owner and attempt: the conditions below pass for NULLs.
        // Numbered positional parameters: named ones cost a dictionary per change.
        let owner = update.fence?.owner
        let attempt = update.fence?.attempt
        switch update {
        case .started(let id, let at, let rootSpanID, let rootStartNanos, _):
            try db.cachedStatement(
                sql: """
                    UPDATE run SET state = 'running', started_at_ms = ?1, root_span_id = ?2,
                        root_start_nanos = ?3, owner = coalesce(?5, owner), attempt = coalesce(?6, attempt)
                    WHERE id = ?4 AND (?5 IS NULL OR (
                        state = 'queued' AND (owner IS NULL OR owner = ?5) AND attempt = ?6 - 1))
                    """
            ).execute(arguments: [at.milliseconds, rootSpanID, rootStartNanos, id, owner, attempt])
        case .nodes(let id, let json, _):
            try db.cachedStatement(
                sql: """
                    UPDATE run SET nodes_json = ?1
                    WHERE id = ?2 AND (?3 IS NULL OR (state = 'running' AND owner = ?3 AND attempt = ?4))
                    """
            ).execute(arguments: [json, id, owner, attempt])
        case .finished(let id, let state, let at, let outputJSON, let error, let nodesJSON, _, _):
            // Output and nodes given as nil keep what the run has (the nodes written while it ran).
            try db.cachedStatement(
                sql: """
                    UPDATE run SET state = ?1, finished_at_ms = ?2, output_json = coalesce(?3, output_json),
                        error = ?4, nodes_json = coalesce(?5, nodes_json)
                    WHERE id = ?6 AND (?7 IS NULL OR (state = 'running' AND owner = ?7 AND attempt = ?8))
                    """
            ).execute(arguments: [state.rawValue, at.milliseconds, outputJSON, error, nodesJSON, id, owner, attempt])
        }
        return owner == nil || db.changesCount > 0
    }

    /// The run of a schedule with this dedupe key, if any.
    public func run(scheduleID: String, dedupeKey: String) async throws -> RunRecord? {
        try await read { db in
            try RunRow.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM run WHERE schedule_id = ? AND dedupe_key = ?"),
                arguments: [scheduleID, dedupeKey]
            )?.record
        }
    }

    /// The run with this id, if any.
    public func run(id: String) async throws -> RunRecord? {
        try await read { db in
            try RunRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM run WHERE id = ?"), arguments: [id])?.record
        }
    }

    /// At most `limit` runs, newest first (ids sort by creation); of one schedule when `scheduleID` is
    /// given; with ids below `before` when it is given, which pages on from a previous page's last id.
    public func runs(scheduleID: String?, limit: Int, before: String?) async throws -> [RunRecord] {
        try await read { db in
            var request = RunRow.order(Column(RunRow.CodingKeys.id).desc).limit(limit)
            if let scheduleID { request = request.filter(Column(RunRow.CodingKeys.scheduleID) == scheduleID) }
            if let before { request = request.filter(Column(RunRow.CodingKeys.id) < before) }
            return try request.fetchAll(db).map(\.record)
        }
    }

    /// The runs in any of `states`, oldest first; none for an empty set.
    public func runs(in states: Set<RunState>) async throws -> [RunRecord] {
        try await read { db in
            // In the order of the partial index `run_state`'s `IN ('queued', 'running')`: SQLite uses
            // that index only for the same list in the same order, and scans every run otherwise.
            try RunRow.filter(states.map(\.rawValue).sorted().contains(Column(RunRow.CodingKeys.state)))
                .order(Column(RunRow.CodingKeys.id)).fetchAll(db).map(\.record)
        }
    }

    /// Deletes up to `limit` runs in a final state that ended before `cutoff`, oldest first, in one
    /// transaction.
    /// - Returns: the ids deleted, oldest first.
    public func deleteRuns(finishedBefore cutoff: Date, limit: Int) async throws -> [String] {
        let finalStates = RunState.allCases.filter(\.isFinal).map(\.rawValue)
        let cutoffMs = Int64(saturating: (cutoff.timeIntervalSince1970 * 1000).rounded(.down))
        // Run ids sort by creation time, and a run is made before it ends: the primary key bounds the scan.
        let bound = SortableID.lowest("run", at: cutoff)
        let id = Column(RunRow.CodingKeys.id)
        return try await write { db in
            let ids = try RunRow.select(id, as: String.self)
                .filter(
                    id < bound && Column(RunRow.CodingKeys.finishedAtMs) < cutoffMs
                        && finalStates.contains(Column(RunRow.CodingKeys.state))
                )
                .order(id).limit(limit).fetchAll(db)
            for start in stride(from: 0, to: ids.count, by: 500) {
                try RunRow.deleteAll(db, keys: ids[start..<min(start + 500, ids.count)])
            }
            return ids
        }
    }

    /// How many runs are in each state; a state without runs has no entry.
    public func runCounts() async throws -> [RunState: Int] {
        try await read { db in
            var counts: [RunState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM run GROUP BY state") {
                // A state this version does not know (a hand-edited row) is not counted.
                if let state = RunState(rawValue: try row.decode(String.self, forColumn: "state")) {
                    counts[state] = try row.decode(Int.self, forColumn: "n")
                }
            }
            return counts
        }
    }

    /// How many runs each schedule has in each state, of those that ended at or after `since` and
    /// those running or queued now.
    public func runTally(since: Date) async throws -> [RunTally] {
        try await read { db in
            // Without statistics the planner would rather walk all of `run_schedule` (already in
            // schedule order) than the few entries of `run_ended` since `since`.
            try Row.fetchAll(
                db,
                sql: """
                    SELECT schedule_id, state, count(*) AS n FROM run INDEXED BY run_ended
                    WHERE finished_at_ms >= ? AND finished_at_ms IS NOT NULL GROUP BY schedule_id, state
                    UNION ALL
                    SELECT schedule_id, state, count(*) AS n FROM run WHERE \(Self.inFlight)
                    GROUP BY schedule_id, state
                    """, arguments: [since.milliseconds]
            ).compactMap { row in
                // A state this version does not know (a hand-edited row) is not counted.
                guard let state = RunState(rawValue: row[1]) else { return nil }
                return RunTally(scheduleID: row[0], state: state, count: Int(clamping: row[2] as Int64))
            }
        }
    }

    /// The newest runs of each schedule, one search of the `run_schedule` index per schedule, in one
    /// read.
    public func runSummaries(scheduleIDs: [String], limit: Int, before: String?) async throws
        -> [String: [RunSummary]]
    {
        try await read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT \(RunSummary.columns) FROM run WHERE schedule_id = ? AND id < ? ORDER BY id DESC LIMIT ?")
            var found: [String: [RunSummary]] = [:]
            // `~` sorts after every id: no bound.
            for id in Set(scheduleIDs) {
                let runs = try Row.fetchAll(statement, arguments: [id, before ?? "~", max(0, limit)]).map(Self.summary)
                if !runs.isEmpty { found[id] = runs }
            }
            return found
        }
    }

    /// Running runs first, then queued ones, each oldest first; and how many there are.
    public func activeRuns(limit: Int) async throws -> (runs: [RunSummary], total: Int) {
        try await read { db in
            let runs = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(RunSummary.columns), nodes_json FROM run WHERE \(Self.inFlight)
                    ORDER BY state = 'queued', id LIMIT ?
                    """, arguments: [max(0, limit)]
            ).map { row in
                var summary = try Self.summary(row)
                summary.nodesJSON = row[12]
                return summary
            }
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM run WHERE \(Self.inFlight)") ?? 0
            return (runs, total)
        }
    }

    /// A summary from a row of ``RunSummary/columns``. A state this version does not know reads as
    /// `failed`, as a whole run does.
    static func summary(_ row: Row) throws -> RunSummary {
        // By position, in the order of `RunSummary.columns`: a lookup by name folds its case each time.
        RunSummary(
            id: row[0], scheduleID: row[1], workflow: row[2], trigger: row[3],
            state: RunState(rawValue: row[4]) ?? .failed, nominalTime: (row[5] as Int64?).map(Date.init(milliseconds:)),
            queuedAt: Date(milliseconds: row[6]), startedAt: (row[7] as Int64?).map(Date.init(milliseconds:)),
            finishedAt: (row[8] as Int64?).map(Date.init(milliseconds:)), error: row[9],
            fireAttempt: Int(clamping: row[10] as Int64), owner: row[11])
    }

    /// The latest run (the greatest id) of each schedule that has one, skipped runs left out.
    /// - Returns: the runs by schedule id.
    public func latestRuns() async throws -> [String: RunRecord] {
        // One index search per schedule (run_schedule, newest first): a GROUP BY over the runs read
        // every run ever stored, 0.8 s with a million.
        try await read { db in
            let rows = try RunRow.fetchAll(
                db,
                sql: """
                    SELECT * FROM run WHERE id IN (
                        SELECT (SELECT max(id) FROM run WHERE run.schedule_id = schedule.id AND state != 'skipped')
                        FROM schedule)
                    """)
            var latest: [String: RunRecord] = [:]
            for row in rows {
                if let scheduleID = row.scheduleID { latest[scheduleID] = row.record }
            }
            return latest
        }
    }

    /// The statement that stores a new run unless its dedupe key is taken, prepared once per connection.
    static func insertRunStatement(_ db: Database) throws -> Statement {
        try db.cachedStatement(sql: RunRow.insertUnlessDuplicateSQL)
    }

    /// Inserts a run with `statement` (``insertRunStatement(_:)``).
    /// - Returns: true when it was stored, false when its schedule has its dedupe key already.
    static func insert(_ run: RunRecord, with statement: Statement, _ db: Database) throws -> Bool {
        try statement.execute(arguments: StatementArguments(RunRow(newRun: run).newRunValues))
        return db.changesCount > 0
    }
}
