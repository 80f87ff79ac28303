import Logging
import PostgresNIO
import Storage

/// The PostgreSQL schema's history: every migration the store has ever shipped, in order, each with
/// its version number.
///
/// `schema_migrations` records each applied version, so the versions and the SQL below are part of
/// every existing database: never edit or renumber a migration; change the schema by adding a new one
/// after the last, additive where it can be, so that daemons of the previous version sharing the
/// database keep working while the others are upgraded.
///
/// The columns are those of the SQLite engine (`SQLiteMigrations`), in PostgreSQL's types: instants are
/// whole milliseconds since the epoch (`BIGINT`, `*_ms`), as there, so that both engines keep the same
/// precision. Ids and names sort byte by byte (`COLLATE "C"`), whatever the database's locale, so that
/// run ids list in the order they were made and schedules by name as in SQLite.
///
/// Several daemons may start at the same moment against one database: ``migrate(_:logger:)`` takes a
/// transaction-scoped advisory lock before it reads which versions are applied, so one of them applies
/// the missing migrations and the others, waiting on the lock, then find nothing left to do.
enum PostgresMigrations {
    /// One step of the schema.
    struct Migration: Sendable {
        /// Its number; versions increase by one from 1.
        var version: Int
        /// What it changes, as recorded in `schema_migrations`.
        var name: String
        /// Its statements, run in order in the migrating transaction.
        var statements: [String]
    }

    /// The advisory lock key that serialises migrations (any fixed number; advisory locks are per database).
    static let lockKey: Int64 = 0x5363_6865_6475_6C72  // "Schedulr"

