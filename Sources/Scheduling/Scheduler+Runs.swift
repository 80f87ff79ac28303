import Foundation
import Logging
import RunTracing
import Storage

// The scheduler's runs: it asks `RunAdmission` what may start (overlap policies, the global limit,
// the queue, jitter) and carries out the answer — stores starts, ends and cancellations through the
// journal, hands runs to the executor, and cancels the runs that must stop.

extension Scheduler {
    /// What the trace of a run says when this instance ended it after another instance had taken it
    /// over (this one was silent past its lease).
    static let lostToTakeover =
        "another instance took this run over while the instance running it was silent past its lease; this end was not stored"

    /// A queued run's end when a newer fire of its schedule replaced it.
    static let replaced = "cancelled before it started: a newer fire replaced it (overlap: cancel-other)"

    // MARK: - Admission

    /// The overlap policy, for a new run of a schedule that may have runs in flight, or earlier runs
    /// queued in the same tick (`earlier`, not stored yet): skips `run`, or cancels the schedule's
    /// other runs (running ones through their signal, waiting ones in the store, earlier ones in
    /// `earlier`), as the admission decides.
    func applyOverlap(
        _ policy: OverlapPolicy, to run: inout RunRecord, earlier: inout [RunRecord], now: Date
    ) async {
        switch admission.arrive(run, policy: policy, earlier: earlier) {
        case .proceed, .buffer:
            break
        case .skip(let reason):
            run.state = .skipped
            run.error = reason
        case .cancelOthers(let running, let waiting, let replaced):
            for id in running {
                logger.info(
                    "cancelling a run for a newer fire (overlap: cancel-other)",
                    metadata: ["run_id": .string(id), "schedule_id": .string(run.scheduleID ?? "")])
                active[id]?.signal.fire()
            }
            await storeCancelled(waiting, error: Self.replaced)
            guard !replaced.isEmpty else { return }
            let ids = Set(replaced)
            for index in earlier.indices where ids.contains(earlier[index].id) {
                earlier[index].state = .cancelled
                earlier[index].finishedAt = now
                earlier[index].error = Self.replaced
            }
        }
    }

    /// Hands a stored run to the admission and carries out where it went: a run given a slot starts,
    /// and a run that waits for its jitter, or is the first to wait for a slot, wakes the timer (it
    /// may be the earliest thing to watch).
    func enqueue(_ run: RunRecord, now: Date) {
        switch admission.stored(run, now: now) {
        case .start: start(run)
        case .delayed: wakeup.signal()
        case .queued:
            // The first run to wait for a slot: the timer watches how long it waits (checkQueued).
            if admission.waitingRuns.count == 1 { wakeup.signal() }
        case .buffered, .ended: break
        }
    }

    /// Gives `run` the slot the admission granted: it is marked running, gets its root span's id and
    /// start, and waits in `starting` until ``launchStarting(with:)`` has stored them.
    func start(_ run: RunRecord) {
        var run = run
        let now = clock.now()
        run.state = .running
        run.attempt += 1
        if !stuckRuns.isEmpty, stuckRuns.remove(run.id) != nil, let id = run.scheduleID { stuckSchedules.remove(id) }
        run.owner = configuration.membership.instanceID
        run.startedAt = now
        run.rootSpanID = SpanID.random().hex
        run.rootStartNanos = now.unixNanoseconds
        active[run.id] = Active(run: run, signal: Signal())
        starting.append(run)
    }

    /// Stores the start of every run admitted since the last call, with `changes` in the same
    /// transaction, then starts them. The root span's id and start are stored before the span exists,
    /// so that a crash from then on leaves a run `running` whose trace the next start can close.
    ///
    /// Each start is fenced (``RunFence``): a run another instance started first, or that was
    /// cancelled meanwhile, is not started here; its slot goes to the next run.
    /// - Returns: the ids of the runs among `changes` whose fenced changes the store refused.
    @discardableResult
    func launchStarting(with changes: [RunUpdate] = []) async -> Set<String> {
        var changes = changes
        var refusedChanges: Set<String> = []
        while !starting.isEmpty || !changes.isEmpty {
            let runs = starting
            starting = []
            let membership = configuration.membership
            let starts = runs.map {
                RunUpdate.started(
                    id: $0.id, at: $0.startedAt ?? clock.now(), rootSpanID: $0.rootSpanID ?? "",
                    rootStartNanos: $0.rootStartNanos ?? 0, fence: membership.fence(attempt: $0.attempt))
            }
            var refused: Set<String> = []
            do {
                refused = try await journal.write(changes + starts)
            } catch {
                logger.error(
                    "cannot store run changes; starting the runs anyway",
                    metadata: ["runs": .string(runs.map(\.id).joined(separator: ",")), "error": .string("\(error)")])
            }
            for change in changes where refused.contains(change.runID) {
                noteRefused(change)
                refusedChanges.insert(change.runID)
            }
            changes = []
            for run in runs {
                guard let signal = active[run.id]?.signal else { continue }
                guard !refused.contains(run.id) else {
                    release(run, because: "another instance started or ended this run first; not starting it here")
                    continue
                }
                jobs?.yield(.execute(run, signal))
            }
        }
        return refusedChanges
    }

