import Foundation
import Logging
import PostgresNIO
import Storage
import Support

/// The `run` table: ``SchedulerStore``'s run half.
extension PostgresStore {
    /// Stores a new run.
    /// - Returns: false, storing nothing, when the run's schedule has a run with its dedupe key already.
    public func insertRun(_ run: RunRecord) async throws -> Bool {
        try await transaction { connection in try await Self.insert(run, on: connection, logger: logger) }
    }

    /// Stores new runs, then applies `updates` in order, in one transaction.
    /// - Returns: the ids of the new runs stored (a run whose schedule has its dedupe key already is
    ///   not), and of the runs whose fenced changes did not apply.
    public func writeRuns(insert runs: [RunRecord], update updates: [RunUpdate]) async throws -> RunWriteResult {
        guard !runs.isEmpty || !updates.isEmpty else { return RunWriteResult() }
        let retries = updates.filter { $0.retry != nil }
        if runs.isEmpty, retries.isEmpty, let refused = try await applyAtOnce(updates) {
            var result = RunWriteResult()
            result.refused = refused
            return result
        }
        return try await transaction { connection in
            var result = RunWriteResult(stored: try await Self.insert(runs, on: connection, logger: logger))
            result.refused = try await Self.apply(batch: updates, on: connection, logger: logger)
            // The retries of the ends that applied, after them.
            let applied = retries.filter { !result.refused.contains($0.runID) }.compactMap(\.retry)
            if !applied.isEmpty {
                result.stored.formUnion(try await Self.insert(applied, on: connection, logger: logger))
            }
            return result
        }
    }

    /// The run of a schedule with this dedupe key, if any.
    public func run(scheduleID: String, dedupeKey: String) async throws -> RunRecord? {
        try await rows(
            """
            SELECT \(unescaped: RunRecord.postgresColumns) FROM run
            WHERE schedule_id = \(scheduleID) AND dedupe_key = \(dedupeKey)
            """, RunRecord.init(postgres:)
        ).first
    }

    /// The run with this id, if any.
    public func run(id: String) async throws -> RunRecord? {
        try await rows(
            "SELECT \(unescaped: RunRecord.postgresColumns) FROM run WHERE id = \(id)", RunRecord.init(postgres:)
        ).first
    }

    /// At most `limit` runs, newest first (ids sort by creation); of one schedule when `scheduleID` is
    /// given; with ids below `before` when it is given, which pages on from a previous page's last id.
    public func runs(scheduleID: String?, limit: Int, before: String?) async throws -> [RunRecord] {
        try await rows(
            """
            SELECT \(unescaped: RunRecord.postgresColumns) FROM run
            WHERE (\(scheduleID)::text IS NULL OR schedule_id = \(scheduleID))
                AND (\(before)::text IS NULL OR id < \(before))
            ORDER BY id DESC LIMIT \(max(0, limit))
            """, RunRecord.init(postgres:))
    }

    /// The runs in any of `states`, oldest first; none for an empty set.
    public func runs(in states: Set<RunState>) async throws -> [RunRecord] {
        guard !states.isEmpty else { return [] }
        let names = states.map(\.rawValue).sorted()
        return try await rows(
            "SELECT \(unescaped: RunRecord.postgresColumns) FROM run WHERE state = ANY(\(names)) ORDER BY id",
            RunRecord.init(postgres:))
    }

    /// Deletes up to `limit` runs in a final state that ended before `cutoff`, oldest first, in one
    /// statement (so in one transaction).
    /// - Returns: the ids deleted, oldest first.
    public func deleteRuns(finishedBefore cutoff: Date, limit: Int) async throws -> [String] {
        let finalStates = RunState.allCases.filter(\.isFinal).map(\.rawValue)
        let cutoffMs = Int64(saturating: (cutoff.timeIntervalSince1970 * 1000).rounded(.down))
        // Run ids sort by creation time, and a run is made before it ends: the primary key bounds the scan.
        let bound = SortableID.lowest("run", at: cutoff)
        let ids = try await rows(
            """
            DELETE FROM run WHERE id IN (
                SELECT id FROM run
                WHERE id < \(bound) AND finished_at_ms < \(cutoffMs) AND state = ANY(\(finalStates))
                ORDER BY id LIMIT \(max(0, limit)))
            RETURNING id
            """, doing: "delete"
        ) { row in try row.decode(String.self) }
        // RETURNING has no order; ids are ASCII, so Swift's order is the column's byte order.
        return ids.sorted()
    }

