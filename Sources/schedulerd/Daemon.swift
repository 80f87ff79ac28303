import Alerts
import Foundation
import HTTPAPI
import HTTPClient
import Hummingbird
import Logging
import MLflowTracing
import PostgresStorage
import ProcessSandbox
import Prometheus
import Scheduling
import ServiceLifecycle
import Storage
import Support
import Synchronization
import UnixSignals
import Workflows

/// Wires the store, the tracer, the runner, the scheduler and the HTTP server into one `ServiceGroup`.
struct Daemon {
    let configuration: DaemonConfiguration
    /// The node kinds implemented in Swift (``NodeRegistry/builtIn``): workflow files are checked
    /// against their names and the runner calls their handlers.
    var nodes: NodeRegistry = .builtIn
    let logger = Logger(label: "schedulerd")

    func run() async throws {
        try prepareDataDirectory()
        guard let database = configuration.database else {
            let store: SQLiteStore
            do {
                store = try SQLiteStore(
                    path: configuration.dataDirectory.appendingPathComponent("schedulerd.sqlite").path,
                    durability: configuration.durability)
            } catch {
                throw DaemonError(description: "\(error)")
            }
            return try await run(store: store, shared: false)
        }
        // The pool runs around everything that uses the store, the ServiceGroup included: the start-up
        // steps below read and write the store before the group runs, and the pool stops only after
        // every service has.
        let store = PostgresStore(configuration: database, logger: Logger(label: "schedulerd.postgres"))
        try await store.withRunningClient {
            guard let applied = try await waitForDatabase(store, database) else {
                logger.info("stopped while waiting for the database")
                return
            }
            logger.info(
                "using PostgreSQL",
                metadata: [
                    "database": .string(database.description),
                    "migrations_applied": .string(applied.map(String.init).joined(separator: ",")),
                ])
            try await run(store: store, shared: true)
        }
    }

    /// Brings the database's schema up to date, waiting while the server cannot be reached: every
    /// attempt waits up to three times the URL's `connect_timeout`, the next comes after a pause that
    /// doubles up to ``longestDatabasePause``; one log line says each new reason, and meanwhile the
    /// listener answers `/healthz` 200, `/readyz` 503 and everything else 503 (``StartingAPI``). A
    /// server that answers with a refusal (a wrong password, a missing database, a newer schema) stops
    /// the start at once: waiting would not change it.
    /// - Returns: the migrations applied; `nil` when SIGTERM or SIGINT came first.
    /// - Throws: ``DaemonError`` for a refusal.
    private func waitForDatabase(_ store: PostgresStore, _ database: PostgresConfiguration) async throws -> [Int]? {
        let detail = Mutex("waiting for PostgreSQL at \(database.target)")
        // SIGTERM or SIGINT ends the wait, within a tenth of a second of a pause.
        let stopped = StopRequest()
        let stop = Task {
            for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { stopped.request() }
        }
        defer { stop.cancel() }
        // Started at the first attempt that fails, stopped before this returns, whatever the outcome.
        var listener: (group: ServiceGroup, task: Task<Void, any Error>)?

        /// Attempts until the schema is up to date (its migrations) or a stop signal came (`nil`).
        func attempts() async throws -> [Int]? {
            var pause: Duration = .seconds(1)
            var reported: String?
            while true {
                do {
                    return try await store.migrate(within: database.connectTimeout * 3)
                } catch let error as StorageError where error.code == .unreachable {
                    detail.withLock { $0 = error.message }
                    if reported != error.message {
                        reported = error.message
                        logger.warning(
                            "PostgreSQL cannot be reached; waiting for it, /readyz answers 503 meanwhile",
                            metadata: [
                                "error": .string(error.message), "retry_within": .string(DurationText.format(pause)),
                            ])
                    }
                    if listener == nil {
                        let app = Application(
                            router: StartingAPI(detail: { detail.withLock { $0 } }).router(),
                            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
                            logger: Logger(label: "schedulerd.http"))
                        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
                        listener = (group, Task { try await group.run() })
                    }
                } catch {
                    throw DaemonError(description: "cannot use the database \(database): \(error)")
                }
                let resume = ContinuousClock.now + pause
                while ContinuousClock.now < resume && !stopped.requested {
                    try? await Task.sleep(for: .milliseconds(100))
                }
                if stopped.requested { return nil }
                pause = min(pause * 2, Self.longestDatabasePause)
            }
        }

        let outcome: Result<[Int]?, any Error>
        do {
            outcome = .success(try await attempts())
        } catch {
            outcome = .failure(error)
        }
        if let listener {
            await listener.group.triggerGracefulShutdown()
            _ = try? await listener.task.value
            if case .success(.some) = outcome {
                logger.info("PostgreSQL answers; starting", metadata: ["database": .string(database.description)])
            }
        }
        return try outcome.get()
    }

