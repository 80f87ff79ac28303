import Foundation
import Logging
import PostgresNIO
import Storage

/// The `schedule` table: ``SchedulerStore``'s schedule half, and the timer's fires.
extension PostgresStore {
    /// Adds a schedule.
    /// - Throws: ``StorageError`` `.duplicateName` when the name is taken, `.database` otherwise.
    public func insertSchedule(_ schedule: ScheduleRecord) async throws {
        try await transaction { connection in
            try await Self.insert(schedule, on: connection, logger: logger)
            try await Self.announce([schedule.id], on: connection, logger: logger)
        }
    }

    /// Replaces the schedule with `schedule`'s id, every column.
    /// - Throws: ``StorageError`` `.notFound` when there is none, `.duplicateName` when another schedule
    ///   has the new name.
    public func updateSchedule(_ schedule: ScheduleRecord) async throws {
        try await transaction { connection in
            try await Self.update(schedule, on: connection, logger: logger)
            try await Self.announce([schedule.id], on: connection, logger: logger)
        }
    }

    /// Deletes a schedule; its runs stay, their `scheduleID` set to `nil` (`ON DELETE SET NULL`).
    /// - Returns: false when there was no schedule with that id.
    public func deleteSchedule(id: String) async throws -> Bool {
        try await transaction { connection in
            let deleted = try await Self.delete(id, on: connection, logger: logger)
            if deleted { try await Self.announce([id], on: connection, logger: logger) }
            return deleted
        }
    }

    /// Deletes, then replaces, then inserts, in one transaction, so that a name given up by a deleted
    /// or renamed schedule can be taken by another in the same call. The first failure undoes it all.
    /// - Throws: the first failure's ``StorageError``; nothing is changed.
    public func applySchedules(insert: [ScheduleRecord], update: [ScheduleRecord], delete: [String]) async throws {
        try await transaction { connection in
            for id in delete { _ = try await Self.delete(id, on: connection, logger: logger) }
            for schedule in update { try await Self.update(schedule, on: connection, logger: logger) }
            for schedule in insert { try await Self.insert(schedule, on: connection, logger: logger) }
            try await Self.announce(delete + update.map(\.id) + insert.map(\.id), on: connection, logger: logger)
        }
    }

    /// `SELECT 1` through the pool: the server answers this daemon's connections.
    public func ping() async throws {
        _ = try await rows("SELECT 1") { row in try row.decode(Int32.self) }
    }

    /// The schedule table's count and change times, in one query (the sum taken modulo 2^63 in
    /// `numeric`, so that it never overflows).
    public func scheduleRevision() async throws -> ScheduleRevision {
        let rows = try await rows(
            """
            SELECT count(*)::bigint, coalesce(max(updated_at_ms), 0)::bigint,
                (coalesce(sum(updated_at_ms::numeric), 0) % 9223372036854775807)::bigint
            FROM schedule
            """
        ) { row in try row.decode((Int64, Int64, Int64).self) }
        let (count, latest, sum) = rows.first ?? (0, 0, 0)
        return ScheduleRevision(count: Int(clamping: count), latestChangeMs: latest, changeSum: sum)
    }

    /// The schedule with this id, if any.
    public func schedule(id: String) async throws -> ScheduleRecord? {
        try await rows(
            "SELECT \(unescaped: ScheduleRecord.postgresColumns) FROM schedule WHERE id = \(id)",
            ScheduleRecord.init(postgres:)
        ).first
    }

    /// The schedule with this name, if any.
    public func schedule(named name: String) async throws -> ScheduleRecord? {
        try await rows(
            "SELECT \(unescaped: ScheduleRecord.postgresColumns) FROM schedule WHERE name = \(name)",
            ScheduleRecord.init(postgres:)
        ).first
    }

    /// Every schedule, ordered by name (byte by byte, as in SQLite).
    public func schedules() async throws -> [ScheduleRecord] {
        try await rows(
            "SELECT \(unescaped: ScheduleRecord.postgresColumns) FROM schedule ORDER BY name",
            ScheduleRecord.init(postgres:))
    }