    /// How many runs are in each state; a state without runs has no entry.
    public func runCounts() async throws -> [RunState: Int] {
        let pairs = try await rows("SELECT state, count(*) FROM run GROUP BY state") { row in
            try row.decode((String, Int).self)
        }
        var counts: [RunState: Int] = [:]
        // A state this version does not know (a hand-edited row) is not counted.
        for (name, count) in pairs { if let state = RunState(rawValue: name) { counts[state] = count } }
        return counts
    }

    /// How many runs each schedule has in each state, of those that ended at or after `since` and
    /// those running or queued now.
    public func runTally(since: Date) async throws -> [RunTally] {
        let rows = try await rows(
            """
            SELECT schedule_id, state, count(*) FROM run WHERE finished_at_ms >= \(since.milliseconds)
            GROUP BY schedule_id, state
            UNION ALL
            SELECT schedule_id, state, count(*) FROM run WHERE state IN ('queued', 'running')
            GROUP BY schedule_id, state
            """
        ) { row in try row.decode((String?, String, Int).self) }
        // A state this version does not know (a hand-edited row) is not counted.
        return rows.compactMap { id, name, count in
            RunState(rawValue: name).map { RunTally(scheduleID: id, state: $0, count: count) }
        }
    }

    /// The newest runs of each schedule: one `LATERAL` search of the `run_schedule` index per
    /// schedule, in one statement.
    public func runSummaries(scheduleIDs: [String], limit: Int, before: String?) async throws
        -> [String: [RunSummary]]
    {
        guard !scheduleIDs.isEmpty else { return [:] }
        let ids = Array(Set(scheduleIDs))
        // `~` sorts after every id (ids are ASCII, compared byte by byte): no bound.
        let bound = before ?? "~"
        let runs = try await rows(
            """
            SELECT r.* FROM unnest(\(ids)::text[]) AS s(id) CROSS JOIN LATERAL (
                SELECT \(unescaped: RunSummary.columns) FROM run
                WHERE run.schedule_id = s.id AND run.id < \(bound)
                ORDER BY run.id DESC LIMIT \(max(0, limit))) AS r
            """, RunSummary.init(postgres:))
        return Dictionary(grouping: runs) { $0.scheduleID ?? "" }.mapValues { $0.sorted { $0.id > $1.id } }
    }

    /// Running runs first, then queued ones, each oldest first; and how many there are.
    public func activeRuns(limit: Int) async throws -> (runs: [RunSummary], total: Int) {
        let runs = try await rows(
            """
            SELECT \(unescaped: RunSummary.columns), nodes_json FROM run WHERE state IN ('running', 'queued')
            ORDER BY state = 'queued', id LIMIT \(max(0, limit))
            """
        ) { row in
            var summary = try RunSummary(postgres: row)
            summary.nodesJSON = try PostgresColumns(row, table: "run")("nodes_json")
            return summary
        }
        let total = try await rows("SELECT count(*) FROM run WHERE state IN ('running', 'queued')") { row in
            try row.decode(Int.self)
        }
        return (runs, total.first ?? 0)
    }

    /// The latest run (the greatest id) of each schedule that has one, skipped runs left out.
    /// - Returns: the runs by schedule id.
    public func latestRuns() async throws -> [String: RunRecord] {
        let runs = try await rows(
            """
            SELECT DISTINCT ON (schedule_id) \(unescaped: RunRecord.postgresColumns) FROM run
            WHERE schedule_id IS NOT NULL AND state <> 'skipped'
            ORDER BY schedule_id, id DESC
            """, RunRecord.init(postgres:))
        var latest: [String: RunRecord] = [:]
        for run in runs { if let scheduleID = run.scheduleID { latest[scheduleID] = run } }
        return latest
    }

