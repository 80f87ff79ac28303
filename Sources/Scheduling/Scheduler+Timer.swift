import Cron
import Foundation
import Logging
import RunTracing
import Storage
import Synchronization

// The scheduler's timer: the table of loaded schedules and the heap of their next fires, the loop that
// sleeps until the earliest fire (or a change), and the handling of due fires — planned with the
// catch-up and overlap policies, stored in batches, then handed to admission.

extension Scheduler {
    // MARK: - The schedule table

    /// Loads `schedule` (new or changed) under a new generation, for the API's lookup too, and puts
    /// its next fire on the heap.
    func install(_ schedule: ScheduleRecord) {
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
            schedule.lastFireSeconds = schedule.createdAt.unixSeconds()
        }
        let entry = Entry(schedule: schedule, expression: expression, generation: generation)
        entries[schedule.id] = entry
        lookup.withLock {
            $0.byID[schedule.id] = schedule
            $0.names[schedule.name] = schedule.id
        }
        pushNextFire(entry)
    }

    /// Drops a schedule from the table and from the webhooks' copy; its queued fires find no entry.
    func forget(_ id: String) {
        entries.removeValue(forKey: id)
        lookup.withLock { lookup in
            if let name = lookup.byID.removeValue(forKey: id)?.name, lookup.names[name] == id {
                lookup.names.removeValue(forKey: name)
            }
        }
    }

    /// Puts the schedule's first fire after its cursor on the heap (a missed one is due at once).
    func pushNextFire(_ entry: Entry) {
        guard !entry.schedule.paused, let expression = entry.expression, !expression.isReboot,
            let cursor = entry.schedule.lastFireSeconds
        else { return }
        guard let next = expression.nextFire(afterUnixSeconds: cursor) else { return }
        fires.push(
            .init(
                time: next.unixSeconds, key: entry.schedule.id, generation: entry.generation,
                period: next.unixSeconds - cursor))
    }

    // MARK: - The loop

    /// Until a stop: handles what is due, then sleeps on the clock until the next fire or jittered
    /// run, or until ``wakeup`` says something changed.
    func timerLoop() async {
        while admission.isOpen && !Task.isCancelled {
            let now = clock.now()
            dispatchingSince = .now
            await dispatchDue(now)
            for run in admission.due(now: now) { start(run) }
            await launchStarting()
            dispatchingSince = nil
            let stuck = checkQueued(now: now)?.unixSeconds(.up)
            let next = [fires.min?.time, admission.nextDelayed, stuck].compactMap { $0 }.min()
            let clock = self.clock
            let wakeup = self.wakeup
            await withTaskGroup(of: Void.self) { group in
                if let next {
                    group.addTask { try? await clock.sleep(until: Date(unixSeconds: next)) }
                }
                group.addTask { await wakeup.wait() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Handles every fire due by `now`. Fires are stored in batches, each batch's runs and cursors in
    /// one transaction: the first of ``firstFireBatch`` schedules, so that the first runs start at
    /// once, then each twice the one before up to ``fireBatch``. The batches are pipelined: while one
    /// is written, the runs of the one before start and the next one is planned, so that a burst of
    /// thousands of schedules costs about the store's time alone.
    func dispatchDue(_ now: Date) async {
        let nowSeconds = now.unixSeconds()
        var tick: [Planned] = []
        var batch = Self.firstFireBatch
        var writing: Writing?
        othersStoring = false
        while admission.isOpen, let top = fires.min, top.time <= nowSeconds {
            _ = fires.pop()
            guard let entry = entries[top.key], entry.generation == top.generation, !entry.schedule.paused,
                let expression = entry.expression, let cursor = entry.schedule.lastFireSeconds
            else { continue }
            let plan = configuration.planner.due(
                expression, cursor: cursor, now: nowSeconds, catchupWindow: Int64(entry.schedule.catchupWindowSeconds),
                mode: entry.schedule.catchupMode, missedBefore: bootSeconds)
            if let missed = plan.missed { alertMissed(entry.schedule, fires: missed, at: now) }
            let (schedule, fires) = await planFires(entry.schedule, plan.fires, cursor: plan.cursor, now: now)
            tick.append(Planned(key: top.key, generation: top.generation, schedule: schedule, fires: fires))
            if tick.count >= batch {
                if let writing { await settle(writing) }
                writing = write(tick, retryAt: nowSeconds + 1)
                tick = []
                batch = min(batch * 2, Self.fireBatch)
                await launchStarting()
            }
        }
        if let writing { await settle(writing) }
        if !tick.isEmpty { await settle(write(tick, retryAt: nowSeconds + 1)) }
        await launchStarting()
    }

    /// Schedules whose fires are stored in one transaction: large enough that a burst costs few
    /// transactions, small enough that the first runs start while the rest are written.
    static let fireBatch = 256

    /// The size of a tick's first batch: a small transaction, so that its runs (the fires of the
    /// shortest periods, ``FireHeap``) start within milliseconds even when thousands are due.
    static let firstFireBatch = 32

    /// A schedule's fires in this tick, planned but not stored yet.
    struct Planned {
        var key: String
        var generation: Int
        var schedule: ScheduleRecord
        var fires: ScheduleFires
    }

    /// A batch of planned fires on its way to the store.
    struct Writing {
        /// The fires, as given to the store.
        var tick: [Planned]
        /// When they are planned again if the store fails or another daemon holds their schedules.
        var retryAt: Int64
        /// The free slots given to its runs (``slotsInFlight``).
        var reserved: Int
        /// The store's answer.
        var result: Task<Result<RunWriteResult, any Error>, Never>
    }

    /// Starts storing planned fires in one transaction; ``settle(_:)`` handles the answer.
    ///
    /// On a shared store, queued runs past this instance's free slots and share are stored held by no
    /// one, for whichever instance has a slot first to claim (this one included); the store also skips
    /// a fire of an overlap `skip` schedule whose run goes on at another instance.
    func write(_ tick: [Planned], retryAt: Int64) -> Writing {
        var tick = tick
        var reserved = 0
        if configuration.membership.shared { reserved = shareBeyondCapacity(&tick, keepAll: othersStoring) }
        slotsInFlight += reserved
        let store = self.store
        let fires = tick.map(\.fires)
        return Writing(
            tick: tick, retryAt: retryAt, reserved: reserved,
            result: Task {
                do { return .success(try await store.recordFires(fires)) } catch { return .failure(error) }
            })
    }

    /// Waits for a batch to be stored, then admits the runs stored. When the store failed, nothing
    /// moved: the fires are planned again at the batch's retry time. Their starts are stored by the
    /// next ``launchStarting(with:)``.
    func settle(_ writing: Writing) async {
        let tick = writing.tick
        let retryAt = writing.retryAt
        let answer = await writing.result.value
        // Admitted, or known not stored, by the end of this call (which does not wait again).
        defer { for item in tick { storing.subtract(item.fires.runs.map(\.id)) } }
        slotsInFlight -= writing.reserved
        let result: RunWriteResult
        switch answer {
        case .success(let stored):
            result = stored
        case .failure(let error):
            logger.error(
                "cannot store fires; they will be retried",
                metadata: ["schedules": .stringConvertible(tick.count), "error": .string("\(error)")])
            for item in tick {
                for run in item.fires.runs { admission.notStored(run) }
                fires.push(.init(time: retryAt, key: item.key, generation: item.generation))
            }
            return
        }
        if !result.busy.isEmpty { othersStoring = true }
        let now = clock.now()
        for item in tick {
            if result.busy.contains(item.fires.scheduleID) {
                // Another daemon is storing this schedule's fires: plan them again in a moment.
                for run in item.fires.runs { admission.notStored(run) }
                fires.push(.init(time: retryAt, key: item.key, generation: item.generation))
                continue
            }
            for var run in item.fires.runs {
                guard result.stored.contains(run.id) else {
                    admission.notStored(run)
                    logger.debug(
                        "fire already handled",
                        metadata: [
                            "schedule_id": .string(item.fires.scheduleID), "dedupe_key": .string(run.dedupeKey ?? ""),
                        ])
                    continue
                }
                if let reason = result.skipped[run.id] {
                    admission.notStored(run)
                    run.skip(reason, at: now)
                }
                configuration.metrics.fired(trigger: run.trigger)
                countSkips(run, of: item.schedule, at: now)
                logger.info(
                    run.state == .queued ? "fire" : "fire \(run.state.rawValue)",
                    metadata: [
                        "schedule_id": .string(item.fires.scheduleID), "run_id": .string(run.id),
                        "trigger": .string(run.trigger), "dedupe_key": .string(run.dedupeKey ?? ""),
                    ])
                if run.owner == nil && run.state == .queued {
                    // Held by no one: it starts wherever a slot is free first.
                    admission.notStored(run)
                    backlogLikely = true
                    continue
                }
                enqueue(run, now: now)
            }
            // The schedule may have been replaced while the store was written.
            guard var entry = entries[item.key], entry.generation == item.generation else { continue }
            var schedule = item.schedule
            if let left = result.remaining[item.fires.scheduleID] {
                // The stored count, which another daemon's fires may have moved: it was not paused
                // when planned, so a pause now is the count's.
                schedule.remainingRuns = left
                schedule.paused = left == 0
                schedule.pauseNote = left == 0 ? ScheduleFires.lastRunPauseNote : nil
            }
            entry.schedule = schedule
            entries[item.key] = entry
            lookup.withLock { $0.byID[item.key] = schedule }
            pushNextFire(entry)
        }
    }

    /// Leaves this instance the queued runs of `tick` it has free slots for, and its share of the rest
    /// (every ``liveInstances``-th: all of them when it is alone), and stores the others held by no
    /// one, for whichever instance has a slot first. Runs of `buffer-one` and `cancel-other`
    /// schedules stay: they wait for, or cancel, this instance's runs of their schedule.
    ///
    /// Keeping a share, rather than only what fits the free slots, spares each kept run a claim (a
    /// round trip and a row written) and spreads a burst over the instances even when one of them
    /// stored all of it; the others' claims take the rest.
    /// - Returns: how many of the free slots the kept runs take.
    @discardableResult
    func shareBeyondCapacity(_ tick: inout [Planned], keepAll: Bool) -> Int {
        let available = max(0, admission.freeSlots - slotsInFlight)
        var free = available
        let share = keepAll ? 1 : max(1, liveInstances)
        for index in tick.indices {
            // A buffer-one or cancel-other run stays too: only the instance holding its schedule's
            // runs can wait for or cancel them.
            let held = tick[index].fires.needsHolder
            for runIndex in tick[index].fires.runs.indices {
                let run = tick[index].fires.runs[runIndex]
                guard run.state == .queued, !admission.isBuffered(run) else { continue }
                if free > 0 {
                    free -= 1
                    continue
                }
                if held { continue }
                sharedRunCount += 1
                if sharedRunCount % share != 0 { tick[index].fires.runs[runIndex].owner = nil }
            }
        }
        return available - free
    }

    /// The runs for a schedule's due fires, with the overlap policy applied (also among the fires of
    /// this tick), and the schedule as it will be once they are stored (cursor, remaining runs, pause).
    func planFires(_ schedule: ScheduleRecord, _ due: [DueFire], cursor: Int64, now: Date) async
        -> (ScheduleRecord, ScheduleFires)
    {
        var schedule = schedule
        var runs: [RunRecord] = []
        for item in due {
            if schedule.paused { break }
            let fire = item.fire
            var run = RunRecord(
                scheduleID: schedule.id, workflow: schedule.workflow, trigger: item.trigger, nominalTime: fire.instant,
                dedupeKey: fire.dedupeKey, queuedAt: now, inputJSON: schedule.inputJSON)
            run.traceID = TraceID.random().mlflowTraceID
            run.owner = configuration.membership.instanceID
            // Until its batch settles (``settle(_:)``): a buffered fire is tracked from now.
            storing.insert(run.id)
            // Jitter stays before the schedule's next nominal fire (docs/cron.md, "Time zones and daylight saving").
            var limit = schedule.jitterSeconds
            if limit > 0, let next = entries[schedule.id]?.expression?.nextFire(afterUnixSeconds: fire.unixSeconds) {
                limit = max(0, min(limit, Int(next.unixSeconds - fire.unixSeconds) - 1))
            }
            let jitter = Jitter.delay(scheduleID: schedule.id, dedupeKey: fire.dedupeKey, limit: limit)
            if jitter > 0 { run.notBefore = fire.instant.addingTimeInterval(Double(jitter)) }
            await applyOverlap(schedule.overlap, to: &run, earlier: &runs, now: now)
            // The count as this daemon knows it limits what it plans; the store counts again from
            // the stored row, which ``settle(_:)`` then takes.
            if run.state != .skipped, let remaining = schedule.remainingRuns {
                schedule.remainingRuns = remaining - 1
                if remaining - 1 <= 0 {
                    schedule.paused = true
                    schedule.pauseNote = ScheduleFires.lastRunPauseNote
                }
            }
            runs.append(run)
        }
        schedule.lastFireSeconds = max(schedule.lastFireSeconds ?? cursor, cursor)
        return (
            schedule,
            ScheduleFires(scheduleID: schedule.id, runs: runs, cursor: cursor, overlap: schedule.overlap)
        )
    }
}
