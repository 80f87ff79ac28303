import Foundation
import PostgresNIO
import Storage

/// The `instance` table: the daemons sharing the database and their heartbeats, at the database's
/// clock, so that every instance judges "recent" by the same clock.
extension PostgresStore {
    /// Stores the heartbeat at the database's clock (`clock_timestamp()`), and forgets instances not
    /// seen for a day.
    /// - Returns: the database's clock at the heartbeat.
    public func heartbeat(_ instance: InstanceRecord) async throws -> Date {
        let started = instance.startedAt.milliseconds
        let runs = Int64(instance.runsRunning)
        let stamps = try await transaction { connection in
            let now = try await Self.rows(
                """
                INSERT INTO instance (id, host, version, started_at_ms, heartbeat_at_ms, runs_running, clock_offset_ms)
                VALUES (\(instance.id), \(instance.host.postgresText), \(instance.version.postgresText), \(started),
                    (extract(epoch FROM clock_timestamp()) * 1000)::bigint, \(runs), \(instance.clockOffsetMs))
                ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, version = EXCLUDED.version,
                    started_at_ms = EXCLUDED.started_at_ms, heartbeat_at_ms = EXCLUDED.heartbeat_at_ms,
                    runs_running = EXCLUDED.runs_running, clock_offset_ms = EXCLUDED.clock_offset_ms
                RETURNING heartbeat_at_ms
                """, on: connection, logger: logger
            ) { row in try row.decode(Int64.self) }
            let memory = Self.instanceMemoryMs
            try await Self.execute(
                "DELETE FROM instance WHERE heartbeat_at_ms < \((now.first ?? 0) - memory)", on: connection,
                logger: logger)
            return now
        }
        return Date(milliseconds: stamps.first ?? Date().milliseconds)
    }

    /// Instances seen at or after `since` (the database's clock), in the order they started.
    public func instances(seenSince since: Date) async throws -> [InstanceRecord] {
        try await rows(
            """
            SELECT id, host, version, started_at_ms, heartbeat_at_ms, runs_running, clock_offset_ms
            FROM instance WHERE heartbeat_at_ms >= \(since.milliseconds) ORDER BY started_at_ms, id
            """
        ) { row in
            let columns = PostgresColumns(row, table: "instance")
            return InstanceRecord(
                id: try columns("id"), host: try columns("host"), version: try columns("version"),
                startedAt: Date(milliseconds: try columns("started_at_ms")),
                heartbeatAt: Date(milliseconds: try columns("heartbeat_at_ms")),
                runsRunning: Int(clamping: try columns("runs_running", as: Int64.self)),
                clockOffsetMs: try columns("clock_offset_ms"))
        }
    }

    /// Forgets an instance. Returns false when there was none.
    public func removeInstance(id: String) async throws -> Bool {
        try await rows("DELETE FROM instance WHERE id = \(id) RETURNING id", doing: "delete") { row in
            try row.decode(String.self)
        }.count == 1
    }

    /// How long an instance that stopped sending heartbeats is remembered: a day.
    static let instanceMemoryMs: Int64 = 86_400_000
}
