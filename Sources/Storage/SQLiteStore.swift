import Foundation
import GRDB
import Support

/// The embedded store: one SQLite file (`<data-dir>/schedulerd.sqlite`) in WAL mode with foreign
/// keys and a busy timeout. GRDB runs every statement on its own threads, so callers never block the
/// cooperative pool.
public final class SQLiteStore: SchedulerStore {
    let pool: DatabasePool
    public let path: String

    /// Opens (creating and migrating when needed) the database at `path`.
    /// - Throws: ``StorageError`` `.database` with what went wrong.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw StorageError(code: .database, message: "cannot open the database \(path): \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: schedules and runs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE schedule (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL UNIQUE,
                        cron TEXT,
                        time_zone TEXT NOT NULL,
                        webhook INTEGER NOT NULL DEFAULT 0,
                        webhook_secret TEXT,
                        workflow TEXT NOT NULL,
                        input_json TEXT NOT NULL DEFAULT '{}',
                        overlap TEXT NOT NULL,
                        catchup_window_seconds INTEGER NOT NULL,
                        catchup_mode TEXT NOT NULL,
                        jitter_seconds INTEGER NOT NULL DEFAULT 0,
                        timeout_seconds INTEGER,
                        paused INTEGER NOT NULL DEFAULT 0,
                        pause_note TEXT,
                        remaining_runs INTEGER,
                        source TEXT,
                        last_fire_seconds INTEGER,
                        created_at_ms INTEGER NOT NULL,
                        updated_at_ms INTEGER NOT NULL,
                        CHECK (cron IS NOT NULL OR webhook = 1),
                        CHECK (jitter_seconds >= 0 AND catchup_window_seconds >= 0),
                        CHECK (timeout_seconds IS NULL OR timeout_seconds > 0),
                        CHECK (remaining_runs IS NULL OR remaining_runs >= 0)
                    );
                    CREATE TABLE run (
                        id TEXT PRIMARY KEY NOT NULL,
                        schedule_id TEXT REFERENCES schedule(id) ON DELETE SET NULL,
                        workflow TEXT NOT NULL,
                        trigger TEXT NOT NULL,
                        nominal_time_ms INTEGER,
                        dedupe_key TEXT,
                        state TEXT NOT NULL,
                        queued_at_ms INTEGER NOT NULL,
                        not_before_ms INTEGER,
                        started_at_ms INTEGER,
                        finished_at_ms INTEGER,
                        trace_id TEXT,
                        root_span_id TEXT,
                        root_start_nanos INTEGER,
                        input_json TEXT NOT NULL DEFAULT '{}',
                        payload BLOB,
                        output_json TEXT,
                        error TEXT,
                        nodes_json TEXT,
                        UNIQUE (schedule_id, dedupe_key)
                    );
                    CREATE INDEX run_schedule ON run(schedule_id, id);
                    CREATE INDEX run_state ON run(state) WHERE state IN ('queued', 'running');
                    """)
        }
        migrator.registerMigration("v2: webhook schemes and secret rotation") { db in
            try db.execute(
                sql: """
                    ALTER TABLE schedule ADD COLUMN webhook_scheme TEXT;
                    ALTER TABLE schedule ADD COLUMN webhook_secret_env TEXT;
                    ALTER TABLE schedule ADD COLUMN webhook_previous_secret TEXT;
                    ALTER TABLE schedule ADD COLUMN webhook_previous_until_ms INTEGER;
                    UPDATE schedule SET webhook_scheme = 'github' WHERE webhook = 1;
                    """)
        }
        // Manual schedules (neither cron nor webhook): SQLite cannot drop a CHECK, so the table is
        // rebuilt (create, copy, drop, rename; foreign keys are checked at the end of the migration).
        migrator.registerMigration("v3: manual schedules") { db in
            try db.execute(
                sql: """
                    CREATE TABLE schedule_v3 (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL UNIQUE,
                        cron TEXT,
                        time_zone TEXT NOT NULL,
                        webhook INTEGER NOT NULL DEFAULT 0,
                        webhook_secret TEXT,
                        workflow TEXT NOT NULL,
                        input_json TEXT NOT NULL DEFAULT '{}',
                        overlap TEXT NOT NULL,
                        catchup_window_seconds INTEGER NOT NULL,
                        catchup_mode TEXT NOT NULL,
                        jitter_seconds INTEGER NOT NULL DEFAULT 0,
                        timeout_seconds INTEGER,
                        paused INTEGER NOT NULL DEFAULT 0,
                        pause_note TEXT,
                        remaining_runs INTEGER,
                        source TEXT,
                        last_fire_seconds INTEGER,
                        created_at_ms INTEGER NOT NULL,
                        updated_at_ms INTEGER NOT NULL,
                        webhook_scheme TEXT,
                        webhook_secret_env TEXT,
                        webhook_previous_secret TEXT,
                        webhook_previous_until_ms INTEGER,
                        CHECK (jitter_seconds >= 0 AND catchup_window_seconds >= 0),
                        CHECK (timeout_seconds IS NULL OR timeout_seconds > 0),
                        CHECK (remaining_runs IS NULL OR remaining_runs >= 0)
                    );
                    INSERT INTO schedule_v3 (
                        id, name, cron, time_zone, webhook, webhook_secret, workflow, input_json, overlap,
                        catchup_window_seconds, catchup_mode, jitter_seconds, timeout_seconds, paused, pause_note,
                        remaining_runs, source, last_fire_seconds, created_at_ms, updated_at_ms, webhook_scheme,
                        webhook_secret_env, webhook_previous_secret, webhook_previous_until_ms)
                    SELECT
                        id, name, cron, time_zone, webhook, webhook_secret, workflow, input_json, overlap,
                        catchup_window_seconds, catchup_mode, jitter_seconds, timeout_seconds, paused, pause_note,
                        remaining_runs, source, last_fire_seconds, created_at_ms, updated_at_ms, webhook_scheme,
                        webhook_secret_env, webhook_previous_secret, webhook_previous_until_ms
                    FROM schedule;
                    DROP TABLE schedule;
                    ALTER TABLE schedule_v3 RENAME TO schedule;
                    """)
        }
        // The remaining-runs count a definition declared, so re-applying an unchanged file keeps the
        // count the schedule has come down to; the per-schedule cron overrides.
        migrator.registerMigration("v4: declared remaining runs, day match and DST overrides") { db in
            try db.execute(sql: "ALTER TABLE schedule ADD COLUMN remaining_runs_declared INTEGER")
            try db.execute(sql: "ALTER TABLE schedule ADD COLUMN day_match TEXT")
            try db.execute(sql: "ALTER TABLE schedule ADD COLUMN dst_gap TEXT")
            try db.execute(sql: "ALTER TABLE schedule ADD COLUMN dst_fold TEXT")
        }
        return migrator
    }

    // MARK: - Schedules

    public func insertSchedule(_ schedule: ScheduleRecord) async throws {
        try await write { db in try Self.insert(schedule, db) }
    }

    public func updateSchedule(_ schedule: ScheduleRecord) async throws {
        try await write { db in try Self.update(schedule, db) }
    }

    public func deleteSchedule(id: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM schedule WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func applySchedules(insert: [ScheduleRecord], update: [ScheduleRecord], delete: [String]) async throws {
        try await write { db in
            for id in delete { try db.execute(sql: "DELETE FROM schedule WHERE id = ?", arguments: [id]) }
            for schedule in update { try Self.update(schedule, db) }
            for schedule in insert { try Self.insert(schedule, db) }
        }
    }

    public func schedule(id: String) async throws -> ScheduleRecord? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM schedule WHERE id = ?"), arguments: [id]).map(
                Self.schedule)
        }
    }

    public func schedule(named name: String) async throws -> ScheduleRecord? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM schedule WHERE name = ?"), arguments: [name]).map(
                Self.schedule)
        }
    }

    public func schedules() async throws -> [ScheduleRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM schedule ORDER BY name").map(Self.schedule)
        }
    }

    public func recordFires(_ fires: [ScheduleFires]) async throws -> Set<String> {
        let now = Self.ms(Date())
        return try await write { db in
            var stored: Set<String> = []
            let advance = try db.cachedStatement(
                sql: """
                    UPDATE schedule SET last_fire_seconds = max(coalesce(last_fire_seconds, ?1), ?1),
                        remaining_runs = ?2, paused = paused OR ?3, pause_note = coalesce(?4, pause_note),
                        updated_at_ms = ?5
                    WHERE id = ?6
                    """)
            let insert = try Self.insertRunStatement(db)
            for item in fires {
                for run in item.runs where try Self.insert(run, with: insert, db) { stored.insert(run.id) }
                try advance.execute(arguments: [
                    item.cursor, item.remainingRuns, item.pauseNote != nil, item.pauseNote, now, item.scheduleID,
                ])
            }
            return stored
        }
    }

    static func insert(_ s: ScheduleRecord, _ db: Database) throws {
        do {
            try db.execute(
                sql: """
                    INSERT INTO schedule (id, name, cron, time_zone, webhook, webhook_secret, workflow, input_json,
                        overlap, catchup_window_seconds, catchup_mode, jitter_seconds, timeout_seconds, paused,
                        pause_note, remaining_runs, source, last_fire_seconds, created_at_ms, updated_at_ms,
                        webhook_scheme, webhook_secret_env, webhook_previous_secret, webhook_previous_until_ms,
                        remaining_runs_declared, day_match, dst_gap, dst_fold)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: arguments(s, id: true))
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw StorageError(
                code: .duplicateName, message: "a schedule named \"\(s.name)\" exists already; names are unique")
        }
    }

    static func update(_ s: ScheduleRecord, _ db: Database) throws {
        do {
            try db.execute(
                sql: """
                    UPDATE schedule SET name = ?, cron = ?, time_zone = ?, webhook = ?, webhook_secret = ?,
                        workflow = ?, input_json = ?, overlap = ?, catchup_window_seconds = ?, catchup_mode = ?,
                        jitter_seconds = ?, timeout_seconds = ?, paused = ?, pause_note = ?, remaining_runs = ?,
                        source = ?, last_fire_seconds = ?, created_at_ms = ?, updated_at_ms = ?,
                        webhook_scheme = ?, webhook_secret_env = ?, webhook_previous_secret = ?,
                        webhook_previous_until_ms = ?, remaining_runs_declared = ?,
                        day_match = ?, dst_gap = ?, dst_fold = ?
                    WHERE id = ?
                    """, arguments: arguments(s, id: false) + [s.id])
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw StorageError(
                code: .duplicateName, message: "a schedule named \"\(s.name)\" exists already; names are unique")
        }
        guard db.changesCount > 0 else {
            throw StorageError(code: .notFound, message: "no schedule with id \(s.id)")
        }
    }

    static func arguments(_ s: ScheduleRecord, id: Bool) -> StatementArguments {
        let values: [(any DatabaseValueConvertible)?] = [
            s.name, s.cron, s.timeZone, s.webhook, s.webhookSecret, s.workflow, s.inputJSON, s.overlap.rawValue,
            s.catchupWindowSeconds, s.catchupMode.rawValue, s.jitterSeconds, s.timeoutSeconds, s.paused, s.pauseNote,
            s.remainingRuns, s.source, s.lastFireSeconds, ms(s.createdAt), ms(s.updatedAt), s.webhookScheme?.rawValue,
            s.webhookSecretEnv, s.webhookPreviousSecret, ms(s.webhookPreviousUntil), s.declaredRemainingRuns,
            s.dayMatch, s.dstGap, s.dstFold,
        ]
        return StatementArguments(id ? [s.id] + values : values)
    }

    static func schedule(_ row: Row) -> ScheduleRecord {
        var record = ScheduleRecord(
            id: row["id"], name: row["name"], cron: row["cron"], timeZone: row["time_zone"], webhook: row["webhook"],
            webhookSecret: row["webhook_secret"], workflow: row["workflow"], inputJSON: row["input_json"],
            overlap: OverlapPolicy(rawValue: row["overlap"]) ?? .skip,
            catchupWindowSeconds: row["catchup_window_seconds"],
            catchupMode: CatchupMode(rawValue: row["catchup_mode"]) ?? .latest, jitterSeconds: row["jitter_seconds"],
            timeoutSeconds: row["timeout_seconds"], paused: row["paused"], pauseNote: row["pause_note"],
            remainingRuns: row["remaining_runs"], source: row["source"], lastFireSeconds: row["last_fire_seconds"],
            createdAt: date(row["created_at_ms"]) ?? Date(), updatedAt: date(row["updated_at_ms"]) ?? Date())
        record.webhookScheme = (row["webhook_scheme"] as String?).flatMap(WebhookScheme.init(rawValue:))
        record.webhookSecretEnv = row["webhook_secret_env"]
        record.webhookPreviousSecret = row["webhook_previous_secret"]
        record.webhookPreviousUntil = date(row["webhook_previous_until_ms"])
        record.declaredRemainingRuns = row["remaining_runs_declared"]
        record.dayMatch = row["day_match"]
        record.dstGap = row["dst_gap"]
        record.dstFold = row["dst_fold"]
        return record
    }

    // MARK: - Runs

    public func insertRun(_ run: RunRecord) async throws -> Bool {
        try await write { db in try Self.insert(run, with: Self.insertRunStatement(db), db) }
    }

    static func insertRunStatement(_ db: Database) throws -> Statement {
        try db.cachedStatement(
            sql: """
                INSERT INTO run (id, schedule_id, workflow, trigger, nominal_time_ms, dedupe_key, state,
                    queued_at_ms, not_before_ms, finished_at_ms, input_json, payload, error, trace_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (schedule_id, dedupe_key) DO NOTHING
                """)
    }

    /// Inserts a run unless its schedule has its dedupe key already; true when it was stored.
    static func insert(_ run: RunRecord, with statement: Statement, _ db: Database) throws -> Bool {
        try statement.execute(arguments: [
            run.id, run.scheduleID, run.workflow, run.trigger, ms(run.nominalTime), run.dedupeKey, run.state.rawValue,
            ms(run.queuedAt), ms(run.notBefore), run.state.isFinal ? ms(run.finishedAt ?? run.queuedAt) as Int64 : nil,
            run.inputJSON, run.payload, run.error, run.traceID,
        ])
        return db.changesCount > 0
    }

    public func writeRuns(insert runs: [RunRecord], update updates: [RunUpdate]) async throws -> Set<String> {
        guard !runs.isEmpty || !updates.isEmpty else { return [] }
        return try await write { db in
            var stored: Set<String> = []
            if !runs.isEmpty {
                let insert = try Self.insertRunStatement(db)
                for run in runs where try Self.insert(run, with: insert, db) { stored.insert(run.id) }
            }
            let started = try db.cachedStatement(
                sql: """
                    UPDATE run SET state = 'running', started_at_ms = ?, root_span_id = ?, root_start_nanos = ?
                    WHERE id = ?
                    """)
            let nodes = try db.cachedStatement(sql: "UPDATE run SET nodes_json = ? WHERE id = ?")
            let finished = try db.cachedStatement(
                sql: """
                    UPDATE run SET state = ?, finished_at_ms = ?, output_json = coalesce(?, output_json),
                        error = ?, nodes_json = coalesce(?, nodes_json)
                    WHERE id = ?
                    """)
            for update in updates {
                switch update {
                case .started(let id, let at, let rootSpanID, let rootStartNanos):
                    try started.execute(arguments: [Self.ms(at), rootSpanID, rootStartNanos, id])
                case .nodes(let id, let json):
                    try nodes.execute(arguments: [json, id])
                case .finished(let id, let state, let at, let outputJSON, let error, let nodesJSON):
                    try finished.execute(arguments: [state.rawValue, Self.ms(at), outputJSON, error, nodesJSON, id])
                }
            }
            return stored
        }
    }

    public func run(scheduleID: String, dedupeKey: String) async throws -> RunRecord? {
        try await read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT * FROM run WHERE schedule_id = ? AND dedupe_key = ?"),
                arguments: [scheduleID, dedupeKey]
            ).map(Self.run)
        }
    }

    public func run(id: String) async throws -> RunRecord? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM run WHERE id = ?"), arguments: [id]).map(Self.run)
        }
    }

    public func runs(scheduleID: String?, limit: Int, before: String?) async throws -> [RunRecord] {
        try await read { db in
            var sql = "SELECT * FROM run WHERE 1 = 1"
            var arguments: [(any DatabaseValueConvertible)?] = []
            if let scheduleID {
                sql += " AND schedule_id = ?"
                arguments.append(scheduleID)
            }
            if let before {
                sql += " AND id < ?"
                arguments.append(before)
            }
            sql += " ORDER BY id DESC LIMIT ?"
            arguments.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map(Self.run)
        }
    }

    public func runs(in states: Set<RunState>) async throws -> [RunRecord] {
        try await read { db in
            let marks = states.map { _ in "?" }.joined(separator: ", ")
            return try Row.fetchAll(
                db, sql: "SELECT * FROM run WHERE state IN (\(marks)) ORDER BY id",
                arguments: StatementArguments(states.map(\.rawValue))
            ).map(Self.run)
        }
    }

    public func deleteRuns(finishedBefore cutoff: Date, limit: Int) async throws -> [String] {
        let finalStates = RunState.allCases.filter(\.isFinal).map(\.rawValue)
        let cutoffMs = Int64(saturating: (cutoff.timeIntervalSince1970 * 1000).rounded(.down))
        // Run ids sort by creation time, and a run is made before it ends: the primary key bounds the scan.
        let bound = SortableID.lowest("run", at: cutoff)
        return try await write { db in
            let ids = try String.fetchAll(
                db,
                sql: """
                    SELECT id FROM run WHERE id < ? AND finished_at_ms < ?
                    AND state IN (\(finalStates.map { _ in "?" }.joined(separator: ",")))
                    ORDER BY id LIMIT ?
                    """,
                arguments: StatementArguments(
                    [bound.databaseValue, cutoffMs.databaseValue] + finalStates.map(\.databaseValue)
                        + [limit.databaseValue]))
            for chunk in stride(from: 0, to: ids.count, by: 500) {
                let part = Array(ids[chunk..<min(chunk + 500, ids.count)])
                try db.execute(
                    sql: "DELETE FROM run WHERE id IN (\(part.map { _ in "?" }.joined(separator: ",")))",
                    arguments: StatementArguments(part))
            }
            return ids
        }
    }

    public func runCounts() async throws -> [RunState: Int] {
        try await read { db in
            var counts: [RunState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM run GROUP BY state") {
                if let state = RunState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    public func latestRuns() async throws -> [String: RunRecord] {
        try await read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM run WHERE id IN (
                        SELECT max(id) FROM run WHERE schedule_id IS NOT NULL AND state != 'skipped'
                        GROUP BY schedule_id)
                    """)
            var latest: [String: RunRecord] = [:]
            for row in rows {
                let run = Self.run(row)
                if let scheduleID = run.scheduleID { latest[scheduleID] = run }
            }
            return latest
        }
    }

    static func run(_ row: Row) -> RunRecord {
        var run = RunRecord(
            id: row["id"], scheduleID: row["schedule_id"], workflow: row["workflow"], trigger: row["trigger"],
            nominalTime: date(row["nominal_time_ms"]), dedupeKey: row["dedupe_key"],
            state: RunState(rawValue: row["state"]) ?? .failed, queuedAt: date(row["queued_at_ms"]) ?? Date(),
            notBefore: date(row["not_before_ms"]), inputJSON: row["input_json"], payload: row["payload"])
        run.startedAt = date(row["started_at_ms"])
        run.finishedAt = date(row["finished_at_ms"])
        run.traceID = row["trace_id"]
        run.rootSpanID = row["root_span_id"]
        run.rootStartNanos = row["root_start_nanos"]
        run.outputJSON = row["output_json"]
        run.error = row["error"]
        run.nodesJSON = row["nodes_json"]
        return run
    }

    // MARK: - Helpers

    static func ms(_ date: Date?) -> Int64? {
        date.map { Int64(saturating: ($0.timeIntervalSince1970 * 1000).rounded()) }
    }

    static func ms(_ date: Date) -> Int64 {
        Int64(saturating: (date.timeIntervalSince1970 * 1000).rounded())
    }

    static func date(_ ms: Int64?) -> Date? {
        ms.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(code: .database, message: "the database refused a write: \(error)")
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw StorageError(code: .database, message: "the database refused a read: \(error)")
        }
    }
}
