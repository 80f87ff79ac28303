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
    }

    /// Reads a fetched row; a value of the wrong type is a thrown ``StorageError``, never a trap.
    init(row: Row) throws {
        self = try Self.decodeColumns(of: row)
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
    }

    /// The schedule this row stores. A policy name this version does not know (a hand-edited row) reads
    /// as the default, `skip` overlap and `latest` catch-up; an unknown webhook scheme as none.
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
        return record
    }
}
