import Foundation
import Logging
import PostgresNIO
import Storage

/// Many run starts, and many run ends, each in one statement: with dozens of runs going, a
/// transaction of the journal holds as many starts and ends, and one statement per change made each
/// a round trip to the server.
extension PostgresStore {
    /// A start, as a row of the batch statement's JSON (`nil`s left out read as `NULL`).
    private struct Start: Encodable {
        var id: String
        var at: Int64
        var root_span_id: String
        var root_start_nanos: Int64
        var owner: String?
        var attempt: Int?
    }

    /// An end, as a row of the batch statement's JSON.
    private struct End: Encodable {
        var id: String
        var state: String
        var at: Int64
        var output_json: String?
        var error: String?
        var nodes_json: String?
        var owner: String?
        var attempt: Int?
    }

    /// Applies `updates` as ``apply(_:on:logger:)`` would one by one: the starts in one statement,
    /// then the node notes one by one, then the ends in one statement. That order is the order of
    /// each run's own changes whenever no run's end comes before its start and no run starts or ends
    /// twice; otherwise the changes are applied one by one, in order.
    /// - Returns: the ids of the runs whose fenced changes were refused.
    static func apply(
        batch updates: [RunUpdate], on connection: PostgresConnection, logger: Logger
    ) async throws -> Set<String> {
        var starts: [Start] = []
        var ends: [End] = []
        var notes: [RunUpdate] = []
        var started: Set<String> = []
        var ended: Set<String> = []
        var inOrder = true
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
            case .finished(let id, let state, let at, let outputJSON, let error, let nodesJSON, let fence):
                if ended.contains(id) { inOrder = false }
                ended.insert(id)
                ends.append(
                    End(
                        id: id, state: state.rawValue, at: at.milliseconds, output_json: outputJSON?.postgresText,
                        error: error?.postgresText, nodes_json: nodesJSON?.postgresText, owner: fence?.owner,
                        attempt: fence?.attempt))
            }
        }
        var refused: Set<String> = []
        guard inOrder, starts.count + ends.count > 1 else {
            for update in updates where try await !apply(update, on: connection, logger: logger) {
                refused.insert(update.runID)
            }
            return refused
        }
        let encoder = JSONEncoder()
        if !starts.isEmpty {
            let json = String(decoding: try encoder.encode(starts), as: UTF8.self)
            let changed = Set(
                try await rows(
                    """
                    UPDATE run SET state = 'running', started_at_ms = n.at, root_span_id = n.root_span_id,
                        root_start_nanos = n.root_start_nanos, owner = coalesce(n.owner, run.owner),
                        attempt = coalesce(n.attempt, run.attempt)
                    FROM json_to_recordset(\(json)::json) AS n (
                        id text, at bigint, root_span_id text, root_start_nanos bigint, owner text, attempt bigint)
                    WHERE run.id = n.id AND (n.owner IS NULL OR (
                        run.state = 'queued' AND (run.owner IS NULL OR run.owner = n.owner)
                        AND run.attempt = n.attempt - 1))
                    RETURNING run.id
                    """, on: connection, logger: logger
                ) { row in try row.decode(String.self) })
            for start in starts where start.owner != nil && !changed.contains(start.id) { refused.insert(start.id) }
        }
        for note in notes where try await !apply(note, on: connection, logger: logger) { refused.insert(note.runID) }
        if !ends.isEmpty {
            let json = String(decoding: try encoder.encode(ends), as: UTF8.self)
            // Output and nodes given as null keep what the run has (the nodes written while it ran).
            let changed = Set(
                try await rows(
                    """
                    UPDATE run SET state = n.state, finished_at_ms = n.at,
                        output_json = coalesce(n.output_json, run.output_json), error = n.error,
                        nodes_json = coalesce(n.nodes_json, run.nodes_json)
                    FROM json_to_recordset(\(json)::json) AS n (
                        id text, state text, at bigint, output_json text, error text, nodes_json text, owner text,
                        attempt bigint)
                    WHERE run.id = n.id AND (n.owner IS NULL OR (
                        run.state = 'running' AND run.owner = n.owner AND run.attempt = n.attempt))
                    RETURNING run.id
                    """, on: connection, logger: logger
                ) { row in try row.decode(String.self) })
            for end in ends where end.owner != nil && !changed.contains(end.id) { refused.insert(end.id) }
        }
        return refused
    }
}
