import Foundation
import Logging
import PostgresNIO
import Storage

/// The schedules' cursors, remaining runs and pauses after a tick, in one statement: a burst of
/// thousands of schedules due in one second moved one row per round trip before, which took longer
/// than storing all their runs.
extension PostgresStore {
    /// One schedule's row after a tick, as a row of the statement's JSON (`nil`s left out read as
    /// `NULL`).
    private struct Cursor: Encodable {
        var id: String
        var cursor: Int64
        /// The remaining runs after the tick; `nil` leaves them as they are.
        var remaining_runs: Int?
        var pauses: Bool
    }

    /// Moves the cursor of every schedule in `fires` (never back), and writes the remaining runs and
    /// the pauses of `counts` (``ScheduleFires/remaining(storedRemaining:storedQueued:)``).
    static func advance(
        _ fires: [ScheduleFires], counts: [String: (left: Int, pauses: Bool)], now: Int64,
        on connection: PostgresConnection, logger: Logger
    ) async throws {
        for start in stride(from: 0, to: fires.count, by: batchSize) {
            let rows = fires[start..<min(start + batchSize, fires.count)].map { item in
                let count = counts[item.scheduleID]
                return Cursor(
                    id: item.scheduleID, cursor: item.cursor, remaining_runs: count?.left,
                    pauses: count?.pauses ?? false)
            }
            let json = try jsonRows(rows)
            // `schedule.id = ANY(ids)` as well as the join: the planner guesses a hundred rows for
            // any `json_to_recordset`, and would read every schedule to join them by hash.
            try await Self.execute(
                """
                UPDATE schedule SET
                    last_fire_seconds = GREATEST(coalesce(schedule.last_fire_seconds, new.cursor), new.cursor),
                    remaining_runs = coalesce(new.remaining_runs, schedule.remaining_runs),
                    paused = schedule.paused OR new.pauses,
                    pause_note = CASE WHEN new.pauses THEN \(ScheduleFires.lastRunPauseNote) ELSE schedule.pause_note END,
                    updated_at_ms = \(now)
                FROM json_to_recordset(\(json)::json) AS new (
                    id text, cursor bigint, remaining_runs bigint, pauses boolean)
                WHERE schedule.id = ANY(\(rows.map(\.id))) AND schedule.id = new.id
                """, on: connection, logger: logger)
        }
    }
}
