import Foundation
import Logging
import PostgresNIO
import Storage

/// Many new runs in one statement: a timer tick or a catch-up can store thousands, and one statement
/// per run made that thirty times slower than SQLite.
extension PostgresStore {
    /// The new runs a batch statement stores, as one JSON array bound as a single value: arrays of
    /// optional values cannot be bound, a JSON document can, and `json_to_recordset` turns it back into
    /// rows. Keys are the column names; a `nil` is left out and reads as `NULL`.
    private struct NewRun: Encodable {
        var id: String
        var schedule_id: String?
        var workflow: String
        var trigger: String
        var nominal_time_ms: Int64?
        var dedupe_key: String?
        var state: String
        var queued_at_ms: Int64
        var not_before_ms: Int64?
        var finished_at_ms: Int64?
        var trace_id: String?
        var input_json: String
        /// The payload in base64 (JSON has no bytes); decoded back in the statement.
        var payload: String?
        var error: String?
        var owner: String?
        var attempt: Int
        var fire_attempt: Int
        var retry_of: String?
        var retry_of_trace: String?

        /// The row that stores `run` as a new run, as ``PostgresStore/insert(_:on:logger:)`` writes it.
        init(_ run: RunRecord) {
            id = run.id
            schedule_id = run.scheduleID
            workflow = run.workflow
            trigger = run.trigger
            nominal_time_ms = run.nominalTime?.milliseconds
            dedupe_key = run.dedupeKey
            state = run.state.rawValue
            queued_at_ms = run.queuedAt.milliseconds
            not_before_ms = run.notBefore?.milliseconds
            finished_at_ms = run.state.isFinal ? (run.finishedAt ?? run.queuedAt).milliseconds : nil
            trace_id = run.traceID
            input_json = run.inputJSON.postgresText
            payload = run.payload?.base64EncodedString()
            error = run.error?.postgresText
            owner = run.owner
            attempt = run.attempt
            fire_attempt = run.fireAttempt
            retry_of = run.retryOf
            retry_of_trace = run.retryOfTrace
        }
    }

    /// At most this many runs go in one statement.
    static let batchSize = 1000

    /// `rows` as one JSON array, the document a batch statement binds as a single value and reads
    /// back with `json_to_recordset`.
    static func jsonRows<Row: Encodable>(_ rows: [Row]) throws -> String {
        String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
    }

    /// Stores new runs, in their order, a batch per statement, each unless its schedule has a run with its
    /// dedupe key already (stored before, or earlier in `runs`). Any other conflict, such as a taken id,
    /// is an error that fails the statement.
    /// - Returns: the ids of the runs stored.
    static func insert(
        _ runs: [RunRecord], on connection: PostgresConnection, logger: Logger
    ) async throws -> Set<String> {
        var stored: Set<String> = []
        for start in stride(from: 0, to: runs.count, by: batchSize) {
            let json = try jsonRows(runs[start..<min(start + batchSize, runs.count)].map(NewRun.init))
            let ids = try await rows(
                """
                INSERT INTO run (
                    id, schedule_id, workflow, trigger, nominal_time_ms, dedupe_key, state, queued_at_ms,
                    not_before_ms, finished_at_ms, trace_id, input_json, payload, error, owner, attempt,
                    fire_attempt, retry_of, retry_of_trace)
                SELECT id, schedule_id, workflow, trigger, nominal_time_ms, dedupe_key, state, queued_at_ms,
                    not_before_ms, finished_at_ms, trace_id, input_json, decode(payload, 'base64'), error, owner,
                    attempt, fire_attempt, retry_of, retry_of_trace
                FROM json_to_recordset(\(json)::json) AS new (
                    id text, schedule_id text, workflow text, trigger text, nominal_time_ms bigint,
                    dedupe_key text, state text, queued_at_ms bigint, not_before_ms bigint, finished_at_ms bigint,
                    trace_id text, input_json text, payload text, error text, owner text, attempt bigint,
                    fire_attempt bigint, retry_of text, retry_of_trace text)
                ON CONFLICT (schedule_id, dedupe_key) DO NOTHING
                RETURNING id
                """, on: connection, logger: logger
            ) { row in try row.decode(String.self) }
            stored.formUnion(ids)
        }
        return stored
    }
}
