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
        /// Whether this daemon's count of remaining runs (and its pause) is written.
        var counts: Bool
        var remaining_runs: Int?
        var pauses: Bool
        var pause_note: String?
    }

    /// Moves the cursor of every schedule in `fires` (never back), and where this daemon stored
    /// runs of the schedule (`stored`), writes its remaining runs and its pause. A daemon whose every
    /// fire of a schedule another stored before it (their dedupe keys) moves the cursor only: the
    /// count of remaining runs is that other daemon's to write, and its own may be behind.
    static func advance(
        _ fires: [ScheduleFires], stored: Set<String>, now: Int64, on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        let encoder = JSONEncoder()
        for start in stride(from: 0, to: fires.count, by: batchSize) {
            let rows = fires[start..<min(start + batchSize, fires.count)].map { item in
                let counts = item.runs.isEmpty || item.runs.contains { stored.contains($0.id) }
                let pauses = counts && item.pauseNote != nil
                return Cursor(
                    id: item.scheduleID, cursor: item.cursor, counts: counts, remaining_runs: item.remainingRuns,
                    pauses: pauses, pause_note: pauses ? item.pauseNote?.postgresText : nil)
            }
            guard let json = String(data: try encoder.encode(rows), encoding: .utf8) else { continue }
            try await connection.query(
                """
                UPDATE schedule SET
                    last_fire_seconds = GREATEST(coalesce(schedule.last_fire_seconds, new.cursor), new.cursor),
                    remaining_runs = CASE WHEN new.counts THEN new.remaining_runs ELSE schedule.remaining_runs END,
                    paused = schedule.paused OR new.pauses,
                    pause_note = CASE WHEN new.pauses THEN new.pause_note ELSE schedule.pause_note END,
                    updated_at_ms = \(now)
                FROM json_to_recordset(\(json)::json) AS new (
                    id text, cursor bigint, counts boolean, remaining_runs bigint, pauses boolean, pause_note text)
                WHERE schedule.id = new.id
                """, logger: logger)
        }
    }
}
