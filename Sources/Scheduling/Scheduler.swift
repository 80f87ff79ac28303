import Cron
import Foundation
import Logging
import MLflowTracing
import ServiceLifecycle
import Storage
import Synchronization
import Workflows

/// How the scheduler behaves.
public struct SchedulerConfiguration: Sendable {
    /// Runs going at once across all schedules; further runs wait in a queue (state `queued`), so that
    /// a thousand schedules due in the same second do not start a thousand scripts at once.
    public var maxConcurrentRuns: Int
    /// On SIGTERM, how long running runs may go on before they are cancelled.
    public var shutdownGrace: Duration
    /// Missed-fire threshold and catch-up cap.
    public var planner: FirePlanner

    /// Where fires, lateness, run outcomes and the queue are counted.
    public var metrics: SchedulerMetrics

    public init(
        maxConcurrentRuns: Int = 16, shutdownGrace: Duration = .seconds(30), planner: FirePlanner = .init(),
        metrics: SchedulerMetrics = .none
    ) {
        self.maxConcurrentRuns = max(1, maxConcurrentRuns)
        self.shutdownGrace = shutdownGrace
        self.planner = planner
        self.metrics = metrics
    }
}

/// Fires schedules on time and runs them: a heap of next fires, a sleep until the earliest (on an
/// injected clock, woken by any change; no polling), a run row stored before anything starts (a
/// duplicate dedupe key means the fire was handled: nothing runs twice), then the overlap policy,
/// jitter, the global limit and the executor.
///
/// On start it marks runs left `running` as `interrupted` (closing their traces) and resumes queued
/// runs. On graceful shutdown it stops firing, lets running runs finish for the grace period, then
/// cancels the rest; queued runs stay queued for the next start.
public actor Scheduler: Service {
    struct Entry: Sendable {
        var schedule: ScheduleRecord
        var expression: CronExpression?
        var generation: Int
    }

    struct Active: Sendable {
        var run: RunRecord
        var signal: Signal
        var began: Date?
    }

    enum Job: Sendable {
        case execute(RunRecord, Signal)
        case drain
    }

    let store: any SchedulerStore
    let clock: any WallClock
    let executor: any RunExecutor
    let configuration: SchedulerConfiguration
    let logger: Logger
    private let journal: RunJournal

    private var entries: [String: Entry] = [:]
    /// The loaded schedules by id, and names to ids (checked against the schedule, so a renamed
    /// schedule's old name finds nothing), kept in step with `entries`: webhooks look a schedule up
    /// on every request, and this answers without waiting for the actor.
    private let lookup = Mutex<(byID: [String: ScheduleRecord], names: [String: String])>(([:], [:]))
    /// Set once the first load is done: from then on `lookup` holds every stored schedule.
    private let loadedOnce = Atomic<Bool>(false)
    private var fires = FireHeap()
    private var delayed = FireHeap()
    private var delayedRuns: [String: RunRecord] = [:]
    private var waiting = RunQueue()
    /// Runs given a slot whose start is not stored yet.
    private var starting: [RunRecord] = []
    private var active: [String: Active] = [:]
    private var inFlight: [String: Set<String>] = [:]
    private var buffered: [String: RunRecord] = [:]
    /// Runs cancelled on request while running, and why: their outcome says so.
    private var cancelReasons: [String: String] = [:]
    private var jobs: AsyncStream<Job>.Continuation?
    private let wakeup = Wakeup()
    private let idle = Wakeup()
    private var accepting = true
    /// Set when a stop begins: what the API checks on every request, without waiting for the actor.
    private let stoppingFlag = Atomic<Bool>(false)
    private var generation = 0
    private var startedUp = false
    /// When this scheduler started (Unix seconds): fires before it fell in a downtime.
    private var bootSeconds: Int64 = .min

    public init(
        store: any SchedulerStore, clock: any WallClock = SystemWallClock(), executor: any RunExecutor,
        configuration: SchedulerConfiguration = .init(), logger: Logger = Logger(label: "schedulerd.scheduler")
    ) {
        self.store = store
        self.clock = clock
        self.executor = executor
        self.configuration = configuration
        self.logger = logger
        self.journal = RunJournal(store: store, logger: logger)
    }

    // MARK: - Service

    public func run() async throws {
        bootSeconds = Int64(clock.now().timeIntervalSince1970.rounded(.down))
        let resumed = try await recover()
        try await reload()
        loadedOnce.store(true, ordering: .releasing)
        let (stream, continuation) = AsyncStream.makeStream(of: Job.self)
        jobs = continuation
        startedUp = true
        for run in resumed { enqueue(run) }
        await launchStarting()
        await fireRebootSchedules()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.timerLoop() }
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
        accepting = false
    }

    // MARK: - Changes from outside

    /// Reads every schedule again (at start, on SIGHUP, after `schedule apply`).
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

    /// Reads one schedule again after it was added or changed.
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

    /// Drops a schedule from the table and from the webhooks' copy; its queued fires find no entry.
    private func forget(_ id: String) {
        entries.removeValue(forKey: id)
        lookup.withLock { lookup in
            if let name = lookup.byID.removeValue(forKey: id)?.name, lookup.names[name] == id {
                lookup.names.removeValue(forKey: name)
            }
        }
    }

    /// Stores and starts a run that no cron fire made (manual, webhook): the overlap policy applies,
    /// and the run gets its trace id now.
    /// - Returns: the run as stored, or `nil` when a run with the same dedupe key exists (a webhook
    ///   delivered twice).
    public func submit(_ run: RunRecord, overlap: OverlapPolicy = .allow) async throws -> RunRecord? {
        var run = run
        if run.traceID == nil { run.traceID = TraceID.random().mlflowTraceID }
        if let scheduleID = run.scheduleID {
            var none: [RunRecord] = []
            await applyOverlap(overlap, to: &run, scheduleID: scheduleID, earlier: &none, now: clock.now())
        }
        let stored: Bool
        do {
            stored = try await journal.insert(run)
        } catch {
            forgetBuffered(run)
            throw error
        }
        guard stored else {
            forgetBuffered(run)
            return nil
        }
        // Every admitted fire counts under its trigger, as cron fires do when they are stored.
        configuration.metrics.fired(trigger: run.trigger)
        if run.state == .queued && !isBuffered(run) {
            enqueue(run)
            // The timer loop stores the start of every run admitted meanwhile in one transaction and
            // starts them; the caller (a webhook's 202) need not wait for that.
            if !starting.isEmpty { wakeup.signal() }
        }
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
        await dropQueued(id, scheduleID: stored.scheduleID ?? "", error: reason + " before it started")
        logger.info("cancelled a queued run on request", metadata: ["run_id": .string(id)])
        return .cancelledBeforeStart
    }

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
    public var load: (running: Int, queued: Int) { (active.count, waiting.count + delayedRuns.count) }

    /// Started (recovery done, schedules loaded) and not stopping: what `/readyz` reports.
    public var firing: Bool { startedUp && accepting }

    /// True from the moment a graceful stop begins: the API then takes no changes and webhooks are
    /// told to come back later, while running runs finish.
    public nonisolated var stopping: Bool { stoppingFlag.load(ordering: .relaxed) }

    /// How many runs were running when the stop began (0 before a stop).
    public private(set) var runsAtStop = 0

    /// Ends the grace period now: running runs are cancelled (their scripts killed, their traces
    /// closed) instead of being waited for. What a second SIGTERM or Ctrl-C does.
    public func hurry() {
        guard stopping, !active.isEmpty else { return }
        logger.warning(
            "asked again to stop: cancelling running runs now", metadata: ["running": .stringConvertible(active.count)])
        for run in active.values { run.signal.fire() }
    }

    // MARK: - The timer

    private func install(_ schedule: ScheduleRecord) {
        generation += 1
        var expression: CronExpression?
        if let cron = schedule.cron {
            expression = try? CronExpression(cron, options: schedule.cronOptions)
            if expression == nil {
                logger.error(
                    "schedule has an invalid cron expression; it will not fire",
                    metadata: ["schedule_id": .string(schedule.id), "cron": .string(cron)])
            }
        }
        var schedule = schedule
        if schedule.lastFireSeconds == nil {
            schedule.lastFireSeconds = Int64(schedule.createdAt.timeIntervalSince1970.rounded(.down))
        }
        let entry = Entry(schedule: schedule, expression: expression, generation: generation)
        entries[schedule.id] = entry
        lookup.withLock {
            $0.byID[schedule.id] = schedule
            $0.names[schedule.name] = schedule.id
        }
        pushNextFire(entry)
    }

    private func pushNextFire(_ entry: Entry) {
        guard !entry.schedule.paused, let expression = entry.expression, !expression.isReboot,
            let cursor = entry.schedule.lastFireSeconds
        else { return }
        // The first fire after the cursor: a missed one is due at once.
        guard let next = expression.nextFire(afterUnixSeconds: cursor) else { return }
        fires.push(.init(time: next.unixSeconds, key: entry.schedule.id, generation: entry.generation))
    }

    private func timerLoop() async {
        while accepting && !Task.isCancelled {
            let now = clock.now()
            await dispatchDue(now)
            startDelayed(now)
            await launchStarting()
            let next = [fires.min?.time, delayed.min?.time].compactMap { $0 }.min()
            let clock = self.clock
            let wakeup = self.wakeup
            await withTaskGroup(of: Void.self) { group in
                if let next {
                    group.addTask { try? await clock.sleep(until: Date(timeIntervalSince1970: Double(next))) }
                }
                group.addTask { await wakeup.wait() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Handles every fire due by `now`. Fires are stored in batches of up to ``fireBatch`` schedules,
    /// each batch's runs and cursors in one transaction, and each batch's runs start as soon as it is
    /// stored, while the next one is written.
    private func dispatchDue(_ now: Date) async {
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        var tick: [Planned] = []
        while accepting, let top = fires.min, top.time <= nowSeconds {
            _ = fires.pop()
            guard let entry = entries[top.key], entry.generation == top.generation, !entry.schedule.paused,
                let expression = entry.expression, let cursor = entry.schedule.lastFireSeconds
            else { continue }
            let plan = configuration.planner.due(
                expression, cursor: cursor, now: nowSeconds, catchupWindow: Int64(entry.schedule.catchupWindowSeconds),
                mode: entry.schedule.catchupMode, missedBefore: bootSeconds)
            let (schedule, fires) = await planFires(entry.schedule, plan.fires, cursor: plan.cursor, now: now)
            tick.append(Planned(key: top.key, generation: top.generation, schedule: schedule, fires: fires))
            if tick.count >= Self.fireBatch {
                await commit(tick, retryAt: nowSeconds + 1)
                tick = []
            }
        }
        if !tick.isEmpty { await commit(tick, retryAt: nowSeconds + 1) }
    }

    /// Schedules whose fires are stored in one transaction: large enough that a burst costs few
    /// transactions, small enough that the first runs start while the rest are written.
    static let fireBatch = 256

    /// A schedule's fires in this tick, planned but not stored yet.
    private struct Planned {
        var key: String
        var generation: Int
        var schedule: ScheduleRecord
        var fires: ScheduleFires
    }

    /// Stores planned fires in one transaction, then starts the runs stored. When the store fails,
    /// nothing moved: the fires are planned again at `retryAt`.
    private func commit(_ tick: [Planned], retryAt: Int64) async {
        let stored: Set<String>
        do {
            stored = try await store.recordFires(tick.map(\.fires))
        } catch {
            logger.error(
                "cannot store fires; they will be retried",
                metadata: ["schedules": .stringConvertible(tick.count), "error": .string("\(error)")])
            for item in tick {
                for run in item.fires.runs { forgetBuffered(run) }
                fires.push(.init(time: retryAt, key: item.key, generation: item.generation))
            }
            return
        }
        for item in tick {
            for run in item.fires.runs {
                guard stored.contains(run.id) else {
                    forgetBuffered(run)
                    logger.debug(
                        "fire already handled",
                        metadata: [
                            "schedule_id": .string(item.fires.scheduleID), "dedupe_key": .string(run.dedupeKey ?? ""),
                        ])
                    continue
                }
                configuration.metrics.fired(trigger: run.trigger)
                logger.info(
                    run.state == .queued ? "fire" : "fire \(run.state.rawValue)",
                    metadata: [
                        "schedule_id": .string(item.fires.scheduleID), "run_id": .string(run.id),
                        "trigger": .string(run.trigger), "dedupe_key": .string(run.dedupeKey ?? ""),
                    ])
                if run.state == .queued && !isBuffered(run) { enqueue(run) }
            }
            // The schedule may have been replaced while the store was written.
            guard var entry = entries[item.key], entry.generation == item.generation else { continue }
            entry.schedule = item.schedule
            entries[item.key] = entry
            lookup.withLock { $0.byID[item.key] = item.schedule }
            pushNextFire(entry)
        }
        await launchStarting()
    }

    /// The runs for a schedule's due fires, with the overlap policy applied (also among the fires of
    /// this tick), and the schedule as it will be once they are stored (cursor, remaining runs, pause).
    private func planFires(_ schedule: ScheduleRecord, _ due: [DueFire], cursor: Int64, now: Date) async
        -> (ScheduleRecord, ScheduleFires)
    {
        var schedule = schedule
        var pauseNote: String?
        var runs: [RunRecord] = []
        for item in due {
            if schedule.paused { break }
            let fire = item.fire
            var run = RunRecord(
                scheduleID: schedule.id, workflow: schedule.workflow, trigger: item.trigger, nominalTime: fire.instant,
                dedupeKey: fire.dedupeKey, queuedAt: now, inputJSON: schedule.inputJSON)
            run.traceID = TraceID.random().mlflowTraceID
            // Jitter stays before the schedule's next nominal fire (docs/cron.md, "Time zones and daylight saving").
            var limit = schedule.jitterSeconds
            if limit > 0, let next = entries[schedule.id]?.expression?.nextFire(afterUnixSeconds: fire.unixSeconds) {
                limit = max(0, min(limit, Int(next.unixSeconds - fire.unixSeconds) - 1))
            }
            let jitter = Jitter.delay(scheduleID: schedule.id, dedupeKey: fire.dedupeKey, limit: limit)
            if jitter > 0 { run.notBefore = fire.instant.addingTimeInterval(Double(jitter)) }
            await applyOverlap(schedule.overlap, to: &run, scheduleID: schedule.id, earlier: &runs, now: now)
            if run.state != .skipped, let remaining = schedule.remainingRuns {
                schedule.remainingRuns = remaining - 1
                if remaining - 1 <= 0 {
                    schedule.paused = true
                    pauseNote = "paused after its last remaining run"
                    schedule.pauseNote = pauseNote
                }
            }
            runs.append(run)
        }
        schedule.lastFireSeconds = max(schedule.lastFireSeconds ?? cursor, cursor)
        return (
            schedule,
            ScheduleFires(
                scheduleID: schedule.id, runs: runs, cursor: cursor, remainingRuns: schedule.remainingRuns,
                pauseNote: pauseNote)
        )
    }

    /// The overlap policy, for a new run of a schedule that may have runs in flight, or earlier runs
    /// queued in the same tick (`earlier`, not stored yet).
    private func applyOverlap(
        _ policy: OverlapPolicy, to run: inout RunRecord, scheduleID: String, earlier: inout [RunRecord], now: Date
    ) async {
        let others = inFlight[scheduleID] ?? []
        let queuedEarlier = earlier.indices.filter { earlier[$0].state == .queued }
        guard !others.isEmpty || !queuedEarlier.isEmpty else { return }
        switch policy {
        case .allow:
            break
        case .skip:
            let first = others.sorted().first ?? earlier[queuedEarlier[0]].id
            run.state = .skipped
            run.error = "skipped: run \(first) of this schedule was still going (overlap: skip)"
        case .bufferOne:
            if buffered[scheduleID] == nil {
                buffered[scheduleID] = run
            } else {
                run.state = .skipped
                run.error = "skipped: a run of this schedule was already waiting (overlap: buffer-one)"
            }
        case .cancelOther:
            for id in others {
                if let running = active[id] {
                    logger.info(
                        "cancelling a run for a newer fire (overlap: cancel-other)",
                        metadata: ["run_id": .string(id), "schedule_id": .string(scheduleID)])
                    running.signal.fire()
                } else {
                    await dropQueued(id, scheduleID: scheduleID)
                }
            }
            for index in queuedEarlier {
                if buffered[scheduleID]?.id == earlier[index].id { buffered.removeValue(forKey: scheduleID) }
                earlier[index].state = .cancelled
                earlier[index].finishedAt = now
                earlier[index].error = Self.replaced
            }
        }
    }

    static let replaced = "cancelled before it started: a newer fire replaced it (overlap: cancel-other)"

    /// A run that was not stored must not wait as the schedule's buffered fire.
    private func forgetBuffered(_ run: RunRecord) {
        if isBuffered(run), let scheduleID = run.scheduleID { buffered.removeValue(forKey: scheduleID) }
    }

    private func isBuffered(_ run: RunRecord) -> Bool {
        guard let scheduleID = run.scheduleID else { return false }
        return buffered[scheduleID]?.id == run.id
    }

    // MARK: - Runs

    private func enqueue(_ run: RunRecord) {
        if let scheduleID = run.scheduleID { inFlight[scheduleID, default: []].insert(run.id) }
        if let notBefore = run.notBefore, notBefore > clock.now() {
            delayedRuns[run.id] = run
            delayed.push(.init(time: Int64(notBefore.timeIntervalSince1970.rounded(.up)), key: run.id, generation: 0))
            wakeup.signal()
            return
        }
        admit(run)
    }

    private func startDelayed(_ now: Date) {
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        while let top = delayed.min, top.time <= nowSeconds {
            _ = delayed.pop()
            if let run = delayedRuns.removeValue(forKey: top.key) { admit(run) }
        }
    }

    /// Gives `run` a slot under the global limit, or queues it. A run that gets a slot also gets its root
    /// span's id and start, and waits in `starting` until ``launchStarting(with:)`` has stored them.
    private func admit(_ run: RunRecord) {
        guard accepting, startedUp, active.count < configuration.maxConcurrentRuns else {
            waiting.append(run)
            return
        }
        var run = run
        run.state = .running
        run.startedAt = clock.now()
        run.rootSpanID = SpanID.random().hex
        run.rootStartNanos = Int64(Date().timeIntervalSince1970 * 1e9)
        active[run.id] = Active(run: run, signal: Signal())
        starting.append(run)
    }

    /// Stores the start of every run admitted since the last call, with `changes` in the same
    /// transaction, then starts them. The root span's id and start are stored before the span exists,
    /// so that a crash from then on leaves a run `running` whose trace the next start can close.
    private func launchStarting(with changes: [RunUpdate] = []) async {
        let runs = starting
        starting = []
        guard !runs.isEmpty || !changes.isEmpty else { return }
        let starts = runs.map {
            RunUpdate.started(
                id: $0.id, at: $0.startedAt ?? clock.now(), rootSpanID: $0.rootSpanID ?? "",
                rootStartNanos: $0.rootStartNanos ?? 0)
        }
        do {
            try await journal.write(changes + starts)
        } catch {
            logger.error(
                "cannot store run changes; starting the runs anyway",
                metadata: ["runs": .string(runs.map(\.id).joined(separator: ",")), "error": .string("\(error)")])
        }
        for run in runs {
            guard let signal = active[run.id]?.signal else { continue }
            jobs?.yield(.execute(run, signal))
        }
    }

    /// A queued run that will not start (its schedule's newer fire replaced it, or it was cancelled on
    /// request): stored as cancelled.
    private func dropQueued(_ id: String, scheduleID: String, error: String = Scheduler.replaced) async {
        waiting.remove(id: id)
        delayedRuns.removeValue(forKey: id)
        if buffered[scheduleID]?.id == id { buffered.removeValue(forKey: scheduleID) }
        inFlight[scheduleID]?.remove(id)
        try? await journal.write([
            .finished(id: id, state: .cancelled, at: clock.now(), outputJSON: nil, error: error, nodesJSON: nil)
        ])
    }

    private func execute(_ run: RunRecord, _ signal: Signal) async {
        active[run.id]?.began = clock.now()
        let schedule = run.scheduleID.flatMap { entries[$0]?.schedule }
        let executor = self.executor
        let journal = self.journal
        let clock = self.clock
        let metrics = configuration.metrics
        let outcome = await withTaskGroup(of: RunOutcome?.self) { group in
            group.addTask {
                await executor.execute(
                    run, schedule: schedule,
                    started: { _ in
                        // Lateness: from the fire (or the end of its jitter) to the root span's start.
                        if run.trigger == "cron" || run.trigger == "catchup", let due = run.notBefore ?? run.nominalTime
                        {
                            metrics.lateness(seconds: clock.now().timeIntervalSince(due))
                        }
                    },
                    progress: { nodes in journal.note(id: run.id, nodes: nodes) })
            }
            group.addTask {
                await signal.wait()
                return nil
            }
            var outcome: RunOutcome?
            while let next = await group.next() {
                if let next {
                    outcome = next
                    group.cancelAll()
                } else if signal.hasFired {
                    group.cancelAll()
                }
            }
            return outcome ?? RunOutcome(state: .cancelled, error: "the run was cancelled")
        }
        await finished(run, outcome)
    }

    /// A run ended: its slot goes to the next queued run, and its end and the next run's start are
    /// stored in one transaction.
    private func finished(_ run: RunRecord, _ outcome: RunOutcome) async {
        var outcome = outcome
        if let reason = cancelReasons.removeValue(forKey: run.id) {
            outcome.state = .cancelled
            outcome.error = reason
        }
        logger.info(
            "run finished",
            metadata: [
                "run_id": .string(run.id), "schedule_id": .string(run.scheduleID ?? ""),
                "state": .string(outcome.state.rawValue),
            ])
        let began = active.removeValue(forKey: run.id)?.began
        configuration.metrics.finished(state: outcome.state, seconds: began.map { clock.now().timeIntervalSince($0) })
        if let scheduleID = run.scheduleID {
            inFlight[scheduleID]?.remove(run.id)
            if (inFlight[scheduleID] ?? []).isEmpty, let next = buffered.removeValue(forKey: scheduleID) {
                enqueue(next)
            }
        }
        while accepting, active.count < configuration.maxConcurrentRuns, let next = waiting.removeFirst() {
            admit(next)
        }
        configuration.metrics.load(running: active.count, queued: waiting.count + delayedRuns.count)
        await launchStarting(with: [
            .finished(
                id: run.id, state: outcome.state, at: clock.now(), outputJSON: outcome.outputJSON, error: outcome.error,
                nodesJSON: outcome.nodesJSON)
        ])
        if active.isEmpty { idle.signal() }
    }

    // MARK: - Start and stop

    /// Runs left `running` by a crash become `interrupted`, their traces closed; queued runs are
    /// returned to be started again.
    private func recover() async throws -> [RunRecord] {
        let now = clock.now()
        let running = try await store.runs(in: [.running])
        try await store.updateRuns(
            running.map {
                .finished(
                    id: $0.id, state: .interrupted, at: now, outputJSON: nil,
                    error: "the daemon stopped while this run was going; found at the next start", nodesJSON: nil)
            })
        for run in running {
            await executor.closeInterrupted(run)
            logger.warning(
                "run interrupted by a daemon stop",
                metadata: ["run_id": .string(run.id), "schedule_id": .string(run.scheduleID ?? "")])
        }
        let queued = try await store.runs(in: [.queued])
        if !queued.isEmpty {
            logger.info("resuming queued runs", metadata: ["count": .stringConvertible(queued.count)])
        }
        return queued
    }

    private func fireRebootSchedules() async {
        let bootKey = "reboot:" + String(Int64(clock.now().timeIntervalSince1970))
        for entry in entries.values where entry.expression?.isReboot == true && !entry.schedule.paused {
            let run = RunRecord(
                scheduleID: entry.schedule.id, workflow: entry.schedule.workflow, trigger: "reboot",
                dedupeKey: bootKey, queuedAt: clock.now(), inputJSON: entry.schedule.inputJSON)
            _ = try? await submit(run, overlap: entry.schedule.overlap)
        }
    }

    private func drain() async {
        accepting = false
        stoppingFlag.store(true, ordering: .relaxed)
        wakeup.signal()
        // Runs given a slot whose start the timer loop has not stored yet: they start now (the timer
        // loop ends with `accepting`), so that every run counted in `active` ends.
        await launchStarting()
        runsAtStop = active.count
        logger.info(
            "stopping: no new fires; waiting for running runs",
            metadata: [
                "running": .stringConvertible(active.count), "grace": .string("\(configuration.shutdownGrace)"),
            ])
        let deadline = ContinuousClock.now + configuration.shutdownGrace
        while !active.isEmpty && ContinuousClock.now < deadline {
            let idle = self.idle
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await Task.sleep(until: deadline) }
                group.addTask { await idle.wait() }
                await group.next()
                group.cancelAll()
            }
        }
        if !active.isEmpty {
            logger.warning(
                "grace period over: cancelling running runs", metadata: ["running": .stringConvertible(active.count)])
            for run in active.values { run.signal.fire() }
            while !active.isEmpty { await idle.wait() }
        }
        jobs?.finish()
    }
}
