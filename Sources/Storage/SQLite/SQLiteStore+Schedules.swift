import Foundation
import GRDB

/// The `schedule` table: ``SchedulerStore``'s schedule half, and the timer's fires.
extension SQLiteStore {
    /// Adds a schedule.
    /// - Throws: ``StorageError`` `.duplicateName` when the name is taken, `.database` otherwise.
    public func insertSchedule(_ schedule: ScheduleRecord) async throws {
        try await write(durable: true) { db in try Self.insert(schedule, db) }
    }

    /// Replaces the schedule with `schedule`'s id, every column.
    /// - Throws: ``StorageError`` `.notFound` when there is none, `.duplicateName` when another schedule
    ///   has the new name.
    public func updateSchedule(_ schedule: ScheduleRecord) async throws {
        try await write(durable: true) { db in try Self.update(schedule, db) }
    }

    /// Deletes a schedule; its runs stay, their `scheduleID` set to `nil` (`ON DELETE SET NULL`).
    /// - Returns: false when there was no schedule with that id.
    public func deleteSchedule(id: String) async throws -> Bool {
        try await write(durable: true) { db in try ScheduleRow.deleteOne(db, key: id) }
    }

    /// Deletes, then replaces, then inserts, in one transaction, so that a name given up by a deleted
    /// or renamed schedule can be taken by another in the same call. The first failure undoes it all.
    /// - Throws: the first failure's ``StorageError``; nothing is changed.
    public func applySchedules(insert: [ScheduleRecord], update: [ScheduleRecord], delete: [String]) async throws {
        try await write(durable: true) { db in
            for id in delete { try ScheduleRow.deleteOne(db, key: id) }
            for schedule in update { try Self.update(schedule, db) }
            for schedule in insert { try Self.insert(schedule, db) }
        }
    }

    /// Reads `SELECT 1` on a reader connection: the file is open and not locked against readers.
    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// The schedule table's count and change times, in one query.
    public func scheduleRevision() async throws -> ScheduleRevision {
        try await read { db in
            let row = try Row.fetchOne(
                db,
                sql: "SELECT count(*), coalesce(max(updated_at_ms), 0), coalesce(sum(updated_at_ms), 0) FROM schedule")
            return ScheduleRevision(
                count: row?[0] ?? 0, latestChangeMs: row?[1] ?? 0, changeSum: row?[2] ?? 0)
        }
    }

    /// The schedule with this id, if any.
    public func schedule(id: String) async throws -> ScheduleRecord? {
        try await read { db in
            try ScheduleRow.fetchOne(db.cachedStatement(sql: "SELECT * FROM schedule WHERE id = ?"), arguments: [id])?
                .record
        }
    }

    /// The schedule with this name, if any.
    public func schedule(named name: String) async throws -> ScheduleRecord? {
        try await read { db in
            try ScheduleRow.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM schedule WHERE name = ?"), arguments: [name]
            )?.record
        }
    }

    /// Every schedule, ordered by name.
    public func schedules() async throws -> [ScheduleRecord] {
        try await read { db in
            try ScheduleRow.order(Column(ScheduleRow.CodingKeys.name)).fetchAll(db).map(\.record)
        }
    }

    /// Stores a tick's runs and moves each schedule's cursor, in one transaction. The cursor only moves
    /// forward; the remaining runs are set as given; a pause note pauses the schedule, and its absence
    /// leaves the pause and note as they were.
    /// - Returns: the ids of the runs stored; a run whose schedule has its dedupe key already is not.
    public func recordFires(_ fires: [ScheduleFires]) async throws -> RunWriteResult {
        let now = Date().milliseconds
        return try await write(durable: true) { db in
            var result = RunWriteResult()
            let row = try db.cachedStatement(sql: "SELECT last_fire_seconds, remaining_runs FROM schedule WHERE id = ?")
            let advance = try db.cachedStatement(
                sql: """
                    UPDATE schedule SET last_fire_seconds = max(coalesce(last_fire_seconds, ?1), ?1),
                        remaining_runs = coalesce(?2, remaining_runs), paused = paused OR ?3,
                        pause_note = CASE WHEN ?3 THEN ?4 ELSE pause_note END, updated_at_ms = ?5
                    WHERE id = ?6
                    """)
            let inFlight = try db.cachedStatement(
                sql: "SELECT id FROM run WHERE schedule_id = ? AND state IN ('queued', 'running') ORDER BY id LIMIT 1")
            let held = try db.cachedStatement(
                sql: """
                    SELECT 1 FROM run WHERE schedule_id = ? AND state IN ('queued', 'running')
                        AND owner IS NOT NULL AND owner <> ? LIMIT 1
                    """)
            let insert = try Self.insertRunStatement(db)
            for item in fires {
                if item.needsHolder, try Int.fetchOne(held, arguments: [item.scheduleID, item.writer ?? ""]) != nil {
                    result.busy.insert(item.scheduleID)
                    continue
                }
                let stored = try Row.fetchOne(row, arguments: [item.scheduleID])
                let storedRemaining: Int? = stored?["remaining_runs"]
                var runs = item.runsToWrite(
                    storedCursor: stored?["last_fire_seconds"], storedRemaining: storedRemaining)
                if item.overlap == .skip, runs.contains(where: { $0.state == .queued }),
                    let other = try String.fetchOne(inFlight, arguments: [item.scheduleID])
                {
                    let reason = ScheduleFires.skipReason(running: other)
                    for index in runs.indices where runs[index].state == .queued {
                        runs[index].skip(reason, at: Date(milliseconds: now))
                        result.skipped[runs[index].id] = reason
                    }
                }
                var queued = 0
                for run in runs where try Self.insert(run, with: insert, db) {
                    result.stored.insert(run.id)
                    if run.state == .queued { queued += 1 }
                }
                let count = ScheduleFires.remaining(storedRemaining: storedRemaining, storedQueued: queued)
                if let count { result.remaining[item.scheduleID] = count.left }
                // Positional: named arguments cost a dictionary per fire.
                try advance.execute(arguments: [
                    item.cursor, count?.left, count?.pauses ?? false, ScheduleFires.lastRunPauseNote, now,
                    item.scheduleID,
                ])
            }
            result.skipped = result.skipped.filter { result.stored.contains($0.key) }
            return result
        }
    }

    /// Inserts `schedule`, telling a taken name from other refusals.
    static func insert(_ schedule: ScheduleRecord, _ db: Database) throws {
        do {
            try ScheduleRow(schedule).insert(db)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw duplicateName(schedule.name)
        }
    }

    /// Rewrites every column of the schedule with `schedule`'s id.
    static func update(_ schedule: ScheduleRecord, _ db: Database) throws {
        do {
            try ScheduleRow(schedule).update(db)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw duplicateName(schedule.name)
        } catch RecordError.recordNotFound {
            throw StorageError(code: .notFound, message: "no schedule with id \(schedule.id)")
        }
    }

    private static func duplicateName(_ name: String) -> StorageError {
        StorageError(code: .duplicateName, message: "a schedule named \"\(name)\" exists already; names are unique")
    }
}

extension SQLiteStore {
    /// A daemon alone on its SQLite file makes every change itself: there is no feed to follow.
    /// - Returns: false.
    public func followScheduleChanges(
        listening: @escaping @Sendable () -> Void, changed: @escaping @Sendable (ScheduleChangeNotice) async -> Void
    ) async throws -> Bool {
        false
    }
}
