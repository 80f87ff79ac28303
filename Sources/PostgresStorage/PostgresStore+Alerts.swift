import Foundation
import Logging
import PostgresNIO
import Storage
import Support

/// The `alert` outbox and `schedule_streak`, shared by the daemons on one database: an alert is
/// stored once (its dedupe key) and claimed by one daemon at a time (`SKIP LOCKED`).
extension PostgresStore {
    /// Stores alerts, each unless its dedupe key is stored already.
    public func insertAlerts(_ alerts: [AlertRecord]) async throws -> Set<String> {
        guard !alerts.isEmpty else { return [] }
        return try await transaction { connection in try await Self.insert(alerts, on: connection, logger: logger) }
    }

    /// Records whether the schedule is failing; stores `alerts` when that changed.
    public func recordStreak(scheduleID: String, failing: Bool, at: Date, alerts: [AlertRecord]) async throws -> Bool {
        try await transaction { connection in
            let changed: [String]
            if failing {
                changed = try await Self.rows(
                    """
                    INSERT INTO schedule_streak (schedule_id, failing, since_ms) VALUES (\(scheduleID), true, \(at.milliseconds))
                    ON CONFLICT (schedule_id) DO UPDATE SET failing = true, since_ms = excluded.since_ms
                    WHERE NOT schedule_streak.failing
                    RETURNING schedule_id
                    """, on: connection, logger: logger
                ) { row in try row.decode(String.self) }
            } else {
                changed = try await Self.rows(
                    """
                    UPDATE schedule_streak SET failing = false, since_ms = \(at.milliseconds)
                    WHERE schedule_id = \(scheduleID) AND failing
                    RETURNING schedule_id
                    """, on: connection, logger: logger
                ) { row in try row.decode(String.self) }
            }
            guard !changed.isEmpty else { return false }
            _ = try await Self.insert(alerts, on: connection, logger: logger)
            return true
        }
    }

    /// Claims pending alerts due by `now`, oldest first, for `lease`; rows another daemon is claiming
    /// are passed over.
    public func claimAlerts(now: Date, lease: Duration, limit: Int) async throws -> [AlertRecord] {
        guard limit > 0 else { return [] }
        let until = now.milliseconds + Int64(saturating: (lease.timeInterval * 1000).rounded())
        let alerts = try await rows(
            """
            UPDATE alert SET claimed_until_ms = \(until)
            WHERE id IN (
                SELECT id FROM alert
                WHERE state = 'pending' AND next_attempt_at_ms <= \(now.milliseconds)
                    AND (claimed_until_ms IS NULL OR claimed_until_ms <= \(now.milliseconds))
                ORDER BY next_attempt_at_ms, id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING \(unescaped: Self.alertColumns)
            """, doing: "claim", Self.alert)
        return alerts.sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
    }

    /// Stores how a delivery went, counting the attempt and ending the claim.
    public func settleAlert(id: String, _ delivery: AlertDelivery) async throws {
        let (state, next, delivered, error) = delivery.columns
        try await execute(
            """
            UPDATE alert SET state = \(state.rawValue), attempts = attempts + 1,
                next_attempt_at_ms = coalesce(\(next)::bigint, next_attempt_at_ms), delivered_at_ms = \(delivered),
                last_error = \(error?.postgresText), claimed_until_ms = NULL
            WHERE id = \(id)
            """)
    }

    /// Alerts, newest first.
    public func alerts(scheduleID: String?, limit: Int, before: String?) async throws -> [AlertRecord] {
        try await rows(
            """
            SELECT \(unescaped: Self.alertColumns) FROM alert
            WHERE (\(scheduleID)::text IS NULL OR schedule_id = \(scheduleID))
                AND (\(before)::text IS NULL OR id < \(before))
            ORDER BY id DESC LIMIT \(max(0, limit))
            """, Self.alert)
    }

    /// Deletes up to `limit` alerts made before `cutoff` that are not pending, oldest first.
    public func deleteAlerts(createdBefore cutoff: Date, limit: Int) async throws -> Int {
        try await rows(
            """
            DELETE FROM alert WHERE id IN (
                SELECT id FROM alert WHERE created_at_ms < \(cutoff.milliseconds) AND state <> 'pending'
                ORDER BY id LIMIT \(max(0, limit)) FOR UPDATE SKIP LOCKED)
            RETURNING id
            """, doing: "delete"
        ) { row in try row.decode(String.self) }.count
    }

    /// The columns an alert is read from.
    static let alertColumns = """
        id, schedule_id, schedule_name, event, run_id, dedupe_key, target_json, payload_json, state, attempts, \
        next_attempt_at_ms, created_at_ms, delivered_at_ms, last_error
        """

    /// Inserts alerts unless their dedupe key is taken. - Returns: the ids stored.
    static func insert(
        _ alerts: [AlertRecord], on connection: PostgresConnection, logger: Logger
    ) async throws -> Set<String> {
        var stored: Set<String> = []
        for alert in alerts {
            let ids = try await rows(
                """
                INSERT INTO alert (
                    id, schedule_id, schedule_name, event, run_id, dedupe_key, target_json, payload_json, state,
                    attempts, next_attempt_at_ms, created_at_ms, delivered_at_ms, last_error)
                VALUES (
                    \(alert.id), \(alert.scheduleID), \(alert.scheduleName.postgresText), \(alert.event.rawValue),
                    \(alert.runID), \(alert.dedupeKey), \(alert.targetJSON.postgresText),
                    \(alert.payloadJSON.postgresText), \(alert.state.rawValue), \(alert.attempts),
                    \(alert.nextAttemptAt.milliseconds), \(alert.createdAt.milliseconds),
                    \(alert.deliveredAt?.milliseconds), \(alert.lastError?.postgresText))
                ON CONFLICT (dedupe_key) DO NOTHING
                RETURNING id
                """, on: connection, logger: logger
            ) { row in try row.decode(String.self) }
            stored.formUnion(ids)
        }
        return stored
    }

    /// The alert a row stores; an event or state this version does not know reads as `failure` and
    /// `failed` (as in SQLite).
    static func alert(_ row: PostgresRow) throws -> AlertRecord {
        let column = PostgresColumns(row, table: "alert")
        var alert = AlertRecord(
            id: try column("id"), scheduleID: try column("schedule_id"), scheduleName: try column("schedule_name"),
            event: AlertEvent(rawValue: try column("event")) ?? .failure, runID: try column("run_id"),
            dedupeKey: try column("dedupe_key"), targetJSON: try column("target_json"),
            payloadJSON: try column("payload_json"),
            createdAt: Date(milliseconds: try column("created_at_ms")))
        alert.state = AlertState(rawValue: try column("state")) ?? .failed
        alert.attempts = Int(clamping: try column("attempts", as: Int64.self))
        alert.nextAttemptAt = Date(milliseconds: try column("next_attempt_at_ms"))
        alert.deliveredAt = (try column("delivered_at_ms", as: Int64?.self)).map(Date.init(milliseconds:))
        alert.lastError = try column("last_error")
        return alert
    }
}