    /// Stores a tick's runs and moves each schedule's cursor, in one transaction, as the schedules'
    /// rows, locked, say (``SchedulerStore/recordFires(_:)``). The cursor only moves forward.
    /// - Returns: the ids of the runs stored; a run whose schedule has its dedupe key already is not.
    public func recordFires(_ fires: [ScheduleFires]) async throws -> RunWriteResult {
        let now = Date().milliseconds
        return try await transaction { connection in
            // The schedules' rows are locked first. A row another daemon holds (it is storing fires
            // of that schedule) is passed over: waiting would tie this daemon to that one, which may
            // be paused mid-transaction; the schedule is planned again in a moment instead.
            let ids = fires.map(\.scheduleID).sorted()
            let rows = try await Self.rows(
                """
                SELECT id, paused, last_fire_seconds, remaining_runs FROM schedule WHERE id = ANY(\(ids))
                ORDER BY id FOR UPDATE SKIP LOCKED
                """, on: connection, logger: logger
            ) { row in try row.decode((String, Bool, Int64?, Int64?).self) }
            var stored: [String: (cursor: Int64?, remaining: Int?)] = [:]
            for row in rows { stored[row.0] = (row.2, row.3.map { Int(clamping: $0) }) }
            // Paused by another daemon, and this one has not heard yet: its new runs are not stored.
            let pausedHere = Set(rows.filter(\.1).map(\.0))
            // A schedule deleted meanwhile has no row to lock either. Both are reported busy, and are
            // gone or paused in the scheduler by the time they would be planned again.
            var result = RunWriteResult()
            result.busy = Set(ids).subtracting(stored.keys)
            for item in fires
            where pausedHere.contains(item.scheduleID) && item.runs.contains(where: { $0.state == .queued }) {
                result.busy.insert(item.scheduleID)
            }
            // A buffer-one or cancel-other schedule whose runs another instance holds: that one
            // stores its fires.
            for (writer, items) in Dictionary(grouping: fires.filter(\.needsHolder), by: { $0.writer ?? "" }) {
                let held = try await Self.rows(
                    """
                    SELECT DISTINCT schedule_id FROM run
                    WHERE schedule_id = ANY(\(items.map(\.scheduleID))) AND state IN ('queued', 'running')
                        AND owner IS NOT NULL AND owner <> \(writer)
                    """, on: connection, logger: logger
                ) { row in try row.decode(String.self) }
                result.busy.formUnion(held)
            }
            // What the rows say to write: a fire another daemon handled (at or before the stored
            // cursor) is left out, as are runs past the stored count. A schedule left with nothing to
            // write and a cursor already there is not touched at all: a daemon retrying schedules it
            // found busy does not write thousands of rows again.
            var fires = fires.compactMap { item -> ScheduleFires? in
                guard !result.busy.contains(item.scheduleID), let row = stored[item.scheduleID] else { return nil }
                var item = item
                item.runs = item.runsToWrite(storedCursor: row.cursor, storedRemaining: row.remaining)
                if item.runs.isEmpty, let cursor = row.cursor, cursor >= item.cursor { return nil }
                return item
            }
            let skipping = fires.filter { $0.overlap == .skip && $0.runs.contains { $0.state == .queued } }
            var inFlight: [String: String] = [:]
            if !skipping.isEmpty {
                let pairs = try await Self.rows(
                    """
                    SELECT DISTINCT ON (schedule_id) schedule_id, id FROM run
                    WHERE schedule_id = ANY(\(skipping.map(\.scheduleID))) AND state IN ('queued', 'running')
                    ORDER BY schedule_id, id
                    """, on: connection, logger: logger
                ) { row in try row.decode((String, String).self) }
                for (schedule, run) in pairs { inFlight[schedule] = run }
            }
            for index in fires.indices where fires[index].overlap == .skip {
                guard let other = inFlight[fires[index].scheduleID] else { continue }
                let reason = ScheduleFires.skipReason(running: other)
                for runIndex in fires[index].runs.indices where fires[index].runs[runIndex].state == .queued {
                    fires[index].runs[runIndex].skip(reason, at: Date(milliseconds: now))
                    result.skipped[fires[index].runs[runIndex].id] = reason
                }
            }
            // Every schedule's runs in one batch: a dedupe key belongs to one schedule, so the order
            // between schedules does not change which runs are stored.
            result.stored = try await Self.insert(fires.flatMap(\.runs), on: connection, logger: logger)
            result.skipped = result.skipped.filter { result.stored.contains($0.key) }
            var counts: [String: (left: Int, pauses: Bool)] = [:]
            for item in fires {
                let queued = item.runs.filter { $0.state == .queued && result.stored.contains($0.id) }.count
                guard
                    let count = ScheduleFires.remaining(
                        storedRemaining: stored[item.scheduleID]?.remaining, storedQueued: queued)
                else { continue }
                counts[item.scheduleID] = count
                result.remaining[item.scheduleID] = count.left
            }
            try await Self.advance(fires, counts: counts, now: now, on: connection, logger: logger)
            // A schedule paused by its last run stops firing everywhere; a moved cursor needs no
            // notice (a fire another daemon stored is refused by its dedupe key).
            let pausedNow = counts.filter(\.value.pauses).keys.sorted()
            try await Self.announce(pausedNow, on: connection, logger: logger)
            return result
        }
    }

