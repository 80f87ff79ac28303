import ArgumentParser
import Foundation
import Logging
import Support

/// `schedulerd`: the scheduler daemon.
@main
struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedulerd",
        abstract: "Fire analysis workflows on cron schedules and webhooks; every run one MLflow trace.",
        discussion: """
            Every option can also be set through its environment variable; a flag wins over the \
            variable. MLflow is configured with MLflow's own variables: MLFLOW_TRACKING_URI (unset: \
            tracing off), MLFLOW_EXPERIMENT_NAME (default schedulerd) or MLFLOW_EXPERIMENT_ID, \
            MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_USERNAME/PASSWORD, MLFLOW_TRACKING_SERVER_CERT_PATH \
            (a CA bundle), MLFLOW_TRACKING_INSECURE_TLS. A second destination for the spans, any \
            OTLP/HTTP collector: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, _HEADERS, _CERTIFICATE, _INSECURE.

            Workflows see SCHEDULERD_URL, the daemon's own API (default: the --listen address); \
            without --data-dir or SCHEDULERD_DATA_DIR the data lives in $XDG_STATE_HOME/schedulerd \
            or ~/.local/state/schedulerd.

            At start the daemon loads and checks <schedules>/workflows/*.yaml and policies.yaml \
            (it refuses to start when they are invalid), applies the schedule files <schedules>/*.yaml, \
            marks runs a crash left running as interrupted, and resumes queued runs. SIGHUP loads \
            the schedules directory again; SIGTERM or SIGINT stop new fires, let running runs finish \
            for the grace period, cancel the rest and flush the trace spool.

            Schedules and runs live in the SQLite file <data-dir>/schedulerd.sqlite unless --database \
            (SCHEDULERD_DATABASE_URL) names a PostgreSQL database: \
            postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE (or postgresql://; port 5432 by \
            default; sslmode disable, prefer (the default), require, verify-ca or verify-full; \
            sslrootcert=PATH, connect_timeout=SECONDS). Percent-encode @ : / in the user or password, or \
            leave the password out and set PGPASSWORD. The daemon makes or updates the tables at start; \
            a server that refuses (a wrong password, no such database) stops the start, and one that \
            cannot be reached is waited for, /readyz answering 503 meanwhile. The data directory still holds the token, the trace spool and artifacts.

            Several daemons may share one PostgreSQL database: each fire runs once, on one of them; \
            a daemon runs what it fired within --max-runs and leaves the rest to any daemon with a \
            free slot; when a daemon's heartbeats stop for the --lease, the others interrupt its \
            running runs (closing their traces) and take its queued ones. At start such a daemon \
            takes over only the runs of silent daemons, never those of live ones.

            The admin token is SCHEDULERD_TOKEN, or generated on first start into \
            <data-dir>/admin.token (mode 0600).
            """,
        version: ProductVersion.current,
        subcommands: [MigrateStoreCommand.self]
    )

    @Option(
        help:
            "Where the SQLite database (unless --database), the token, the trace spool and artifacts live. [SCHEDULERD_DATA_DIR]"
    )
    var dataDir: String?

    @Option(help: "HOST:PORT for the HTTP API. [SCHEDULERD_LISTEN, default 127.0.0.1:8088]")
    var listen: String?

    @Option(
        help: "The schedules directory (workflows/, policies.yaml, *.yaml). [SCHEDULERD_SCHEDULES, default schedules]")
    var schedules: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical. [SCHEDULERD_LOG_LEVEL, default info]")
    var logLevel: String?

    @Option(help: "Runs at once across all schedules; more wait queued. [SCHEDULERD_MAX_RUNS, default 16]")
    var maxRuns: Int?

    @Option(help: "How long running runs may finish after SIGTERM. [SCHEDULERD_SHUTDOWN_GRACE, default 30s]")
    var shutdownGrace: String?

    @Option(help: "The largest webhook body; larger ones get 413. [SCHEDULERD_HOOK_MAX_BODY, default 1MiB]")
    var hookMaxBody: String?

    @Option(
        help:
            "Webhook requests per second per hook and per daemon, in bursts of up to twice that; more get 429. [SCHEDULERD_HOOK_RATE, default 50/s]"
    )
    var hookRate: String?

    @Option(
        help:
            "How long finished runs and their artifacts are kept; older ones are deleted every hour. At least 72h. [SCHEDULERD_RETENTION, default 30d]"
    )
    var retention: String?

    @Option(
        help:
            "A PEM bundle of CA certificates that http nodes verify HTTPS servers with, instead of the system's. [SCHEDULERD_HTTP_CA_BUNDLE]"
    )
    var httpCABundle: String?

    @Option(
        help: """
            A PostgreSQL database for schedules and runs, postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE \
            (password also from PGPASSWORD). Unset: the SQLite file in the data directory. [SCHEDULERD_DATABASE_URL]
            """)
    var database: String?

    @Option(
        help: """
            With --database: how long an instance's heartbeats may stop before the other instances \
            interrupt its running runs and take its queued ones, 3s to 10m. [SCHEDULERD_LEASE, default 30s]
            """)
    var lease: String?

    @Option(
        help: """
            With the SQLite file: full syncs new runs (an accepted webhook's 202, a fire) and schedule changes \
            to disk before they are acknowledged, so that they survive a power loss; normal does not (faster; \
            a crash of the daemon alone still loses nothing). [SCHEDULERD_DURABILITY, default full]
            """)
    var durability: String?

    @Option(
        help: """
            An outside watcher's URL (healthchecks.io, an Uptime Kuma push monitor): the daemon GETs it every \
            --heartbeat-every while its timer can fire, so the watcher alerts when the pings stop. Only its host \
            is logged. [SCHEDULERD_HEARTBEAT_URL, default none]
            """)
    var heartbeatURL: String?

    @Option(help: "How often to ping --heartbeat-url, 1s to 1h. [SCHEDULERD_HEARTBEAT_EVERY, default 1m]")
    var heartbeatEvery: String?

    @Option(
        help: """
            Where people reach this daemon (behind a proxy, its outside address), for the links to runs in             alerts. [SCHEDULERD_PUBLIC_URL, default http://<--listen>]
            """)
    var publicURL: String?

    @Option(
        help: """
            User ids lent one per script running, FIRST-LAST (like 61000-61999; no /etc/passwd entries needed; \
            the daemon must run as root): each script's process limit then counts its own processes only. \
            [SCHEDULERD_SCRIPT_USERS, default: scripts share the user nobody]
            """)
    var scriptUsers: String?

    func run() async throws {
        let configuration: DaemonConfiguration
        do {
            configuration = try DaemonConfiguration(
                flags: .init(
                    dataDir: dataDir, listen: listen, schedules: schedules, logLevel: logLevel, maxRuns: maxRuns,
                    shutdownGrace: shutdownGrace, hookMaxBody: hookMaxBody, hookRate: hookRate,
                    retention: retention, httpCABundle: httpCABundle, database: database, lease: lease,
                    durability: durability, heartbeatURL: heartbeatURL, heartbeatEvery: heartbeatEvery,
                    publicURL: publicURL, scriptUsers: scriptUsers),
                environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("schedulerd: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        do {
            try await Daemon(configuration: configuration).run()
        } catch let error as DaemonError {
            FileHandle.standardError.write(Data("schedulerd: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
