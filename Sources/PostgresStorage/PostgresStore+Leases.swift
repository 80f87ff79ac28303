import Foundation
import PostgresNIO
import Storage
import Support

/// Runs as a queue shared by the daemons on one database. An instance holds the runs it stored or
/// claimed (``RunRecord/owner``) as long as its heartbeats reach the `instance` table: the heartbeat
/// is every run's lease, so that thousands of running runs cost no writes to keep. Silence is judged
/// by the database's clock, the same for every instance.
extension PostgresStore {
    /// The runs `owner` holds, queued or running, by id.
    public func heldRuns(owner: String) async throws -> [String: RunState] {
        let pairs = try await rows(
            "SELECT id, state FROM run WHERE owner = \(owner) AND state IN ('queued', 'running')"
        ) { row in try row.decode((String, String).self) }
        var held: [String: RunState] = [:]
        for (id, name) in pairs { if let state = RunState(rawValue: name) { held[id] = state } }
        return held
    }

    /// Interrupts the running runs, and frees the queued runs, of owners other than `sparing` without
    /// a heartbeat within `silence` by the database's clock (or without an instance row), in one
    /// transaction, with the retries `retry` makes of the interrupted runs. Rows another instance is
    /// expiring at the same moment are passed over (`SKIP LOCKED`): each interrupted run is reported
    /// by one instance, which closes its trace (and retries it).
    /// - Returns: the runs interrupted, as stored now.
    public func expireLeases(
        silence: Duration, sparing: String?, error: String, retry: @escaping @Sendable (RunRecord) -> RunRecord?
    ) async throws -> [RunRecord] {
        let silenceMs = Int64(saturating: (silence.timeInterval * 1000).rounded())
        return try await transaction { connection in
            let now =
                try await Self.rows(
                    "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint", on: connection, logger: logger
                ) { row in try row.decode(Int64.self) }.first ?? Date().milliseconds
            let since = now - silenceMs
            let runs = try await Self.rows(
                """
                UPDATE run SET state = 'interrupted', finished_at_ms = \(now), error = \(error.postgresText)
                WHERE id IN (
                    SELECT id FROM run
                    WHERE state = 'running' AND (owner IS NULL OR (owner IS DISTINCT FROM \(sparing)::text
                        AND owner NOT IN (SELECT id FROM instance WHERE heartbeat_at_ms >= \(since))))
                    FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: RunRecord.postgresColumns)
                """, on: connection, logger: logger, RunRecord.init(postgres:))
            try await Self.execute(
                """
                UPDATE run SET owner = NULL
                WHERE id IN (
                    SELECT id FROM run
                    WHERE state = 'queued' AND owner IS NOT NULL AND owner IS DISTINCT FROM \(sparing)::text
                        AND owner NOT IN (SELECT id FROM instance WHERE heartbeat_at_ms >= \(since))
                    FOR UPDATE SKIP LOCKED)
                """, on: connection, logger: logger)
            let retries = runs.compactMap(retry)
            if !retries.isEmpty { _ = try await Self.insert(retries, on: connection, logger: logger) }
            return runs.sorted { $0.id < $1.id }
        }
    }

    /// Makes up to `limit` queued runs held by no one `owner`'s, oldest first; rows another instance
    /// is claiming at the same moment are passed over (`FOR UPDATE SKIP LOCKED`), and so are runs of a
    /// `buffer-one` or `cancel-other` schedule whose other runs another instance holds.
    public func claimQueued(owner: String, limit: Int) async throws -> [RunRecord] {
        guard limit > 0 else { return [] }
        let runs = try await rows(
            """
            UPDATE run SET owner = \(owner)
            WHERE id IN (
                SELECT id FROM run WHERE state = 'queued' AND owner IS NULL AND NOT EXISTS (
                    SELECT 1 FROM schedule JOIN run AS other ON other.schedule_id = schedule.id
                    WHERE schedule.id = run.schedule_id AND schedule.overlap IN ('buffer-one', 'cancel-other')
                        AND other.id <> run.id AND other.state IN ('queued', 'running')
                        AND other.owner IS NOT NULL AND other.owner <> \(owner))
                ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING \(unescaped: RunRecord.postgresColumns)
            """, doing: "claim", RunRecord.init(postgres:))
        return runs.sorted { $0.id < $1.id }
    }

    /// Hands `owner`'s queued runs back, held by no one.
    public func releaseQueued(owner: String) async throws -> Int {
        try await rows(
            "UPDATE run SET owner = NULL WHERE state = 'queued' AND owner = \(owner) RETURNING id", doing: "release"
        ) { row in try row.decode(String.self) }.count
    }
}
