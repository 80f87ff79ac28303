import GRDB

/// The SQLite schema's history: every migration the store has ever shipped, in order.
///
/// GRDB records each applied migration's name in the database (`grdb_migrations`), so the names and the
/// SQL below are part of every existing database: never edit or reorder a migration; change the schema
/// by registering a new one after the last, additive where it can be.
///
/// ```swift
/// try SQLiteMigrations.migrator.migrate(pool)  // what SQLiteStore.init does
/// ```
enum SQLiteMigrations {
    /// A migrator that brings a database of any earlier version (or an empty one) up to the current schema.
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
        // The daemons using the database and their heartbeats (one, with SQLite).
        migrator.registerMigration("v5: instances") { db in
            try db.execute(
                sql: """
                    CREATE TABLE instance (
                        id TEXT PRIMARY KEY NOT NULL,
                        host TEXT NOT NULL,
                        version TEXT NOT NULL,
                        started_at_ms INTEGER NOT NULL,
                        heartbeat_at_ms INTEGER NOT NULL,
                        runs_running INTEGER NOT NULL DEFAULT 0,
                        clock_offset_ms INTEGER
                    )
                    """)
        }
        // Who holds each waiting or running run, and how many times it has started: with several
        // daemons on one database the runs are a shared queue (one daemon here, owning them all).
        migrator.registerMigration("v6: run owners and attempts") { db in
            try db.execute(sql: "ALTER TABLE run ADD COLUMN owner TEXT")
            try db.execute(sql: "ALTER TABLE run ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0")
        }
        // Retries: a schedule's policy, and each run's attempt at its fire and the run it retries.
        migrator.registerMigration("v7: retries") { db in
            try db.execute(sql: "ALTER TABLE schedule ADD COLUMN retry_json TEXT")
            try db.execute(sql: "ALTER TABLE run ADD COLUMN fire_attempt INTEGER NOT NULL DEFAULT 1")
            try db.execute(sql: "ALTER TABLE run ADD COLUMN retry_of TEXT")
            try db.execute(sql: "ALTER TABLE run ADD COLUMN retry_of_trace TEXT")
        }
        // Alerts: the outbox their deliveries go through, whether each schedule is failing (one
        // alert per failure streak), and each schedule's alert targets and expected duration.
        migrator.registerMigration("v8: alerts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE alert (
                        id TEXT PRIMARY KEY NOT NULL,
                        schedule_id TEXT,
                        schedule_name TEXT NOT NULL,
                        event TEXT NOT NULL,
                        run_id TEXT,
                        dedupe_key TEXT NOT NULL UNIQUE,
                        target_json TEXT NOT NULL,
                        payload_json TEXT NOT NULL,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at_ms INTEGER NOT NULL,
                        created_at_ms INTEGER NOT NULL,
                        delivered_at_ms INTEGER,
                        last_error TEXT,
                        claimed_until_ms INTEGER
                    );
                    CREATE INDEX alert_pending ON alert (next_attempt_at_ms) WHERE state = 'pending';
                    CREATE INDEX alert_schedule ON alert (schedule_id, id);
                    CREATE TABLE schedule_streak (
                        schedule_id TEXT PRIMARY KEY NOT NULL,
                        failing INTEGER NOT NULL,
                        since_ms INTEGER NOT NULL
                    );
                    ALTER TABLE schedule ADD COLUMN notify_json TEXT;
                    ALTER TABLE schedule ADD COLUMN expected_duration_seconds INTEGER;
                    """)
        }
        // The status pages' count of today's ended runs by schedule and state reads only this index
        // (it holds every column the count needs), not the runs' rows with their inputs and outputs.
        // Partial: a run enters it once, when it ends, so queued and running runs cost it nothing.
        migrator.registerMigration("v9: ended runs") { db in
            try db.execute(
                sql: """
                    CREATE INDEX run_ended ON run (finished_at_ms, schedule_id, state)
                    WHERE finished_at_ms IS NOT NULL
                    """)
        }
        return migrator
    }
}
