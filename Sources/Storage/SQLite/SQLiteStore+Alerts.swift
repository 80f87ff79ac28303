import Foundation
import GRDB
import Support

/// The `alert` table, the outbox alerts are delivered from, and `schedule_streak`, whether each
/// schedule is failing: ``SchedulerStore``'s alert half.
extension SQLiteStore {
    /// Stores alerts, each unless its dedupe key is stored already.
    public func insertAlerts(_ alerts: [AlertRecord]) async throws -> Set<String> {
        guard !alerts.isEmpty else { return [] }
        return try await write(durable: true) { db in try Self.insert(alerts, db) }
    }

    /// Records whether the schedule is failing; stores `alerts` when that changed.
    public func recordStreak(scheduleID: String, failing: Bool, at: Date, alerts: [AlertRecord]) async throws -> Bool {
        try await write(durable: true) { db in
            let changed: Bool
            if failing {
                // A first failure inserts the row; a failure of a failing schedule changes nothing.
                changed =
                    try String.fetchOne(
                        db,
                        sql: """
                            INSERT INTO schedule_streak (schedule_id, failing, since_ms) VALUES (?, 1, ?)
                            ON CONFLICT (schedule_id) DO UPDATE SET failing = 1, since_ms = excluded.since_ms
                            WHERE NOT schedule_streak.failing
                            RETURNING schedule_id
                            """, arguments: [scheduleID, at.milliseconds]) != nil
            } else {
                changed =
                    try String.fetchOne(
                        db,
                        sql: """
                            UPDATE schedule_streak SET failing = 0, since_ms = ? WHERE schedule_id = ? AND failing
                            RETURNING schedule_id
                            """, arguments: [at.milliseconds, scheduleID]) != nil
            }
            if changed { _ = try Self.insert(alerts, db) }
            return changed
        }
    }

    /// Claims pending alerts due by `now`, oldest first, for `lease`.
    public func claimAlerts(now: Date, lease: Duration, limit: Int) async throws -> [AlertRecord] {
        guard limit > 0 else { return [] }
        let until = now.milliseconds + Int64(saturating: (lease.timeInterval * 1000).rounded())
        return try await write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE alert SET claimed_until_ms = ?
                    WHERE id IN (
                        SELECT id FROM alert
                        WHERE state = 'pending' AND next_attempt_at_ms <= ?
                            AND (claimed_until_ms IS NULL OR claimed_until_ms <= ?)
                        ORDER BY next_attempt_at_ms, id LIMIT ?)
                    RETURNING *
                    """, arguments: [until, now.milliseconds, now.milliseconds, limit])
            return try rows.map(Self.alert).sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        }
    }

    /// Stores how a delivery went, counting the attempt and ending the claim.
    public func settleAlert(id: String, _ delivery: AlertDelivery) async throws {
        let (state, next, delivered, error) = delivery.columns
        try await write(durable: true) { db in
            try db.execute(
                sql: """
                    UPDATE alert SET state = ?, attempts = attempts + 1,
                        next_attempt_at_ms = coalesce(?, next_attempt_at_ms), delivered_at_ms = ?, last_error = ?,
                        claimed_until_ms = NULL
                    WHERE id = ?
                    """, arguments: [state.rawValue, next, delivered, error, id])
        }
    }

    /// Alerts, newest first.
    public func alerts(scheduleID: String?, limit: Int, before: String?) async throws -> [AlertRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM alert
                    WHERE (? IS NULL OR schedule_id = ?) AND (? IS NULL OR id < ?)
                    ORDER BY id DESC LIMIT ?
                    """, arguments: [scheduleID, scheduleID, before, before, max(0, limit)]
            ).map(Self.alert)
        }
    }

    /// Deletes up to `limit` alerts made before `cutoff` that are not pending, oldest first.
    public func deleteAlerts(createdBefore cutoff: Date, limit: Int) async throws -> Int {
        try await write { db in
            try db.execute(
                sql: """
                    DELETE FROM alert WHERE id IN (
                        SELECT id FROM alert WHERE created_at_ms < ? AND state <> 'pending' ORDER BY id LIMIT ?)
                    """, arguments: [cutoff.milliseconds, max(0, limit)])
            return db.changesCount
        }
    }

    /// Inserts alerts unless their dedupe key is taken. - Returns: the ids stored.
    static func insert(_ alerts: [AlertRecord], _ db: Database) throws -> Set<String> {
        var stored: Set<String> = []
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO alert (
                    id, schedule_id, schedule_name, event, run_id, dedupe_key, target_json, payload_json, state,
                    attempts, next_attempt_at_ms, created_at_ms, delivered_at_ms, last_error)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (dedupe_key) DO NOTHING
                """)
        for alert in alerts {
            try statement.execute(arguments: [
                alert.id, alert.scheduleID, alert.scheduleName, alert.event.rawValue, alert.runID, alert.dedupeKey,
                alert.targetJSON, alert.payloadJSON, alert.state.rawValue, alert.attempts,
                alert.nextAttemptAt.milliseconds, alert.createdAt.milliseconds, alert.deliveredAt?.milliseconds,
                alert.lastError,
            ])
            if db.changesCount > 0 { stored.insert(alert.id) }
        }
        return stored
    }

    /// The alert a row stores; an event or state this version does not know reads as `failure` and
    /// `failed` (a hand-edited row is not delivered).
    static func alert(_ row: Row) throws -> AlertRecord {
        do {
            var alert = AlertRecord(
                id: try row.decode(String.self, forColumn: "id"),
                scheduleID: try row.decode(String?.self, forColumn: "schedule_id"),
                scheduleName: try row.decode(String.self, forColumn: "schedule_name"),
                event: AlertEvent(rawValue: try row.decode(String.self, forColumn: "event")) ?? .failure,
                runID: try row.decode(String?.self, forColumn: "run_id"),
                dedupeKey: try row.decode(String.self, forColumn: "dedupe_key"),
                targetJSON: try row.decode(String.self, forColumn: "target_json"),
                payloadJSON: try row.decode(String.self, forColumn: "payload_json"),
                createdAt: Date(milliseconds: try row.decode(Int64.self, forColumn: "created_at_ms")))
            alert.state = AlertState(rawValue: try row.decode(String.self, forColumn: "state")) ?? .failed
            alert.attempts = Int(clamping: try row.decode(Int64.self, forColumn: "attempts"))
            alert.nextAttemptAt = Date(milliseconds: try row.decode(Int64.self, forColumn: "next_attempt_at_ms"))
            alert.deliveredAt = try row.decode(Int64?.self, forColumn: "delivered_at_ms").map(Date.init(milliseconds:))
            alert.lastError = try row.decode(String?.self, forColumn: "last_error")
            return alert
        } catch {
            throw StorageError(
                code: .database,
                message: "an alert row has a value of the wrong type for its column (was the database edited by hand?)")
        }
    }
}