    /// Set once a stop signal came while the daemon waits for its database.
    private final class StopRequest: Sendable {
        private let flag = Atomic<Bool>(false)
        /// Whether a stop was asked for.
        var requested: Bool { flag.load(ordering: .relaxed) }
        /// Asks for the stop.
        func request() { flag.store(true, ordering: .relaxed) }
    }

    /// The longest pause between two attempts to reach the database at start.
    static let longestDatabasePause: Duration = .seconds(30)

    /// Runs the daemon on `store` until it stops.
    /// - Parameter shared: whether other daemons may use the store too (PostgreSQL): then this one
    ///   watches for the schedule changes they make.
    private func run(store: any SchedulerStore, shared: Bool) async throws {
        let data = configuration.dataDirectory
        let token = try configuration.token ?? Self.token(in: data)

        // Workflows and schedules: refuse to start on invalid files, saying every problem.
        let catalog: WorkflowCatalog
        do {
            catalog = try WorkflowCatalog.load(directory: configuration.schedulesDirectory, nodeKinds: nodes.kinds)
        } catch {
            throw DaemonError(
                description: "the workflow files in \(configuration.schedulesDirectory.path) are not valid:\n\(error)")
        }
        let defaults: ScheduleDefaults
        do {
            defaults = try ScheduleDefaults.load(
                directory: configuration.schedulesDirectory, environment: configuration.environment)
        } catch {
            throw DaemonError(description: "the schedules' defaults are not valid:\n\(error)")
        }
        // The scheduler is not made yet: it reads every stored schedule when it starts.
        try await Self.applyScheduleFiles(
            directory: configuration.schedulesDirectory, workflows: Set(catalog.workflows.keys),
            schedules: ScheduleService(store: store, scheduler: nil, environment: configuration.environment),
            logger: logger)
        let storedSchedules = try await store.schedules()
        warnOfDayRuleChanges(storedSchedules)

        // Tracing.
        let tracing: MLflowTracingConfiguration
        do {
            tracing = try MLflowTracingConfiguration(environment: configuration.environment, dataDirectory: data.path)
        } catch {
            throw DaemonError(description: "\(error)")
        }
        let exporter = try TraceExporter(configuration: tracing, logger: Logger(label: "schedulerd.tracing"))

        let sandbox = await makeSandbox()
        let runnerConfiguration = WorkflowRunner.Configuration(
            sandbox: sandbox, environment: configuration.environment,
            artifactsDirectory: data.appendingPathComponent("artifacts"),
            tls: TLSOptions(caPath: configuration.httpCABundle))
        let makeRunner: @Sendable (WorkflowCatalog) -> WorkflowRunner = { [nodes] catalog in
            WorkflowRunner(
                catalog: catalog, tracer: exporter.tracer, configuration: runnerConfiguration, registry: nodes,
                logger: Logger(label: "schedulerd.workflows"))
        }
        // With a shared store every daemon fires by the database's clock: the heartbeat measures this
        // machine's offset to it and the scheduler's clock takes it off.
        let machineClock = try Self.machineClock(environment: configuration.environment)
        let clock: any WallClock = shared ? DatabaseClock(base: machineClock) : machineClock
        let executor = WorkflowRunExecutor(runner: makeRunner(catalog), clock: clock)

        let metrics = DaemonMetrics()
        /// Warns once per schedule whose workflow is not loaded, and counts them (start and SIGHUP).
        let checkWorkflows: @Sendable (Set<String>, [ScheduleRecord]) -> Void = { [logger] loaded, schedules in
            var count = 0
            for schedule in schedules {
                guard let problem = ScheduleService.problem(schedule, workflows: loaded) else { continue }
                count += 1
                logger.warning(
                    "a schedule cannot run: \(problem); restore the workflow file or remove the schedule",
                    metadata: ["schedule": .string(schedule.name), "workflow": .string(schedule.workflow)])
            }
            metrics.scheduleProblems.set(Double(count))
        }
        checkWorkflows(Set(catalog.workflows.keys), storedSchedules)

        let trackingURI = tracing.trackingURI
        /// The MLflow UI's page of a trace, when MLflow is configured.
        let traceURL: @Sendable (String) -> String? = { trace in
            guard let uri = trackingURI, let experiment = exporter.experimentID else { return nil }
            let base = uri.absoluteString.hasSuffix("/") ? String(uri.absoluteString.dropLast()) : uri.absoluteString
            return "\(base)/#/experiments/\(experiment)/traces?selectedEvaluationId=\(trace)"
        }
        let publicURL = configuration.publicURL

        let identity = InstanceRecord(
            host: ProcessInfo.processInfo.hostName, version: ProductVersion.current, startedAt: Date())
        let membership = Membership(instanceID: identity.id, shared: shared, lease: configuration.lease)
        var schedulerConfiguration = SchedulerConfiguration(
            maxConcurrentRuns: configuration.maxRuns, shutdownGrace: configuration.shutdownGrace,
            metrics: SchedulerMetrics(factory: metrics.factory), membership: membership,
            retry: defaults.retry, notify: defaults.notify,
            alertLinks: AlertLinks(run: { "\(publicURL)/runs/\($0)" }, trace: traceURL))
        schedulerConfiguration.missed = defaults.missed
        let scheduler = Scheduler(
            store: store, clock: clock, executor: executor, configuration: schedulerConfiguration,
            logger: Logger(label: "schedulerd.scheduler"))

        let names = Mutex(Set(catalog.workflows.keys))
        /// Runs from now on use these workflows (SIGHUP, or a schedule naming a new one).
        let adopt: @Sendable (WorkflowCatalog) -> Void = { catalog in
            executor.replace(makeRunner(catalog))
            names.withLock { $0 = Set(catalog.workflows.keys) }
        }
        let schedules = ScheduleService(store: store, scheduler: scheduler, environment: configuration.environment)
        let heartbeat = InstanceHeartbeat(
            store: store, identity: identity, interval: membership.heartbeatInterval, clock: machineClock,
            runningCount: { await scheduler.load.running }, correcting: clock as? DatabaseClock,
            logger: Logger(label: "schedulerd.instances"))
        // This instance is alive in the store before its scheduler claims a run: a peer takes over
        // the runs of instances it does not see.
        await heartbeat.beat()
        metrics.identify(
            instance: heartbeat.instanceID, host: ProcessInfo.processInfo.hostName, version: ProductVersion.current)
        let api = AdminAPI(
            .init(
                schedules: schedules, scheduler: scheduler, workflows: { names.withLock { $0 } }, token: token,
                traceURL: traceURL,
                metrics: { metrics.exposition(exporter: exporter.statistics, clockOffset: heartbeat.clockOffset) },
                ready: {
                    if let problem = await Self.storeProblem(store, within: Self.readinessLimit) {
                        return (false, problem)
                    }
                    guard await scheduler.firing else {
                        return (false, "the scheduler is starting or stopping")
                    }
                    return (true, "store answers, scheduler running")
                }, webhooks: configuration.webhooks,
                reloadWorkflows: { [self] swap in
                    reloadForSchedule(loaded: names.withLock { $0 }, swap: swap, adopt: adopt)
                }, stopping: { scheduler.stopping }, instanceID: heartbeat.instanceID, publicURL: publicURL,
                traceExport: {
                    guard trackingURI != nil else { return nil }
                    let statistics = exporter.statistics
                    return TraceExportState(
                        pending: statistics.pending, dropped: statistics.dropped,
                        reachable: !statistics.unavailable.contains("mlflow"))
                }))
        let app = Application(
            router: api.router(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { [logger, configuration] _ in
                logger.info(
                    "listening",
                    metadata: [
                        "address": .string("\(configuration.host):\(configuration.port)"),
                        "data_dir": .string(configuration.dataDirectory.path),
                        "schedules": .string(configuration.schedulesDirectory.path),
                    ])
            },
            logger: Logger(label: "schedulerd.http"))

        let hangup = HangupService(
            logger: logger,
            reload: { [configuration, logger, nodes] in
                do {
                    let catalog = try WorkflowCatalog.load(
                        directory: configuration.schedulesDirectory, nodeKinds: nodes.kinds)
                    let defaults = try ScheduleDefaults.load(
                        directory: configuration.schedulesDirectory, environment: configuration.environment)
                    await scheduler.useDefaultRetry(defaults.retry)
                    await scheduler.useDefaultNotify(defaults.notify)
                    await scheduler.useMissedLimits(defaults.missed)
                    // Runs use the new workflows before the scheduler reads the schedules that name them.
                    try await Self.applyScheduleFiles(
                        directory: configuration.schedulesDirectory, workflows: Set(catalog.workflows.keys),
                        schedules: schedules, logger: logger, beforeCommit: { adopt(catalog) })
                    checkWorkflows(Set(catalog.workflows.keys), try await store.schedules())
                    logger.info(
                        "reloaded the schedules directory",
                        metadata: ["workflows": .stringConvertible(catalog.workflows.count)])
                } catch {
                    logger.error(
                        "reload refused; the previous workflows and schedules stay",
                        metadata: ["error": .string("\(error)")])
                }
            })

        // Services stop in the reverse of this order, each after the one before it has ended: the
        // scheduler first (no new fires; running runs finish within the grace), the listener after
        // it (so /readyz says 503, reads and `--wait` clients get answers meanwhile), the exporter
        // last (it delivers what the runs left in the spool); the heartbeat just before it (this
        // instance is listed until its runs have ended and it stops answering).
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: exporter), .init(service: heartbeat), .init(service: app),
            .init(service: LingerAfterDrain(scheduler: scheduler)), .init(service: scheduler),
            .init(service: hangup),
            .init(
                service: RunPruner(
                    store: store, retention: configuration.retention,
                    artifacts: data.appendingPathComponent("artifacts"),
                    logger: Logger(label: "schedulerd.retention"))),
        ]
        services.append(
            .init(
                service: AlertDispatcher(
                    store: store, environment: configuration.environment, clock: clock,
                    tls: TLSOptions(caPath: configuration.httpCABundle), logger: Logger(label: "schedulerd.alerts"))))
        if let url = configuration.heartbeatURL {
            services.append(
                .init(
                    service: OutsidePing(
                        url: url, interval: configuration.heartbeatEvery,
                        health: { [heartbeat] in
                            if let problem = await scheduler.timerProblem() { return problem }
                            return heartbeat.isFailing ? "this instance's heartbeats cannot be stored" : nil
                        }, client: HTTPClient(tls: TLSOptions(caPath: configuration.httpCABundle), label: "heartbeat"),
                        logger: Logger(label: "schedulerd.heartbeat"))))
        }
        // Other daemons on the same database change schedules too: this one reads them again when
        // the store's schedule revision moves.
        if shared {
            services.append(
                .init(
                    service: ScheduleWatcher(
                        store: store, scheduler: scheduler, logger: Logger(label: "schedulerd.schedules"))))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        // A second SIGTERM or Ctrl-C while stopping cancels the running runs instead of waiting.
        let hurry = Task { [logger] in
            var signals = 0
            for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                signals += 1
                if signals >= 2 {
                    logger.notice("a second stop signal: not waiting for running runs")
                    await scheduler.hurry()
                }
            }
        }
        defer { hurry.cancel() }
        let trim = Self.trimAfterStart(scheduler)
        defer { trim.cancel() }
        try await group.run()
        logger.info("stopped")
    }

    /// This machine's clock: the system's, or, for tests of clock skew, the system's moved by
    /// `SCHEDULERD_TEST_CLOCK_SKEW` (a duration, `-` for behind).
    static func machineClock(environment: [String: String]) throws -> any WallClock {
        guard let text = environment["SCHEDULERD_TEST_CLOCK_SKEW"], !text.isEmpty else { return SystemWallClock() }
        let behind = text.hasPrefix("-")
        guard let skew = DurationText.parse(behind ? String(text.dropFirst()) : text) else {
            throw DaemonError(description: "SCHEDULERD_TEST_CLOCK_SKEW \"\(text)\" must be a duration like 30s or -30s")
        }
        return SkewedClock(base: SystemWallClock(), skew: behind ? .zero - skew : skew)
    }

    /// Reads `<data>/admin.token`, creating it (mode 0600) with 32 random bytes on first start.
    static func token(in data: URL) throws -> String {
        let file = data.appendingPathComponent("admin.token")
        if let text = try? String(contentsOf: file, encoding: .utf8) {
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !token.isEmpty { return token }
        }
        let token = WebhookSecret.adminToken()
        guard
            FileManager.default.createFile(
                atPath: file.path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw DaemonError(description: "cannot write the admin token to \(file.path)")
        }
        return token
    }

    /// Makes the stored schedules match `<schedules>/*.yaml` through `schedules`: creates and
    /// updates them, deletes the ones that came from files that are gone. Schedules added through the
    /// API stay. All or nothing: when a file is not valid, nothing changes.
    /// - Parameters:
    ///   - workflows: the names of the workflows the schedules are checked against.
    ///   - beforeCommit: runs once the files are known to be valid, before anything is stored.
    static func applyScheduleFiles(
        directory: URL, workflows: Set<String>, schedules: ScheduleService, logger: Logger,
        beforeCommit: () -> Void = {}
    ) async throws {
        var plan: SchedulePlan
        var attempt = 0
        while true {
            attempt += 1
            do {
                plan = try await schedules.planFiles(in: directory, workflows: workflows)
            } catch let error as SchedulingError {
                throw DaemonError(description: error.message)
            }
            beforeCommit()
            do {
                try await schedules.commit(plan)
                break
            } catch let error as StorageError where error.code == .duplicateName || error.code == .notFound {
                // Another daemon sharing the database applied the files between this one's reading
                // and writing: plan again over what it stored (usually nothing is left to do).
                guard attempt < 5 else { throw error }
                logger.debug(
                    "the schedules changed while the files were applied; planning again",
                    metadata: ["error": .string(error.message)])
                try await Task.sleep(for: .milliseconds(Int.random(in: 20...200)))
            }
        }
        guard !plan.isEmpty else { return }
        logger.info(
            "applied the schedule files",
            metadata: [
                "created": .stringConvertible(plan.creates.count),
                "updated": .stringConvertible(plan.updates.count),
                "deleted": .stringConvertible(plan.deletes.count),
            ])
        for name in plan.secrets.keys.sorted() {
            logger.notice(
                "a webhook secret was made for a schedule file; get one to give the sender with `schedule secret rotate`, or set webhook_secret_env in the file",
                metadata: ["schedule": .string(name)])
        }
    }
}

/// Reloads the schedules directory on SIGHUP.
struct HangupService: Service {
    let logger: Logger
    let reload: @Sendable () async -> Void

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            logger.info("SIGHUP: reloading the schedules directory")
            await reload()
        }
    }
}

/// Keeps the listener up for a moment after the scheduler has drained, when runs were running at
/// the stop: a client polling for its run's end (`schedule run --wait`) then reads it before the
/// listener closes.
struct LingerAfterDrain: Service {
    let scheduler: Scheduler

    func run() async throws {
        try? await gracefulShutdown()
        if await scheduler.runsAtStop > 0 { try? await Task.sleep(for: .seconds(1)) }
    }
}