    /// Inserts `schedule`, telling a taken name from other refusals.
    static func insert(_ schedule: ScheduleRecord, on connection: PostgresConnection, logger: Logger) async throws {
        let s = schedule
        do {
            try await Self.execute(
                """
                INSERT INTO schedule (\(unescaped: ScheduleRecord.postgresColumns)) VALUES (
                    \(s.id), \(s.name), \(s.cron), \(s.timeZone), \(s.webhook), \(s.webhookScheme?.rawValue),
                    \(s.webhookSecret), \(s.webhookSecretEnv), \(s.webhookPreviousSecret),
                    \(s.webhookPreviousUntil?.milliseconds), \(s.workflow), \(s.inputJSON.postgresText), \(s.overlap.rawValue),
                    \(s.catchupWindowSeconds), \(s.catchupMode.rawValue), \(s.jitterSeconds), \(s.timeoutSeconds),
                    \(s.paused), \(s.pauseNote?.postgresText), \(s.remainingRuns), \(s.declaredRemainingRuns), \(s.dayMatch),
                    \(s.dstGap), \(s.dstFold), \(s.source?.postgresText), \(s.lastFireSeconds), \(s.createdAt.milliseconds),
                    \(s.updatedAt.milliseconds), \(s.retry?.json), \(s.notify.map(NotifyRule.json)?.postgresText),
                    \(s.expectedDurationSeconds))
                """, on: connection, logger: logger)
        } catch  where violates("schedule_name_unique", error) {
            throw duplicateName(schedule.name)
        }
    }

    /// Rewrites every column of the schedule with `schedule`'s id.
    /// - Throws: ``StorageError`` `.notFound` when there is none, `.duplicateName` for a taken name.
    static func update(_ schedule: ScheduleRecord, on connection: PostgresConnection, logger: Logger) async throws {
        let s = schedule
        let updated: [String]
        do {
            updated = try await rows(
                """
                UPDATE schedule SET
                    name = \(s.name), cron = \(s.cron), time_zone = \(s.timeZone), webhook = \(s.webhook),
                    webhook_scheme = \(s.webhookScheme?.rawValue), webhook_secret = \(s.webhookSecret),
                    webhook_secret_env = \(s.webhookSecretEnv), webhook_previous_secret = \(s.webhookPreviousSecret),
                    webhook_previous_until_ms = \(s.webhookPreviousUntil?.milliseconds), workflow = \(s.workflow),
                    input_json = \(s.inputJSON.postgresText), overlap = \(s.overlap.rawValue),
                    catchup_window_seconds = \(s.catchupWindowSeconds), catchup_mode = \(s.catchupMode.rawValue),
                    jitter_seconds = \(s.jitterSeconds), timeout_seconds = \(s.timeoutSeconds), paused = \(s.paused),
                    pause_note = \(s.pauseNote?.postgresText), remaining_runs = \(s.remainingRuns),
                    remaining_runs_declared = \(s.declaredRemainingRuns), day_match = \(s.dayMatch),
                    dst_gap = \(s.dstGap), dst_fold = \(s.dstFold), source = \(s.source?.postgresText),
                    last_fire_seconds = \(s.lastFireSeconds), created_at_ms = \(s.createdAt.milliseconds),
                    updated_at_ms = \(s.updatedAt.milliseconds), retry_json = \(s.retry?.json),
                    notify_json = \(s.notify.map(NotifyRule.json)?.postgresText),
                    expected_duration_seconds = \(s.expectedDurationSeconds)
                WHERE id = \(s.id)
                RETURNING id
                """, on: connection, logger: logger
            ) { row in try row.decode(String.self) }
        } catch  where violates("schedule_name_unique", error) {
            throw duplicateName(schedule.name)
        }
        guard !updated.isEmpty else {
            throw StorageError(code: .notFound, message: "no schedule with id \(schedule.id)")
        }
    }

    /// Deletes the schedule with this id. - Returns: false when there was none.
    static func delete(_ id: String, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let deleted = try await rows(
            "DELETE FROM schedule WHERE id = \(id) RETURNING id", on: connection, logger: logger
        ) { row in try row.decode(String.self) }
        return !deleted.isEmpty
    }

    private static func duplicateName(_ name: String) -> StorageError {
        StorageError(code: .duplicateName, message: "a schedule named \"\(name)\" exists already; names are unique")
    }
}