    /// Gives up a run that has a slot but will not run here: its slot goes to the next runs, which
    /// the caller's loop starts.
    func release(_ run: RunRecord, because reason: String) {
        logger.warning(
            "\(reason)", metadata: ["run_id": .string(run.id), "schedule_id": .string(run.scheduleID ?? "")])
        active.removeValue(forKey: run.id)
        cancelReasons.removeValue(forKey: run.id)
        let handoff = admission.finish(run, now: clock.now())
        for next in handoff.start { start(next) }
        if handoff.delayed { wakeup.signal() }
        if active.isEmpty { idle.signal() }
    }

    /// Logs a fenced change the store refused: another instance took the run over after this one's
    /// lease expired, so what this one did is not written.
    func noteRefused(_ change: RunUpdate) {
        configuration.metrics.refusedWrite()
        logger.warning(
            "the store refused this instance's write: another instance took the run over after this one was silent past its lease",
            metadata: ["run_id": .string(change.runID), "instance": .string(configuration.membership.instanceID)])
    }

    /// Stores runs that will not start (replaced by a newer fire, or cancelled on request) as
    /// cancelled, with `error`. The admission has let go of them already.
    func storeCancelled(_ ids: [String], error: String) async {
        guard !ids.isEmpty else { return }
        let now = clock.now()
        _ = try? await journal.write(
            ids.map { .finished(id: $0, state: .cancelled, at: now, outputJSON: nil, error: error, nodesJSON: nil) })
    }

    // MARK: - Running

    /// Runs `run` on the executor until it ends or its signal fires (a cancel, cancel-other, or the
    /// end of a stop's grace), then ends it. A run still going past its schedule's expected duration
    /// alerts `overdue` meanwhile.
    func execute(_ run: RunRecord, _ signal: Signal) async {
        active[run.id]?.began = clock.now()
        let schedule = run.scheduleID.flatMap { entries[$0]?.schedule }
        let executor = self.executor
        let journal = self.journal
        let clock = self.clock
        let metrics = configuration.metrics
        let fence = configuration.membership.fence(attempt: run.attempt)
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
                    progress: { nodes in journal.note(id: run.id, nodes: nodes, fence: fence) })
            }
            group.addTask {
                await signal.wait()
                return nil
            }
            if let seconds = schedule?.expectedDurationSeconds {
                // Cancelled when the run ends first; otherwise it alerts overdue while the run goes on.
                group.addTask {
                    guard (try? await clock.sleep(for: .seconds(seconds))) != nil, !Task.isCancelled else { return nil }
                    await self.alertOverdue(run, expected: seconds)
                    return nil
                }
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

    /// A run ended: its slot goes to the runs the admission hands it to, and its end, its retry (if
    /// its schedule retries this end) and their starts are stored in one transaction.
    func finished(_ run: RunRecord, _ outcome: RunOutcome) async {
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
        let now = clock.now()
        let began = active.removeValue(forKey: run.id)?.began
        configuration.metrics.finished(state: outcome.state, seconds: began.map { now.timeIntervalSince($0) })
        let handoff = admission.finish(run, now: now)
        for next in handoff.start { start(next) }
        if handoff.delayed { wakeup.signal() }
        let load = admission.load
        configuration.metrics.load(running: load.running, queued: load.queued)
        // A slot came free and nothing waits here for it: queued runs no instance holds may take it.
        if backlogLikely && admission.freeSlots > 0 {
            claimWakeup.signal()
        }
        let retry = plannedRetry(of: run, ended: outcome.state, at: now)
        let refused = await launchStarting(with: [
            .finished(
                id: run.id, state: outcome.state, at: now, outputJSON: outcome.outputJSON, error: outcome.error,
                nodesJSON: outcome.nodesJSON, fence: configuration.membership.fence(attempt: run.attempt),
                retry: retry)
        ])
        if let retry { retryStored(retry, after: run, refused: refused.contains(run.id)) }
        if !refused.contains(run.id) {
            await alertOnEnd(run, state: outcome.state, error: outcome.error, retried: retry != nil, at: now)
        }
        if refused.contains(run.id) {
            // The trace was closed as this instance ended the run; the store keeps the takeover: the
            // trace says so too, its spans of what this instance did staying below.
            var lost = run
            lost.error = Self.lostToTakeover
            await executor.closeInterrupted(lost)
        }
        if active.isEmpty { idle.signal() }
    }
}
