import Cron
import Foundation
import Logging
import MLflowTracing
import ServiceLifecycle
import Storage
import Synchronization
import Workflows

// The scheduler's runs: the overlap policy, admission to the run slots under the global limit, the
// queue and jitter, storing starts and ends through the journal, and running runs on the executor.

extension Scheduler {
    /// The overlap policy, for a new run of a schedule that may have runs in flight, or earlier runs
    /// queued in the same tick (`earlier`, not stored yet).
    func applyOverlap(
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
    func forgetBuffered(_ run: RunRecord) {
        if isBuffered(run), let scheduleID = run.scheduleID { buffered.removeValue(forKey: scheduleID) }
    }

    func isBuffered(_ run: RunRecord) -> Bool {
        guard let scheduleID = run.scheduleID else { return false }
        return buffered[scheduleID]?.id == run.id
    }

    // MARK: - Runs

    func enqueue(_ run: RunRecord) {
        if let scheduleID = run.scheduleID { inFlight[scheduleID, default: []].insert(run.id) }
        if let notBefore = run.notBefore, notBefore > clock.now() {
            delayedRuns[run.id] = run
            delayed.push(.init(time: Int64(notBefore.timeIntervalSince1970.rounded(.up)), key: run.id, generation: 0))
            wakeup.signal()
            return
        }
        admit(run)
    }

    func startDelayed(_ now: Date) {
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        while let top = delayed.min, top.time <= nowSeconds {
            _ = delayed.pop()
            if let run = delayedRuns.removeValue(forKey: top.key) { admit(run) }
        }
    }

    /// Gives `run` a slot under the global limit, or queues it. A run that gets a slot also gets its root
    /// span's id and start, and waits in `starting` until ``launchStarting(with:)`` has stored them.
    func admit(_ run: RunRecord) {
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
    func launchStarting(with changes: [RunUpdate] = []) async {
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
    func dropQueued(_ id: String, scheduleID: String, error: String = Scheduler.replaced) async {
        waiting.remove(id: id)
        delayedRuns.removeValue(forKey: id)
        if buffered[scheduleID]?.id == id { buffered.removeValue(forKey: scheduleID) }
        inFlight[scheduleID]?.remove(id)
        try? await journal.write([
            .finished(id: id, state: .cancelled, at: clock.now(), outputJSON: nil, error: error, nodesJSON: nil)
        ])
    }

    func execute(_ run: RunRecord, _ signal: Signal) async {
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
}