    /// Stores a new run unless its schedule has a run with its dedupe key already, in which case nothing
    /// changes (`ON CONFLICT … DO NOTHING`). Any other conflict, such as a taken id, is still an error.
    /// What happens to a run later (its start, root span, output and nodes) is written by ``RunUpdate``s,
    /// so it is left empty here; a run stored already final (a skipped fire) ends at its `finishedAt`, or
    /// when it was queued, so that retention finds it.
    /// - Returns: true when it was stored.
    static func insert(_ run: RunRecord, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let finished = run.state.isFinal ? (run.finishedAt ?? run.queuedAt).milliseconds : nil
        let stored = try await rows(
            """
            INSERT INTO run (
                id, schedule_id, workflow, trigger, nominal_time_ms, dedupe_key, state, queued_at_ms,
                not_before_ms, finished_at_ms, trace_id, input_json, payload, error, owner, attempt)
            VALUES (
                \(run.id), \(run.scheduleID), \(run.workflow), \(run.trigger), \(run.nominalTime?.milliseconds),
                \(run.dedupeKey), \(run.state.rawValue), \(run.queuedAt.milliseconds),
                \(run.notBefore?.milliseconds), \(finished), \(run.traceID), \(run.inputJSON.postgresText), \(run.payload),
                \(run.error?.postgresText), \(run.owner), \(Int64(run.attempt)))
            ON CONFLICT (schedule_id, dedupe_key) DO NOTHING
            RETURNING id
            """, on: connection, logger: logger
        ) { row in try row.decode(String.self) }
        return !stored.isEmpty
    }

    /// Applies one change to a stored run; a change to a run that is not stored changes nothing. A
    /// fenced change applies only as its ``RunFence`` says.
    /// - Returns: false when a fenced change did not apply; true otherwise.
    static func apply(_ update: RunUpdate, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        // Without a fence the owner and attempt are NULL, and the conditions on them pass.
        let owner = update.fence?.owner
        let attempt = update.fence.map { Int64($0.attempt) }
        let changed: [String]
        switch update {
        case .started(let id, let at, let rootSpanID, let rootStartNanos, _):
            changed = try await rows(
                """
                UPDATE run SET state = 'running', started_at_ms = \(at.milliseconds), root_span_id = \(rootSpanID),
                    root_start_nanos = \(rootStartNanos), owner = coalesce(\(owner)::text, owner),
                    attempt = coalesce(\(attempt)::bigint, attempt)
                WHERE id = \(id) AND (\(owner)::text IS NULL OR (
                    state = 'queued' AND (owner IS NULL OR owner = \(owner)) AND attempt = \(attempt)::bigint - 1))
                RETURNING id
                """, on: connection, logger: logger
            ) { row in try row.decode(String.self) }
        case .nodes(let id, let json, _):
            changed = try await rows(
                """
                UPDATE run SET nodes_json = \(json.postgresText)
                WHERE id = \(id) AND (\(owner)::text IS NULL OR (
                    state = 'running' AND owner = \(owner) AND attempt = \(attempt)::bigint))
                RETURNING id
                """, on: connection, logger: logger
            ) { row in try row.decode(String.self) }
        case .finished(let id, let state, let at, let outputJSON, let error, let nodesJSON, _, _):
            // Output and nodes given as nil keep what the run has (the nodes written while it ran).
            changed = try await rows(
                """
                UPDATE run SET state = \(state.rawValue), finished_at_ms = \(at.milliseconds),
                    output_json = coalesce(\(outputJSON?.postgresText)::text, output_json), error = \(error?.postgresText),
                    nodes_json = coalesce(\(nodesJSON?.postgresText)::text, nodes_json)
                WHERE id = \(id) AND (\(owner)::text IS NULL OR (
                    state = 'running' AND owner = \(owner) AND attempt = \(attempt)::bigint))
                RETURNING id
                """, on: connection, logger: logger
            ) { row in try row.decode(String.self) }
        }
        return owner == nil || !changed.isEmpty
    }
}
