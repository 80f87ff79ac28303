import Foundation
import GRDB

/// One row of the `instance` table (see ``SQLiteMigrations``); ``InstanceRecord`` is what the rest of
/// the daemon sees.
struct InstanceRow: SQLiteRow, Encodable {
    static let databaseTableName = "instance"

    var id: String
    var host: String
    var version: String
    var startedAtMs: Int64
    var heartbeatAtMs: Int64
    var runsRunning: Int64
    var clockOffsetMs: Int64?

    enum CodingKeys: String, CodingKey {
        case id, host, version
        case startedAtMs = "started_at_ms"
        case heartbeatAtMs = "heartbeat_at_ms"
        case runsRunning = "runs_running"
        case clockOffsetMs = "clock_offset_ms"
    }

    init(row: Row) throws { self = try Self.decodeColumns(of: row) }

    init(_ record: InstanceRecord) {
        id = record.id
        host = record.host
        version = record.version
        startedAtMs = record.startedAt.milliseconds
        heartbeatAtMs = record.heartbeatAt.milliseconds
        runsRunning = Int64(record.runsRunning)
        clockOffsetMs = record.clockOffsetMs
    }

    var record: InstanceRecord {
        InstanceRecord(
            id: id, host: host, version: version, startedAt: Date(milliseconds: startedAtMs),
            heartbeatAt: Date(milliseconds: heartbeatAtMs), runsRunning: Int(clamping: runsRunning),
            clockOffsetMs: clockOffsetMs)
    }
}
