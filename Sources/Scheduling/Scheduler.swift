import Cron
import Foundation
import Logging
import MLflowTracing
import ServiceLifecycle
import Storage
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

    private var entries: [String: Entry] = [:]
    private var fires = FireHeap()
    private var delayed = FireHeap()
    private var delayedRuns: [String: RunRecord] = [:]
    private var waiting: [RunRecord] = []
    private var active: [String: Active] = [:]
    private var inFlight: [String: Set<String>] = [:]
    private var buffered: [String: RunRecord] = [:]
    private var jobs: AsyncStream<Job>.Continuation?
    private let wakeup = Wakeup()
    private let idle = Wakeup()
    private var accepting = true
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
    }

    // MARK: - Service

    public func run() async throws {
        bootSeconds = Int64(clock.now().timeIntervalSince1970.rounded(.down))
        let resumed = try await recover()
        try await reload()
        let (stream, continuation) = AsyncStream.makeStream(of: Job.self)
        jobs = continuation
        startedUp = true
        for run in resumed { enqueue(run) }
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
    }

    // MARK: - Changes from outside

    /// Reads every schedule again (at start, on SIGHUP, after `schedule apply`).
    public func reload() async throws {
        let schedules = try await store.schedules()
        var seen: Set<String> = []
        for schedule in schedules {
            seen.insert(schedule.id)
            install(schedule)
        }
        for id in entries.keys where !seen.contains(id) { entries.removeValue(forKey: id) }
        wakeup.signal()
    }

    /// Reads one schedule again after it was added or changed.
    public func scheduleChanged(id: String) async throws {
        if let schedule = try await store.schedule(id: id) {
            install(schedule)
        } else {
            entries.removeValue(forKey: id)
        }
        wakeup.signal()
    }

    /// Forgets a deleted schedule (its running runs go on).
    public func scheduleRemoved(id: String) {
        entries.removeValue(forKey: id)
        wakeup.signal()
    }

    /// Stores and starts a run that no cron fire made (manual, webhook): the overlap policy applies,
    /// and the run gets its trace id now.
    /// - Returns: the run as stored, or `nil` when a run with the same dedupe key exists (a webhook
    ///   delivered twice).
    public func submit(_ run: RunRecord, overlap: OverlapPolicy = .allow) async throws -> RunRecord? {
        var run = run
        if run.traceID == nil { run.traceID = TraceID.random().mlflowTraceID }
        if let scheduleID = run.scheduleID, !(inFlight[scheduleID] ?? []).isEmpty {
            await applyOverlap(overlap, to: &run, scheduleID: scheduleID)
        }
        guard try await store.insertRun(run) else { return nil }
        if run.state == .queued && !isBuffered(run) { enqueue(run) }
        return run
    }

    /// Runs going now and waiting for a slot.
    public var load: (running: Int, queued: Int) { (active.count, waiting.count + delayedRuns.count) }

    // MARK: - The timer

    private func install(_ schedule: ScheduleRecord) {
        generation += 1
        var expression: CronExpression?
        if let cron = schedule.cron {
            expression = try? CronExpression(cron, options: .init(timeZone: schedule.timeZone, seed: schedule.id))
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

    private func dispatchDue(_ now: Date) async {
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        while accepting, let top = fires.min, top.time <= nowSeconds {
            _ = fires.pop()
            guard var entry = entries[top.key], entry.generation == top.generation, !entry.schedule.paused,
                let expression = entry.expression, let cursor = entry.schedule.lastFireSeconds
            else { continue }
            let plan = configuration.planner.due(
                expression, cursor: cursor, now: nowSeconds, catchupWindow: Int64(entry.schedule.catchupWindowSeconds),
                mode: entry.schedule.catchupMode, missedBefore: bootSeconds)
            do {
                entry.schedule = try await fire(entry.schedule, plan.fires, cursor: plan.cursor, now: now)
            } catch {
                logger.error(
                    "cannot store a fire; it will be retried",
                    metadata: ["schedule_id": .string(entry.schedule.id), "error": .string("\(error)")])
                // Try again in a second rather than lose the fire.
                fires.push(.init(time: nowSeconds + 1, key: entry.schedule.id, generation: entry.generation))
                continue
            }
            // The schedule may have been replaced while the store was written.
            guard entries[top.key]?.generation == top.generation else { continue }
            entries[top.key] = entry
            pushNextFire(entry)
        }
    }

    /// Stores and starts the runs for a schedule's due fires; returns the schedule with its cursor moved.
    private func fire(_ schedule: ScheduleRecord, _ due: [DueFire], cursor: Int64, now: Date) async throws
        -> ScheduleRecord
    {
        var schedule = schedule
        var pauseNote: String?
        for item in due {
            if schedule.paused { break }
            let fire = item.fire
            var run = RunRecord(
                scheduleID: schedule.id, workflow: schedule.workflow, trigger: item.trigger, nominalTime: fire.instant,
                dedupeKey: fire.dedupeKey, queuedAt: now, inputJSON: schedule.inputJSON)
            run.traceID = TraceID.random().mlflowTraceID
            let jitter = Jitter.delay(scheduleID: schedule.id, dedupeKey: fire.dedupeKey, limit: schedule.jitterSeconds)
            if jitter > 0 { run.notBefore = fire.instant.addingTimeInterval(Double(jitter)) }
            if !(inFlight[schedule.id] ?? []).isEmpty {
                await applyOverlap(schedule.overlap, to: &run, scheduleID: schedule.id)
            }
            if run.state != .skipped, let remaining = schedule.remainingRuns {
                schedule.remainingRuns = remaining - 1
                if remaining - 1 <= 0 {
                    schedule.paused = true
                    pauseNote = "paused after its last remaining run"
                    schedule.pauseNote = pauseNote
                }
            }
            guard try await store.insertRun(run) else {
                logger.debug(
                    "fire already handled",
                    metadata: ["schedule_id": .string(schedule.id), "fire": .string(fire.iso8601)])
                continue
            }
            configuration.metrics.fired(trigger: run.trigger)
            logger.info(
                run.state == .skipped ? "fire skipped" : "fire",
                metadata: [
                    "schedule_id": .string(schedule.id), "run_id": .string(run.id), "trigger": .string(run.trigger),
                    "fire_time": .string(fire.iso8601),
                ])
            if run.state == .queued && !isBuffered(run) { enqueue(run) }
        }
        try await store.advanceSchedule(
            id: schedule.id, lastFireSeconds: cursor, remainingRuns: schedule.remainingRuns, pauseNote: pauseNote)
        schedule.lastFireSeconds = max(schedule.lastFireSeconds ?? cursor, cursor)
        return schedule
    }

    /// The overlap policy, for a fire of a schedule that has runs in flight.
    private func applyOverlap(_ policy: OverlapPolicy, to run: inout RunRecord, scheduleID: String) async {
        let others = inFlight[scheduleID] ?? []
        switch policy {
        case .allow:
            break
        case .skip:
            run.state = .skipped
            run.error = "skipped: run \(others.sorted().first ?? "?") of this schedule was still going (overlap: skip)"
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
        }
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

    private func admit(_ run: RunRecord) {
        guard accepting, startedUp, active.count < configuration.maxConcurrentRuns else {
            waiting.append(run)
            return
        }
        let signal = Signal()
        active[run.id] = Active(run: run, signal: signal)
        jobs?.yield(.execute(run, signal))
    }

    /// A queued run that will not start (its schedule's newer fire replaced it): stored as cancelled.
    private func dropQueued(_ id: String, scheduleID: String) async {
        waiting.removeAll { $0.id == id }
        delayedRuns.removeValue(forKey: id)
        if buffered[scheduleID]?.id == id { buffered.removeValue(forKey: scheduleID) }
        inFlight[scheduleID]?.remove(id)
        try? await store.finishRun(
            id: id, state: .cancelled, at: clock.now(), outputJSON: nil,
            error: "cancelled before it started: a newer fire replaced it (overlap: cancel-other)", nodesJSON: nil)
    }

    private func execute(_ run: RunRecord, _ signal: Signal) async {
        let schedule = run.scheduleID.flatMap { entries[$0]?.schedule }
        let executor = self.executor
        let outcome = await withTaskGroup(of: RunOutcome?.self) { group in
            group.addTask {
                await executor.execute(
                    run, schedule: schedule,
                    started: { start in await self.started(run.id, start) },
                    progress: { nodes in await self.progress(run.id, nodes) })
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

    private func started(_ id: String, _ start: RunStart) async {
        if let run = active[id]?.run, run.trigger == "cron" || run.trigger == "catchup",
            let due = run.notBefore ?? run.nominalTime
        {
            configuration.metrics.lateness(seconds: clock.now().timeIntervalSince(due))
        }
        active[id]?.began = clock.now()
        do {
            try await store.markRunStarted(
                id: id, at: clock.now(), traceID: start.traceID, rootSpanID: start.rootSpanID,
                rootStartNanos: Int64(start.startNanos))
        } catch {
            logger.error("cannot store a run's start", metadata: ["run_id": .string(id), "error": .string("\(error)")])
        }
    }

    private func progress(_ id: String, _ nodes: [NodeRecord]) async {
        guard let json = Self.json(nodes) else { return }
        try? await store.updateRunNodes(id: id, nodesJSON: json)
    }

    private func finished(_ run: RunRecord, _ outcome: RunOutcome) async {
        do {
            try await store.finishRun(
                id: run.id, state: outcome.state, at: clock.now(), outputJSON: outcome.outputJSON, error: outcome.error,
                nodesJSON: outcome.nodesJSON)
        } catch {
            logger.error(
                "cannot store a run's end", metadata: ["run_id": .string(run.id), "error": .string("\(error)")])
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
        while accepting, active.count < configuration.maxConcurrentRuns, !waiting.isEmpty {
            admit(waiting.removeFirst())
        }
        configuration.metrics.load(running: active.count, queued: waiting.count + delayedRuns.count)
        if active.isEmpty { idle.signal() }
    }

    // MARK: - Start and stop

    /// Runs left `running` by a crash become `interrupted`, their traces closed; queued runs are
    /// returned to be started again.
    private func recover() async throws -> [RunRecord] {
        let now = clock.now()
        for run in try await store.runs(in: [.running]) {
            try await store.finishRun(
                id: run.id, state: .interrupted, at: now, outputJSON: nil,
                error: "the daemon stopped while this run was going; found at the next start", nodesJSON: nil)
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
        wakeup.signal()
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

    static func json(_ nodes: [NodeRecord]) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(nodes)).map { String(decoding: $0, as: UTF8.self) }
    }
}
