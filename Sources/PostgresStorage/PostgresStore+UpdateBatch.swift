import Foundation
import Logging
import PostgresNIO
import Storage

/// Many run starts, and many run ends, each in one statement: with dozens of runs going, a
/// transaction of the journal holds as many starts and ends, and one statement per change made each
/// a round trip to the server.
extension PostgresStore {
    /// A row of a batch statement's JSON that names its run.
    private protocol Identified: Encodable {
        /// The run's id.
        var id: String { get }
    }

    /// A start, as a row of the batch statement's JSON (`nil`s left out read as `NULL`).
    private struct Start: Identified {
        var id: String
        var at: Int64
        var root_span_id: String
        var root_start_nanos: Int64
        var owner: String?
        var attempt: Int?
    }

    /// An end, as a row of the batch statement's JSON.
    private struct End: Identified {
        var id: String
        var state: String
        var at: Int64
        var output_json: String?
        var error: String?
        var nodes_json: String?
        var owner: String?
        var attempt: Int?
    }

    /// A batch of run changes sorted by kind, in their order within each kind.
    private struct Sorted {
        var starts: [Start] = []
        var ends: [End] = []
        var notes: [RunUpdate] = []
        /// No run's end comes before its start, and no run starts or ends twice: applying the starts,
        /// then the notes, then the ends keeps each run's own order.
        var inOrder = true
        /// Some run both starts and ends in the batch.
        var startsAndEnds = false

        init(_ updates: [RunUpdate]) {
            var started: Set<String> = []
            var ended: Set<String> = []
            for update in updates {
                switch update {
                case .started(let id, let at, let rootSpanID, let rootStartNanos, let fence):
                    if started.contains(id) || ended.contains(id) { inOrder = false }
                    started.insert(id)
                    starts.append(
                        Start(
                            id: id, at: at.milliseconds, root_span_id: rootSpanID, root_start_nanos: rootStartNanos,
                            owner: fence?.owner, attempt: fence?.attempt))
                case .nodes:
                    if ended.contains(update.runID) { inOrder = false }
                    notes.append(update)
                case .finished(let id, let state, let at, let outputJSON, let error, let nodesJSON, let fence, _):
                    if ended.contains(id) { inOrder = false }
                    if started.contains(id) { startsAndEnds = true }
                    ended.insert(id)
                    ends.append(
                        End(
                            id: id, state: state.rawValue, at: at.milliseconds, output_json: outputJSON?.postgresText,
                            error: error?.postgresText, nodes_json: nodesJSON?.postgresText, owner: fence?.owner,
                            attempt: fence?.attempt))
                }
            }
        }

        /// The ids of the fenced starts and ends not among `changed`: those the store refused.
        func refused(startsChanged: Set<String>, endsChanged: Set<String>) -> Set<String> {
            var refused: Set<String> = []
            for start in starts where start.owner != nil && !startsChanged.contains(start.id) {
                refused.insert(start.id)
            }
            for end in ends where end.owner != nil && !endsChanged.contains(end.id) { refused.insert(end.id) }
            return refused
        }
    }

    /// The starts statement, its JSON rows bound as `$parameter` and their ids as `$parameter + 1`
    /// (``query(_:binding:)``): a fenced start applies to a queued
    /// run held by its owner or by no one, for the next attempt (``RunFence``). Written with a
    /// placeholder, not interpolated, so that it can be one part of ``applyAtOnce(_:)``'s statement
    /// as well as a statement of its own; the rows are bound all the same.
    private static func startsSQL(_ parameter: Int) -> String {
        """
        UPDATE run SET state = 'running', started_at_ms = n.at, root_span_id = n.root_span_id,
            root_start_nanos = n.root_start_nanos, owner = coalesce(n.owner, run.owner),
            attempt = coalesce(n.attempt, run.attempt)
        FROM json_to_recordset($\(parameter)::json) AS n (
            id text, at bigint, root_span_id text, root_start_nanos bigint, owner text, attempt bigint)
        WHERE run.id = ANY($\(parameter + 1)::text[]) AND run.id = n.id AND (n.owner IS NULL OR (
            run.state = 'queued' AND (run.owner IS NULL OR run.owner = n.owner)
            AND run.attempt = n.attempt - 1))
        RETURNING run.id
        """
    }