    /// Every migration, oldest first.
    static let all: [Migration] = [
        Migration(
            version: 1, name: "schedules and runs",
            statements: [
                """
                CREATE TABLE schedule (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    name TEXT COLLATE "C" NOT NULL CONSTRAINT schedule_name_unique UNIQUE,
                    cron TEXT,
                    time_zone TEXT NOT NULL,
                    webhook BOOLEAN NOT NULL DEFAULT false,
                    webhook_scheme TEXT,
                    webhook_secret TEXT,
                    webhook_secret_env TEXT,
                    webhook_previous_secret TEXT,
                    webhook_previous_until_ms BIGINT,
                    workflow TEXT NOT NULL,
                    input_json TEXT NOT NULL DEFAULT '{}',
                    overlap TEXT NOT NULL,
                    catchup_window_seconds BIGINT NOT NULL,
                    catchup_mode TEXT NOT NULL,
                    jitter_seconds BIGINT NOT NULL DEFAULT 0,
                    timeout_seconds BIGINT,
                    paused BOOLEAN NOT NULL DEFAULT false,
                    pause_note TEXT,
                    remaining_runs BIGINT,
                    remaining_runs_declared BIGINT,
                    day_match TEXT,
                    dst_gap TEXT,
                    dst_fold TEXT,
                    source TEXT,
                    last_fire_seconds BIGINT,
                    created_at_ms BIGINT NOT NULL,
                    updated_at_ms BIGINT NOT NULL,
                    CHECK (jitter_seconds >= 0 AND catchup_window_seconds >= 0),
                    CHECK (timeout_seconds IS NULL OR timeout_seconds > 0),
                    CHECK (remaining_runs IS NULL OR remaining_runs >= 0)
                )
                """,
                // UNIQUE (schedule_id, dedupe_key): a fire is stored once, whichever daemon stores it.
                """
                CREATE TABLE run (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    schedule_id TEXT COLLATE "C" REFERENCES schedule(id) ON DELETE SET NULL,
                    workflow TEXT NOT NULL,
                    trigger TEXT NOT NULL,
                    nominal_time_ms BIGINT,
                    dedupe_key TEXT,
                    state TEXT NOT NULL,
                    queued_at_ms BIGINT NOT NULL,
                    not_before_ms BIGINT,
                    started_at_ms BIGINT,
                    finished_at_ms BIGINT,
                    trace_id TEXT,
                    root_span_id TEXT,
                    root_start_nanos BIGINT,
                    input_json TEXT NOT NULL DEFAULT '{}',
                    payload BYTEA,
                    output_json TEXT,
                    error TEXT,
                    nodes_json TEXT,
                    CONSTRAINT run_schedule_dedupe UNIQUE (schedule_id, dedupe_key)
                )
                """,
                "CREATE INDEX run_schedule ON run (schedule_id, id)",
                "CREATE INDEX run_state ON run (state) WHERE state IN ('queued', 'running')",
                "CREATE INDEX run_finished ON run (finished_at_ms) WHERE finished_at_ms IS NOT NULL",
            ]),
        Migration(
            version: 2, name: "instances",
            statements: [
                """
                CREATE TABLE instance (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    host TEXT NOT NULL,
                    version TEXT NOT NULL,
                    started_at_ms BIGINT NOT NULL,
                    heartbeat_at_ms BIGINT NOT NULL,
                    runs_running BIGINT NOT NULL DEFAULT 0,
                    clock_offset_ms BIGINT
                )
                """
            ]),
        // Runs as a shared queue: who holds each waiting or running run (the instance that stored or
        // claimed it, or the one running it), and how many times it has started, which fences writes.
        Migration(
            version: 3, name: "run owners and attempts",
            statements: [
                "ALTER TABLE run ADD COLUMN owner TEXT COLLATE \"C\"",
                "ALTER TABLE run ADD COLUMN attempt BIGINT NOT NULL DEFAULT 0",
                "CREATE INDEX run_owner ON run (owner) WHERE state IN ('queued', 'running')",
            ]),
        // The runs any instance may claim, in claim order: without it every claim sorted the whole
        // backlog to take its first few dozen.
        Migration(
            version: 4, name: "claimable runs",
            statements: [
                "CREATE INDEX run_claimable ON run (id) WHERE state = 'queued' AND owner IS NULL"
            ]),
        // Retries: a schedule's policy, and each run's attempt at its fire and the run it retries.
        Migration(
            version: 5, name: "retries",
            statements: [
                "ALTER TABLE schedule ADD COLUMN retry_json TEXT",
                "ALTER TABLE run ADD COLUMN fire_attempt BIGINT NOT NULL DEFAULT 1",
                "ALTER TABLE run ADD COLUMN retry_of TEXT COLLATE \"C\"",
                "ALTER TABLE run ADD COLUMN retry_of_trace TEXT",
            ]),
        // Alerts: the outbox their deliveries go through, whether each schedule is failing (one
        // alert per failure streak), and each schedule's alert targets and expected duration.
        Migration(
            version: 6, name: "alerts",
            statements: [
                """
                CREATE TABLE alert (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    schedule_id TEXT COLLATE "C",
                    schedule_name TEXT NOT NULL,
                    event TEXT NOT NULL,
                    run_id TEXT COLLATE "C",
                    dedupe_key TEXT COLLATE "C" NOT NULL UNIQUE,
                    target_json TEXT NOT NULL,
                    payload_json TEXT NOT NULL,
                    state TEXT NOT NULL,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    next_attempt_at_ms BIGINT NOT NULL,
                    created_at_ms BIGINT NOT NULL,
                    delivered_at_ms BIGINT,
                    last_error TEXT,
                    claimed_until_ms BIGINT
                )
                """,
                "CREATE INDEX alert_pending ON alert (next_attempt_at_ms) WHERE state = 'pending'",
                "CREATE INDEX alert_schedule ON alert (schedule_id, id)",
                """
                CREATE TABLE schedule_streak (
                    schedule_id TEXT COLLATE "C" PRIMARY KEY,
                    failing BOOLEAN NOT NULL,
                    since_ms BIGINT NOT NULL
                )
                """,
                "ALTER TABLE schedule ADD COLUMN notify_json TEXT",
                "ALTER TABLE schedule ADD COLUMN expected_duration_seconds BIGINT",
            ]),
        // The status pages count today's ended runs by schedule and state from this index alone (an
        // index-only scan), not from the runs' rows with their inputs and outputs. Partial: a run
        // enters it once, when it ends.
        Migration(
            version: 7, name: "ended runs",
            statements: [
                "CREATE INDEX run_ended ON run (finished_at_ms, schedule_id, state) WHERE finished_at_ms IS NOT NULL"
            ]),
    ]

    /// Brings the database up to the newest version in one transaction, under the advisory lock.
    /// - Returns: the versions this call applied (none when another daemon had applied them).
    /// - Throws: what the database refused; nothing is changed then.
    static func migrate(_ store: PostgresStore, logger: Logger) async throws -> [Int] {
        try await store.transaction(doing: "migration") { connection in
            try await PostgresStore.execute("SELECT pg_advisory_xact_lock(\(lockKey))", on: connection, logger: logger)
            try await PostgresStore.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                )
                """, on: connection, logger: logger)
            let applied = Set(
                try await PostgresStore.rows("SELECT version FROM schema_migrations", on: connection, logger: logger) {
                    row in try row.decode(Int.self)
                })
            let known = all.map(\.version).max() ?? 0
            if let newest = applied.max(), newest > known {
                throw StorageError(
                    code: .newerSchema,
                    message:
                        "the database's schema is version \(newest), newer than this schedulerd knows (\(known)): a newer schedulerd migrated it; run that version or newer, or restore a copy made before it"
                )
            }
            var done: [Int] = []
            for migration in all where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await PostgresStore.execute(PostgresQuery(unsafeSQL: statement), on: connection, logger: logger)
                }
                try await PostgresStore.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    on: connection, logger: logger)
                done.append(migration.version)
            }
            return done
        }
    }
}
