import Foundation
import PostgresNIO
import Storage
import Support

// How the store's records are read from PostgreSQL rows: the columns of ``PostgresMigrations``, read
// by name. A value of the wrong type (only a hand-edited row can hold one) is a thrown
// `StorageError` naming the table and the row's id, never a trap and never the value.

extension Date {
    /// This instant in whole milliseconds since the epoch, rounded to the nearest; clamped into `Int64`
    /// rather than trapping.
    var milliseconds: Int64 {
        Int64(saturating: (timeIntervalSince1970 * 1000).rounded())
    }

    /// The instant `milliseconds` after the epoch, as read from an `*_ms` column.
    init(milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

extension String {
    /// This text as a PostgreSQL `text` column can hold it: PostgreSQL refuses U+0000 in text, which
    /// SQLite keeps, so each is stored as U+FFFD. Free text the store is given (a run's error, a pause
    /// note, JSON) goes through it, so that a script's output holding a NUL cannot fail the write that
    /// ends its run. Keys (ids, names, dedupe keys) do not: a NUL there is refused, not altered.
    var postgresText: String {
        contains("\u{0}") ? replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : self
    }
}

/// A row's cells by column name, decoded with a thrown error for a missing column or a wrong type.
struct PostgresColumns {
    let row: PostgresRandomAccessRow
    let table: String

    init(_ row: PostgresRow, table: String) {
        self.row = row.makeRandomAccess()
        self.table = table
    }

    /// The value of `column` as `T` (an optional type for a nullable column).
    /// - Throws: ``StorageError`` `.database` naming the table and row, but not the value.
    func callAsFunction<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard row.contains(column) else { throw problem() }
        do {
            return try row[column].decode(T.self)
        } catch {
            throw problem()
        }
    }

    private func problem() -> StorageError {
        let id = row.contains("id") ? (try? row["id"].decode(String.self)).map { " \($0.prefix(100))" } ?? "" : ""
        return StorageError(
            code: .database,
            message:
                "the \(table) row\(id) has a value of the wrong type for its column (was the database edited by hand?)"
        )
    }
}

extension ScheduleRecord {
    /// The columns a schedule is read from, in `SELECT` order.
    static let postgresColumns = """
        id, name, cron, time_zone, webhook, webhook_scheme, webhook_secret, webhook_secret_env, \
        webhook_previous_secret, webhook_previous_until_ms, workflow, input_json, overlap, catchup_window_seconds, \
        catchup_mode, jitter_seconds, timeout_seconds, paused, pause_note, remaining_runs, remaining_runs_declared, \
        day_match, dst_gap, dst_fold, source, last_fire_seconds, created_at_ms, updated_at_ms, retry_json, \
        notify_json, expected_duration_seconds
        """