    /// The ends statement, its JSON rows bound as `$parameter` and their ids as `$parameter + 1`: a
    /// fenced end applies while its
    /// owner's attempt runs. Output and nodes given as null keep what the run has (the nodes written
    /// while it ran).
    private static func endsSQL(_ parameter: Int) -> String {
        """
        UPDATE run SET state = n.state, finished_at_ms = n.at,
            output_json = coalesce(n.output_json, run.output_json), error = n.error,
            nodes_json = coalesce(n.nodes_json, run.nodes_json)
        FROM json_to_recordset($\(parameter)::json) AS n (
            id text, state text, at bigint, output_json text, error text, nodes_json text, owner text,
            attempt bigint)
        WHERE run.id = ANY($\(parameter + 1)::text[]) AND run.id = n.id AND (n.owner IS NULL OR (
            run.state = 'running' AND run.owner = n.owner AND run.attempt = n.attempt))
        RETURNING run.id
        """
    }

    /// `sql` with `rows`, as one JSON document, bound to `$1`, and their ids to `$2`.
    ///
    /// The ids are there for the planner: it guesses a hundred rows for any `json_to_recordset`,
    /// and against a run table it has not analyzed yet (a fresh database filling up in a burst) it
    /// then reads the whole table for every statement, where `id = ANY($2)` leads it to the index.
    private static func query<Row: Identified>(_ sql: String, binding rows: [Row]) throws -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(try jsonRows(rows))
        binds.append(rows.map(\.id))
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    /// Applies `updates` in one statement, without a transaction around it, when they are starts and
    /// ends of different runs only: the common case of a busy journal (runs that ended, and the runs
    /// their slots went to), one round trip instead of four. A statement is atomic on its own.
    /// - Returns: the ids of the runs whose fenced changes were refused, or `nil` when `updates` need
    ///   ``writeRuns(insert:update:)``'s transaction.
    func applyAtOnce(_ updates: [RunUpdate]) async throws -> Set<String>? {
        let sorted = Sorted(updates)
        guard sorted.inOrder, sorted.notes.isEmpty, !sorted.startsAndEnds, !sorted.starts.isEmpty,
            !sorted.ends.isEmpty
        else { return nil }
        var binds = PostgresBindings()
        binds.append(try Self.jsonRows(sorted.starts))
        binds.append(sorted.starts.map(\.id))
        binds.append(try Self.jsonRows(sorted.ends))
        binds.append(sorted.ends.map(\.id))
        let sql = """
            WITH s AS (\(Self.startsSQL(1))), e AS (\(Self.endsSQL(3)))
            SELECT true, id FROM s UNION ALL SELECT false, id FROM e
            """
        let rows = try await rows(PostgresQuery(unsafeSQL: sql, binds: binds), doing: "write") { row in
            try row.decode((Bool, String).self)
        }
        return sorted.refused(
            startsChanged: Set(rows.filter(\.0).map(\.1)), endsChanged: Set(rows.filter { !$0.0 }.map(\.1)))
    }

    /// Applies `updates` as ``apply(_:on:logger:)`` would one by one: the starts in one statement,
    /// then the node notes one by one, then the ends in one statement. That order is the order of
    /// each run's own changes whenever no run's end comes before its start and no run starts or ends
    /// twice; otherwise the changes are applied one by one, in order.
    /// - Returns: the ids of the runs whose fenced changes were refused.
    static func apply(
        batch updates: [RunUpdate], on connection: PostgresConnection, logger: Logger
    ) async throws -> Set<String> {
        let sorted = Sorted(updates)
        guard sorted.inOrder, sorted.starts.count + sorted.ends.count > 1 else {
            var refused: Set<String> = []
            for update in updates where try await !apply(update, on: connection, logger: logger) {
                refused.insert(update.runID)
            }
            return refused
        }
        var startsChanged: Set<String> = []
        if !sorted.starts.isEmpty {
            startsChanged = Set(
                try await rows(try query(startsSQL(1), binding: sorted.starts), on: connection, logger: logger) { row in
                    try row.decode(String.self)
                })
        }
        var refused: Set<String> = []
        for note in sorted.notes where try await !apply(note, on: connection, logger: logger) {
            refused.insert(note.runID)
        }
        var endsChanged: Set<String> = []
        if !sorted.ends.isEmpty {
            endsChanged = Set(
                try await rows(try query(endsSQL(1), binding: sorted.ends), on: connection, logger: logger) { row in
                    try row.decode(String.self)
                })
        }
        return refused.union(sorted.refused(startsChanged: startsChanged, endsChanged: endsChanged))
    }
}
