import Foundation
import GRDB

/// One row of the `schedule` table, column for column (see ``SQLiteMigrations``): instants are whole
/// milliseconds, policies their raw names. ``ScheduleRecord`` is what the rest of the daemon sees.
/// GRDB inserts and updates it through its `Encodable` conformance.
struct ScheduleRow: SQLiteRow, Encodable {
    static let databaseTableName = "schedule"

    var id: String
    var name: String
    var cron: String?
    var timeZone: String
    var webhook: Bool
    var webhookScheme: String?
    var webhookSecret: String?
    var webhookSecretEnv: String?
    var webhookPreviousSecret: String?
    var webhookPreviousUntilMs: Int64?
    var workflow: String
    var inputJSON: String
    var overlap: String
    var catchupWindowSeconds: Int
    var catchupMode: String
    var jitterSeconds: Int
    var timeoutSeconds: Int?
    var paused: Bool
    var pauseNote: String?
    var remainingRuns: Int?
    var remainingRunsDeclared: Int?
    var dayMatch: String?
    var dstGap: String?
    var dstFold: String?
    var source: String?
    var lastFireSeconds: Int64?
    var createdAtMs: Int64
    var updatedAtMs: Int64
    var retryJSON: String?
    var notifyJSON: String?
    var expectedDurationSeconds: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, cron
        case timeZone = "time_zone"
        case webhook
        case webhookScheme = "webhook_scheme"
        case webhookSecret = "webhook_secret"
        case webhookSecretEnv = "webhook_secret_env"
        case webhookPreviousSecret = "webhook_previous_secret"
        case webhookPreviousUntilMs = "webhook_previous_until_ms"
        case workflow
        case inputJSON = "input_json"
        case overlap
        case catchupWindowSeconds = "catchup_window_seconds"
        case catchupMode = "catchup_mode"
        case jitterSeconds = "jitter_seconds"
        case timeoutSeconds = "timeout_seconds"
        case paused
        case pauseNote = "pause_note"
        case remainingRuns = "remaining_runs"
        case remainingRunsDeclared = "remaining_runs_declared"
        case dayMatch = "day_match"
        case dstGap = "dst_gap"
        case dstFold = "dst_fold"
        case source
        case lastFireSeconds = "last_fire_seconds"
        case createdAtMs = "created_at_ms"
        case updatedAtMs = "updated_at_ms"
        case retryJSON = "retry_json"
        case notifyJSON = "notify_json"
        case expectedDurationSeconds = "expected_duration_seconds"
    }

    /// Reads a fetched row; a value of the wrong type is a thrown ``StorageError``, never a trap.
    ///
    /// Column by column rather than through `Decodable` (``SQLiteRow/decodeColumns(of:)``): a daemon
    /// reads every schedule a few times at start, and with 10,000 of them the decoder took longer
    /// than everything else. The row is copied first, as there, so that a value of the wrong type
    /// fails instead of being converted by SQLite.
    init(row: Row) throws {
        let row = row.copy()
        var columns = ColumnReader(row: row)
        do {
            id = try columns.next(.id)
            name = try columns.next(.name)
            cron = try columns.next(.cron)
            timeZone = try columns.next(.timeZone)
            webhook = try columns.next(.webhook)
            webhookScheme = try columns.next(.webhookScheme)
            webhookSecret = try columns.next(.webhookSecret)
            webhookSecretEnv = try columns.next(.webhookSecretEnv)
            webhookPreviousSecret = try columns.next(.webhookPreviousSecret)
            webhookPreviousUntilMs = try columns.next(.webhookPreviousUntilMs)
            workflow = try columns.next(.workflow)
            inputJSON = try columns.next(.inputJSON)
            overlap = try columns.next(.overlap)
            catchupWindowSeconds = try columns.next(.catchupWindowSeconds)
            catchupMode = try columns.next(.catchupMode)
            jitterSeconds = try columns.next(.jitterSeconds)
            timeoutSeconds = try columns.next(.timeoutSeconds)
            paused = try columns.next(.paused)
            pauseNote = try columns.next(.pauseNote)
            remainingRuns = try columns.next(.remainingRuns)
            remainingRunsDeclared = try columns.next(.remainingRunsDeclared)
            dayMatch = try columns.next(.dayMatch)
            dstGap = try columns.next(.dstGap)
            dstFold = try columns.next(.dstFold)
            source = try columns.next(.source)
            lastFireSeconds = try columns.next(.lastFireSeconds)
            createdAtMs = try columns.next(.createdAtMs)
            updatedAtMs = try columns.next(.updatedAtMs)
            retryJSON = try columns.next(.retryJSON)
            notifyJSON = try columns.next(.notifyJSON)
            expectedDurationSeconds = try columns.next(.expectedDurationSeconds)
        } catch {
            throw Self.wrongType(row)
        }
    }

    /// The columns GRDB selects for this record, in the order of ``CodingKeys``, so that a fetched
    /// row is read by position.
    static var databaseSelection: [any SQLSelectable] { CodingKeys.allCases.map { Column($0.rawValue) } }

    /// Reads a row's values in the order of ``CodingKeys``: by position when the row has exactly
    /// those columns in that order (a fetch through ``databaseSelection``), by name otherwise (GRDB
    /// looks a name up by comparing it with every column's, which was a sixth of a start with
    /// 10,000 schedules).
    private struct ColumnReader {
        static let names = CodingKeys.allCases.map(\.rawValue)
        let row: Row
        let inOrder: Bool
        var index = 0

        init(row: Row) {
            self.row = row
            inOrder = row.count == Self.names.count && zip(row.columnNames, Self.names).allSatisfy { $0 == $1 }
        }

        /// The value of `key`, the next column in ``CodingKeys``' order.
        mutating func next<T: DatabaseValueConvertible>(_ key: CodingKeys) throws -> T {
            defer { index += 1 }
            guard inOrder, Self.names[index] == key.rawValue else {
                return try row.decode(T.self, forColumn: key.rawValue)
            }
            return try row.decode(T.self, atIndex: index)
        }
    }

    /// The row that stores `record`.
    init(_ record: ScheduleRecord) {
        id = record.id
        name = record.name
        cron = record.cron
        timeZone = record.timeZone
        webhook = record.webhook
        webhookScheme = record.webhookScheme?.rawValue
        webhookSecret = record.webhookSecret
        webhookSecretEnv = record.webhookSecretEnv
        webhookPreviousSecret = record.webhookPreviousSecret
        webhookPreviousUntilMs = record.webhookPreviousUntil?.milliseconds
        workflow = record.workflow
        inputJSON = record.inputJSON
        overlap = record.overlap.rawValue
        catchupWindowSeconds = record.catchupWindowSeconds
        catchupMode = record.catchupMode.rawValue
        jitterSeconds = record.jitterSeconds
        timeoutSeconds = record.timeoutSeconds
        paused = record.paused
        pauseNote = record.pauseNote
        remainingRuns = record.remainingRuns
        remainingRunsDeclared = record.declaredRemainingRuns
        dayMatch = record.dayMatch
        dstGap = record.dstGap
        dstFold = record.dstFold
        source = record.source
        lastFireSeconds = record.lastFireSeconds
        createdAtMs = record.createdAt.milliseconds
        updatedAtMs = record.updatedAt.milliseconds
        retryJSON = record.retry?.json
        notifyJSON = record.notify.map(NotifyRule.json)
        expectedDurationSeconds = record.expectedDurationSeconds
    }

    /// The schedule this row stores. A policy name this version does not know (a hand-edited row) reads
    /// as the default, `skip` overlap and `latest` catch-up; an unknown webhook scheme as none, and a
    /// retry policy that cannot be read as the daemon's default.
    var record: ScheduleRecord {
        var record = ScheduleRecord(
            id: id, name: name, cron: cron, timeZone: timeZone, webhook: webhook, webhookSecret: webhookSecret,
            webhookSecretEnv: webhookSecretEnv, workflow: workflow, inputJSON: inputJSON,
            overlap: OverlapPolicy(rawValue: overlap) ?? .skip, catchupWindowSeconds: catchupWindowSeconds,
            catchupMode: CatchupMode(rawValue: catchupMode) ?? .latest, jitterSeconds: jitterSeconds,
            timeoutSeconds: timeoutSeconds, paused: paused, pauseNote: pauseNote, remainingRuns: remainingRuns,
            source: source, lastFireSeconds: lastFireSeconds, createdAt: Date(milliseconds: createdAtMs),
            updatedAt: Date(milliseconds: updatedAtMs))
        // Set after the initialiser, which would make up a scheme for a webhook stored without one.
        record.webhookScheme = webhookScheme.flatMap(WebhookScheme.init(rawValue:))
        record.webhookPreviousSecret = webhookPreviousSecret
        record.webhookPreviousUntil = webhookPreviousUntilMs.map(Date.init(milliseconds:))
        record.declaredRemainingRuns = remainingRunsDeclared
        record.dayMatch = dayMatch
        record.dstGap = dstGap
        record.dstFold = dstFold
        record.retry = retryJSON.flatMap(RetryPolicy.init(json:))
        record.notify = notifyJSON.flatMap(NotifyRule.rules(json:))
        record.expectedDurationSeconds = expectedDurationSeconds
        return record
    }
}
