import Cron
import Foundation
import Logging
import RunTracing
import ServiceLifecycle
import Storage
import Synchronization

// The scheduler actor: its state, its start as a `Service`, and what the API, webhooks and the daemon
// call on it. The rest of it is split by job: Scheduler+Timer (the heap of next fires, the timer loop,
// storing due fires), Scheduler+Runs (admission through `RunAdmission`, starting, running and ending
// runs), Scheduler+Recovery (what a start finds in the store) and Scheduler+Drain (a graceful stop).

/// Fires schedules on time and runs them: a heap of next fires, a sleep until the earliest (on an
/// injected clock, woken by any change; no polling), a run row stored before anything starts (a
/// duplicate dedupe key means the fire was handled: nothing runs twice), then the overlap policy,
/// jitter, the global limit and the executor.
///
/// On start it marks runs left `running` as `interrupted` (closing their traces) and resumes queued
/// runs. On graceful shutdown it stops firing, lets running runs finish for the grace period, then
/// cancels the rest; queued runs stay queued for the next start.
///
/// Several schedulers, one per daemon, can share a store (``Membership``): each fire is stored once
/// (its dedupe key), runs are held by the instance that stored or claimed them and fenced by it,
/// queued runs past an instance's slots go to whichever instance has one, and the runs of an
/// instance silent past its lease are taken over by the others (Scheduler+Leases).
///
/// It runs as one service of the daemon's service group:
///
/// ```swift
/// let scheduler = Scheduler(store: store, executor: WorkflowRunExecutor(runner: runner))
/// let group = ServiceGroup(services: [scheduler], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public actor Scheduler: Service {
    /// A loaded schedule, its parsed cron expression (nil when it has none or it does not parse), and
    /// the generation it was installed at: heap entries of older generations are stale.
    struct Entry: Sendable {
        var schedule: ScheduleRecord
        var expression: CronExpression?
        var generation: Int
    }

    /// A run that has a slot: the signal that cancels it, and when its executor was called.
    struct Active: Sendable {
        var run: RunRecord
        var signal: Signal
        var began: Date?
    }

    /// Work for the service's task group.
    enum Job: Sendable {
        case execute(RunRecord, Signal)
        case drain
    }

    let store: any SchedulerStore
    let clock: any WallClock
    let executor: any RunExecutor
    let configuration: SchedulerConfiguration
    let logger: Logger
    let journal: RunJournal

    var entries: [String: Entry] = [:]
    /// The loaded schedules by id, and names to ids (checked against the schedule, so a renamed
    /// schedule's old name finds nothing), kept in step with `entries`: webhooks look a schedule up
    /// on every request, and this answers without waiting for the actor.
    let lookup = Mutex<(byID: [String: ScheduleRecord], names: [String: String])>(([:], [:]))
    /// Set once the first load is done: from then on `lookup` holds every stored schedule.
    let loadedOnce = Atomic<Bool>(false)
    /// Each schedule's next fire.
    var fires = FireHeap()
    /// Which runs may start: the slots, the queue, jittered runs and the overlap policies. Open from
    /// the end of the start until a stop begins, which is also when the timer fires.
    var admission: RunAdmission
    /// Runs given a slot whose start is not stored yet.
    var starting: [RunRecord] = []
    /// Runs that have a slot, by id; the same runs the admission counts as running.
    var active: [String: Active] = [:]
    /// Runs cancelled on request while running, and why: their outcome says so.
    var cancelReasons: [String: String] = [:]
    var jobs: AsyncStream<Job>.Continuation?
    /// Wakes the timer loop: a schedule changed, or a run now waits for its jitter.
    let wakeup = Wakeup()
    /// Signalled when a run ends and none is left: what a stop waits for.
    let idle = Wakeup()
    /// Fired when a stop begins: ends the waits of the loops other than the timer's.
    let stopSignal = Signal()
    /// Wakes the lease loop to claim queued runs at once: on a shared store, a slot came free and
    /// nothing waits here for it.
    let claimWakeup = Wakeup()
    /// Whether queued runs no instance holds are likely waiting: this instance stored some, or its
    /// last claim filled every slot it asked for. Only then does a freed slot claim at once, so that
    /// a cluster without a backlog costs no query per run.
    var backlogLikely = false
    /// How many instances, this one included, sent a heartbeat within the lease when last counted
    /// (on a shared store, about once a second): the share of a burst this instance keeps.
    var liveInstances = 1
    /// How many instances sent a heartbeat within the lease when this one last counted (about once a
    /// second, on a shared store; 1 before the first count and on a store of its own).
    public var liveInstanceCount: Int { liveInstances }
    /// Counts the queued runs past this instance's free slots it has stored, so that it keeps every
    /// ``liveInstances``-th of them across ticks.
    var sharedRunCount = 0
    /// Free slots given to the runs of the batch of fires being stored (``write(_:retryAt:)``), not
    /// yet admitted: a claim meanwhile must not take them too.
    var slotsInFlight = 0
    /// Whether another instance stored some of the fires due in this tick (the store reported their
    /// schedules busy): the instances are splitting the tick, and each keeps what it stores.
    var othersStoring = false
    /// When the timer began storing and starting what was due, while it does; `nil` between.
    var dispatchingSince: ContinuousClock.Instant?
    /// Runs on their way into the store (a planned fire until its batch settles, a submitted run),
    /// not yet admitted or known not stored: on a shared store the lease check must neither take
    /// them for runs this instance lost track of, nor give them up as lost to another instance (a
    /// buffered fire is tracked from the moment it is planned, before the store has it).
    var storing: Set<String> = []
    /// Queued runs the store had this instance holding, at the last lease check, that it did not
    /// know of (``checkLeases()`` adopts those it finds so twice in a row).
    var strayRuns: Set<String> = []
    /// Set when a stop begins: what the API checks on every request, without waiting for the actor.
    let stoppingFlag = Atomic<Bool>(false)
    /// Counts schedule installs: each entry remembers the one that installed it.
    var generation = 0
    /// When this scheduler started (Unix seconds): fires before it fell in a downtime.
    var bootSeconds: Int64 = .min
    /// The retry policy of schedules that give none (``useDefaultRetry(_:)``).
    var defaultRetry: RetryPolicy
    /// The alert targets of schedules that give none (``useDefaultNotify(_:)``).
    var defaultNotify: [NotifyRule]
    /// Per schedule, its fires skipped in a row by its overlap policy, and the first of them
    /// (``countSkips(_:of:at:)``).
    var skipStreaks: [String: (count: Int, first: String)] = [:]
    /// Runs found waiting for a slot too long (``checkQueued(now:)``), and the schedules alerted
    /// for them, until those runs start.
    var stuckRuns: Set<String> = []
    /// When skipped fires and waiting runs alert `missed` (``useMissedLimits(_:)``).
    var missedLimits: MissedLimits
    var stuckSchedules: Set<String> = []
    /// Callers of ``untilFiring()`` waiting for the start (or the end) of ``run()``.
    var firingWaiters: [CheckedContinuation<Void, Never>] = []
    /// Set when ``run()`` has ended: ``untilFiring()`` no longer waits.
    var runEnded = false
    /// Where a retry's share of its backoff taken off comes from: a number from 0 up to 1 (random;
    /// tests fix it).
    let retryJitter: @Sendable () -> Double

    /// A scheduler that does nothing until ``run()`` is called.
    /// - Parameters:
    ///   - store: where schedules are read and runs are kept.
    ///   - clock: the clock it fires by, starts runs by and waits on; tests pass a manual one.
    ///   - executor: what runs the runs.
    ///   - configuration: the global limit, the shutdown grace, the catch-up rules and the metrics.
    ///   - logger: where fires, run ends and stops are logged.
    ///   - retryJitter: the share of a retry's backoff taken off, halved: from 0 (the whole wait) up
    ///     to 1 (half of it); random unless a test fixes it.
    public init(
        store: any SchedulerStore, clock: any WallClock = SystemWallClock(), executor: any RunExecutor,
        configuration: SchedulerConfiguration = .init(), logger: Logger = Logger(label: "schedulerd.scheduler"),
        retryJitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.store = store
        self.clock = clock
        self.executor = executor
        self.configuration = configuration
        self.logger = logger
        self.journal = RunJournal(store: store, logger: logger)
        self.admission = RunAdmission(limit: configuration.maxConcurrentRuns)
        self.defaultRetry = configuration.retry
        self.defaultNotify = configuration.notify
        self.missedLimits = configuration.missed
        self.retryJitter = retryJitter
    }

    // MARK: - Service

    /// Recovers what the last stop left in the store, loads every schedule, then fires schedules and
    /// runs runs until a graceful shutdown has drained the running runs (or the task is cancelled).
    /// - Throws: when the store cannot be read at the start.
    public func run() async throws {
        defer {
            runEnded = true
            wakeFiringWaiters()  // when it ends, or throws, without having fired
        }
        bootSeconds = clock.now().unixSeconds()
        // Schedules first: what a crash interrupted is retried by its schedule's policy.
        try await reload()
        let resumed = try await recover()
        loadedOnce.store(true, ordering: .releasing)
        let (stream, continuation) = AsyncStream.makeStream(of: Job.self)
        jobs = continuation
        admission.open()
        wakeFiringWaiters()
        let now = clock.now()
        for run in resumed { enqueue(run, now: now) }
        await launchStarting()
        await fireRebootSchedules()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.timerLoop() }
                if configuration.membership.shared { group.addTask { await self.leaseLoop() } }
                for await job in stream {
                    switch job {
                    case .execute(let run, let signal): group.addTask { await self.execute(run, signal) }
                    case .drain: group.addTask { await self.drain() }
                    }
                }
            }
        } onGracefulShutdown: {
            continuation.yield(.drain)
        }
        admission.close()
    }

    /// Returns once the scheduler fires (its schedules read, what a crash left recovered): at once
    /// when it does already, and when ``run()`` ends without having fired.
    public func untilFiring() async {
        if admission.isOpen || runEnded { return }
        await withCheckedContinuation { firingWaiters.append($0) }
    }

    private func wakeFiringWaiters() {
        for waiter in firingWaiters { waiter.resume() }
        firingWaiters = []
    }

    // MARK: - Changes from outside

    /// Reads every schedule again (at start, on SIGHUP, after `schedule apply`).
    /// - Throws: when the store cannot be read; the schedules loaded stay as they were.
    public func reload() async throws {
        // A schedule installed while the store is read (an API create or change) is newer than
        // what the read returns: it is neither overwritten nor forgotten.
        let before = generation
        let schedules = try await store.schedules()
        var seen: Set<String> = []
        for schedule in schedules {
            seen.insert(schedule.id)
            if let entry = entries[schedule.id], entry.generation > before { continue }
            install(schedule)
        }
        for (id, entry) in entries where !seen.contains(id) && entry.generation <= before { forget(id) }
        wakeup.signal()
    }

    /// Reads one schedule again after it was added or changed (or forgets it if it is gone).
    /// - Throws: when the store cannot be read.
    public func scheduleChanged(id: String) async throws {
        if let schedule = try await store.schedule(id: id) {
            install(schedule)
        } else {
            forget(id)
        }
        wakeup.signal()
    }

    /// Forgets a deleted schedule (its running runs go on).
    public func scheduleRemoved(id: String) {
        forget(id)
        wakeup.signal()
    }

    /// Stores and starts a run that no cron fire made (manual, webhook): the overlap policy applies,
    /// and the run gets its trace id now.
    /// - Parameters:
    ///   - run: the run to store, `queued`; a run of a schedule is subject to `overlap`.
    ///   - overlap: its schedule's overlap policy.
    /// - Returns: the run as stored (`queued`, or `skipped` by the policy), or `nil` when a run with
    ///   the same dedupe key exists (a webhook delivered twice).
    /// - Throws: when the store cannot write the run.
    public func submit(_ run: RunRecord, overlap: OverlapPolicy = .allow) async throws -> RunRecord? {
        var run = run
        if run.traceID == nil { run.traceID = TraceID.random().mlflowTraceID }
        run.owner = configuration.membership.instanceID
        // Until it is admitted or known not stored: a buffered run is tracked from its arrival.
        storing.insert(run.id)
        defer { storing.remove(run.id) }
        if run.scheduleID != nil {
            var none: [RunRecord] = []
            await applyOverlap(overlap, to: &run, earlier: &none, now: clock.now())
        }
        let stored: Bool
        do {
            stored = try await journal.insert(run)
        } catch {
            admission.notStored(run)
            throw error
        }
        guard stored else {
            admission.notStored(run)
            return nil
        }
        // Every admitted fire counts under its trigger, as cron fires do when they are stored.
        configuration.metrics.fired(trigger: run.trigger)
        enqueue(run, now: clock.now())
        // The timer loop stores the start of every run admitted meanwhile in one transaction and
        // starts them; the caller (a webhook's 202) need not wait for that.
        if !starting.isEmpty { wakeup.signal() }
        return run
    }

    /// What ``cancel(runID:reason:)`` did.
    public enum CancelOutcome: Sendable, Equatable {
        /// The run was running: its task is cancelled, which kills its scripts' process groups and
        /// ends its trace; it ends `cancelled` with the reason as its error.
        case cancelling
        /// The run was waiting: it is stored `cancelled` and will not start.
        case cancelledBeforeStart
        /// The run had ended already, in this state.
        case alreadyFinished(RunState)
        /// No run has this id.
        case notFound
    }

    /// Cancels a run that is running or waiting to start. Its slot, and its schedule's overlap slot,
    /// free up as with any run that ends.
    /// - Parameters:
    ///   - id: the run's id.
    ///   - reason: stored as the run's error (a queued run's gets " before it started" added).
    /// - Throws: when the store cannot be read.
    public func cancel(runID id: String, reason: String) async throws -> CancelOutcome {
        /// Stops a run in `active`: its outcome will carry `reason`.
        func stopRunning() -> CancelOutcome? {
            guard let running = active[id] else { return nil }
            cancelReasons[id] = reason
            running.signal.fire()
            logger.info("cancelling a running run on request", metadata: ["run_id": .string(id)])
            return .cancelling
        }
        if let outcome = stopRunning() { return outcome }
        guard let stored = try await store.run(id: id) else { return .notFound }
        if stored.state.isFinal { return .alreadyFinished(stored.state) }
        // It may have started while the store was read.
        if let outcome = stopRunning() { return outcome }
        if stored.state == .running {
            // Another instance runs it: it is stored cancelled here, and that instance, finding it no
            // longer holds the run at its next lease check, stops it.
            await storeCancelled([id], error: reason)
            logger.info("cancelled a run another instance is running", metadata: ["run_id": .string(id)])
            return .cancelling
        }
        admission.withdraw(id, scheduleID: stored.scheduleID)
        await storeCancelled([id], error: reason + " before it started")
        logger.info("cancelled a queued run on request", metadata: ["run_id": .string(id)])
        return .cancelledBeforeStart
    }

    // MARK: - State for the API

    /// True once the scheduler has loaded every stored schedule: a name ``schedule(_:)`` does not
    /// know is then not stored either.
    public nonisolated var loaded: Bool { loadedOnce.load(ordering: .acquiring) }

    /// A schedule as the scheduler has it, by name or id: what webhooks look up on every request,
    /// without a database read. `nil` for schedules not loaded (yet).
    public nonisolated func schedule(_ key: String) -> ScheduleRecord? {
        lookup.withLock { lookup in
            if let id = lookup.names[key], let schedule = lookup.byID[id], schedule.name == key { return schedule }
            return lookup.byID[key]
        }
    }

    /// Runs going now and waiting for a slot.
    public var load: (running: Int, queued: Int) { admission.load }

    /// Started (recovery done, schedules loaded) and not stopping: what `/readyz` reports.
    public var firing: Bool { admission.isOpen }

    /// How long the timer may wait on the store with due fires before it is called unhealthy.
    public static let timerPatience = Duration.seconds(60)

    /// Why the timer cannot fire now, in words for the log; `nil` when it can: it is open (not
    /// starting or stopping) and has not waited on the store with due fires for over
    /// ``timerPatience``. What `--heartbeat-url` reports outside.
    /// - Parameter patience: how long the timer may wait on the store (tests give less).
    public func timerProblem(patience: Duration = timerPatience) -> String? {
        guard admission.isOpen else { return "the scheduler is not firing (starting or stopping)" }
        if let since = dispatchingSince, ContinuousClock.now - since > patience {
            let waited = Int((ContinuousClock.now - since).components.seconds)
            return "the timer has waited \(waited) s on the store to store and start due fires"
        }
        return nil
    }

    /// True from the moment a graceful stop begins: the API then takes no changes and webhooks are
    /// told to come back later, while running runs finish.
    public nonisolated var stopping: Bool { stoppingFlag.load(ordering: .relaxed) }

    /// How many runs were running when the stop began (0 before a stop).
    public internal(set) var runsAtStop = 0
}
