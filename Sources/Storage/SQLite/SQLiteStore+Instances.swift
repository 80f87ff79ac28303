import Foundation
import GRDB

/// The `instance` table: the daemons using the database and their heartbeats. With SQLite there is
/// one daemon, and the database's clock is the machine's.
extension SQLiteStore {
    /// Stores the heartbeat at this machine's clock, and forgets instances not seen for a day.
    /// - Returns: the clock the heartbeat was stored at.
    public func heartbeat(_ instance: InstanceRecord) async throws -> Date {
        let now = Date()
        var row = InstanceRow(instance)
        row.heartbeatAtMs = now.milliseconds
        let stored = row
        try await write { db in
            try stored.save(db)
            try db.execute(
                sql: "DELETE FROM instance WHERE heartbeat_at_ms < ?",
                arguments: [now.milliseconds - Self.instanceMemoryMs])
        }
        return Date(milliseconds: now.milliseconds)
    }

    /// Instances seen at or after `since`, in the order they started.
    public func instances(seenSince since: Date) async throws -> [InstanceRecord] {
        try await read { db in
            try InstanceRow.fetchAll(
                db.cachedStatement(
                    sql: "SELECT * FROM instance WHERE heartbeat_at_ms >= ? ORDER BY started_at_ms, id"),
                arguments: [since.milliseconds]
            ).map(\.record)
        }
    }

    /// Forgets an instance. Returns false when there was none.
    public func removeInstance(id: String) async throws -> Bool {
        try await write { db in try InstanceRow.deleteOne(db, key: id) }
    }

    /// How long an instance that stopped sending heartbeats is remembered: a day.
    static let instanceMemoryMs: Int64 = 86_400_000
}