    /// The schedule a `schedule` row stores. A policy name this version does not know reads as the
    /// default, `skip` overlap and `latest` catch-up; an unknown webhook scheme as none (as in SQLite).
    init(postgres row: PostgresRow) throws {
        let column = PostgresColumns(row, table: "schedule")
        self.init(
            id: try column("id"), name: try column("name"), cron: try column("cron"),
            timeZone: try column("time_zone"), webhook: try column("webhook"),
            webhookSecret: try column("webhook_secret"), webhookSecretEnv: try column("webhook_secret_env"),
            workflow: try column("workflow"), inputJSON: try column("input_json"),
            overlap: OverlapPolicy(rawValue: try column("overlap")) ?? .skip,
            catchupWindowSeconds: try column("catchup_window_seconds"),
            catchupMode: CatchupMode(rawValue: try column("catchup_mode")) ?? .latest,
            jitterSeconds: try column("jitter_seconds"), timeoutSeconds: try column("timeout_seconds"),
            paused: try column("paused"), pauseNote: try column("pause_note"),
            remainingRuns: try column("remaining_runs"), source: try column("source"),
            lastFireSeconds: try column("last_fire_seconds"),
            createdAt: Date(milliseconds: try column("created_at_ms")),
            updatedAt: Date(milliseconds: try column("updated_at_ms")))
        // Set after the initialiser, which would make up a scheme for a webhook stored without one.
        webhookScheme = (try column("webhook_scheme", as: String?.self)).flatMap(WebhookScheme.init(rawValue:))
        webhookPreviousSecret = try column("webhook_previous_secret")
        webhookPreviousUntil = (try column("webhook_previous_until_ms", as: Int64?.self)).map(Date.init(milliseconds:))
        declaredRemainingRuns = try column("remaining_runs_declared")
        dayMatch = try column("day_match")
        dstGap = try column("dst_gap")
        dstFold = try column("dst_fold")
        retry = (try column("retry_json", as: String?.self)).flatMap(RetryPolicy.init(json:))
        notify = (try column("notify_json", as: String?.self)).flatMap(NotifyRule.rules(json:))
        expectedDurationSeconds = (try column("expected_duration_seconds", as: Int64?.self)).map { Int(clamping: $0) }
    }
}

extension RunRecord {
    /// The columns a run is read from, in `SELECT` order.
    static let postgresColumns = """
        id, schedule_id, workflow, trigger, nominal_time_ms, dedupe_key, state, queued_at_ms, not_before_ms, \
        started_at_ms, finished_at_ms, trace_id, root_span_id, root_start_nanos, input_json, payload, output_json, \
        error, nodes_json, owner, attempt, fire_attempt, retry_of, retry_of_trace
        """

    /// The run a `run` row stores. A state name this version does not know reads as `failed` (as in SQLite).
    init(postgres row: PostgresRow) throws {
        let column = PostgresColumns(row, table: "run")
        self.init(
            id: try column("id"), scheduleID: try column("schedule_id"), workflow: try column("workflow"),
            trigger: try column("trigger"),
            nominalTime: (try column("nominal_time_ms", as: Int64?.self)).map(Date.init(milliseconds:)),
            dedupeKey: try column("dedupe_key"), state: RunState(rawValue: try column("state")) ?? .failed,
            queuedAt: Date(milliseconds: try column("queued_at_ms")),
            notBefore: (try column("not_before_ms", as: Int64?.self)).map(Date.init(milliseconds:)),
            inputJSON: try column("input_json"), payload: try column("payload"))
        startedAt = (try column("started_at_ms", as: Int64?.self)).map(Date.init(milliseconds:))
        finishedAt = (try column("finished_at_ms", as: Int64?.self)).map(Date.init(milliseconds:))
        traceID = try column("trace_id")
        rootSpanID = try column("root_span_id")
        rootStartNanos = try column("root_start_nanos")
        outputJSON = try column("output_json")
        error = try column("error")
        nodesJSON = try column("nodes_json")
        owner = try column("owner")
        attempt = Int(clamping: try column("attempt", as: Int64.self))
        fireAttempt = Int(clamping: try column("fire_attempt", as: Int64.self))
        retryOf = try column("retry_of")
        retryOfTrace = try column("retry_of_trace")
    }
}

extension RunSummary {
    /// The summary a row of ``RunSummary/columns`` stores. A state name this version does not know
    /// reads as `failed` (as a whole run does).
    init(postgres row: PostgresRow) throws {
        let column = PostgresColumns(row, table: "run")
        self.init(
            id: try column("id"), scheduleID: try column("schedule_id"), workflow: try column("workflow"),
            trigger: try column("trigger"), state: RunState(rawValue: try column("state")) ?? .failed,
            nominalTime: (try column("nominal_time_ms", as: Int64?.self)).map(Date.init(milliseconds:)),
            queuedAt: Date(milliseconds: try column("queued_at_ms")),
            startedAt: (try column("started_at_ms", as: Int64?.self)).map(Date.init(milliseconds:)),
            finishedAt: (try column("finished_at_ms", as: Int64?.self)).map(Date.init(milliseconds:)),
            error: try column("error"), fireAttempt: Int(clamping: try column("fire_attempt", as: Int64.self)),
            owner: try column("owner"))
    }
}
