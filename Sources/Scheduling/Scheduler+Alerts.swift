import Cron
import Foundation
import Logging
import Storage
import Support

// Alerts (AlertRecord): what a run's end, or a run found interrupted, tells the schedule's notify
// targets. They go to the store's outbox, and from there to the receivers (AlertDispatcher), off the
// runs' path.

extension Scheduler {
    /// Schedules that give no alert targets of their own tell `rules` from now on (the `defaults`
    /// of `policies.yaml`, read again on SIGHUP).
    public func useDefaultNotify(_ rules: [NotifyRule]) {
        defaultNotify = rules
    }

    /// The alert targets of a schedule: its own, or the default.
    func notifyRules(_ schedule: ScheduleRecord) -> [NotifyRule] {
        schedule.notify ?? defaultNotify
    }

    /// Stores the alerts a stored run's end makes: the last attempt at a fire failing starts a
    /// failure streak (`failure`, once), a success ends one (`recovered`, once) and may alert
    /// `success`. Cancelled and skipped runs, and attempts that will be retried, alert nothing.
    /// A store that cannot take them is logged; the run is not held up.
    func alertOnEnd(_ run: RunRecord, state: RunState, error: String?, retried: Bool, at now: Date) async {
        guard let id = run.scheduleID, let schedule = entries[id]?.schedule else { return }
        let rules = notifyRules(schedule)
        guard !rules.isEmpty else { return }
        let failed = RetryPolicy.retriable.contains(state)
        guard (failed && !retried) || state == .succeeded else { return }
        var ended = run
        ended.state = state
        let payload = AlertPayload.json(
            failed ? .failure : .recovered, schedule: schedule, run: ended, state: state, error: error, at: now,
            links: configuration.alertLinks)
        do {
            let event: AlertEvent = failed ? .failure : .recovered
            let streak = AlertPayload.alerts(
                event, rules: rules, schedule: schedule, subject: run.id, runID: run.id, payload: payload, at: now)
            if try await store.recordStreak(scheduleID: id, failing: failed, at: now, alerts: streak), !streak.isEmpty {
                logger.info(
                    failed ? "alerting: a schedule's run failed" : "alerting: a schedule recovered",
                    metadata: [
                        "schedule_id": .string(id), "run_id": .string(run.id),
                        "targets": .stringConvertible(streak.count),
                    ])
            }
            if state == .succeeded {
                let success = AlertPayload.json(
                    .success, schedule: schedule, run: ended, state: state, error: nil, at: now,
                    links: configuration.alertLinks)
                _ = try await store.insertAlerts(
                    AlertPayload.alerts(
                        .success, rules: rules, schedule: schedule, subject: run.id, runID: run.id, payload: success,
                        at: now))
            }
        } catch {
            logger.error(
                "cannot store a run's alerts",
                metadata: ["run_id": .string(run.id), "error": .string("\(error)")])
        }
    }
}

// Missed and overdue runs.
extension Scheduler {
    /// Skipped fires and waiting runs alert `missed` by `limits` from now on (the `defaults` of
    /// `policies.yaml`, read again on SIGHUP).
    public func useMissedLimits(_ limits: MissedLimits) {
        missedLimits = limits
    }

    /// Stores a `missed` alert (or, with no target for it, a record) for fires of `schedule` that
    /// will not run. Off the timer's path: the write goes on in a task of its own.
    func alertMissed(_ schedule: ScheduleRecord, fires missed: MissedFires, at now: Date) {
        let reason =
            missed.beyondWindow
            ? "the daemon was not firing from before the catch-up window (\(schedule.catchupWindowSeconds) s) until now"
            : "catch-up mode \(schedule.catchupMode.rawValue) runs \(schedule.catchupMode == .latest ? "only the latest missed fire" : "no missed fire")"
        storeMissed(
            schedule, key: "fires:\(missed.first)", runID: nil, at: now,
            detail: [
                "reason": reason, "first_missed": CronFire.iso8601UTC(unixSeconds: missed.first),
                "last_missed": CronFire.iso8601UTC(unixSeconds: missed.last),
                "missed_count": missed.count, "missed_count_is_lower_bound": missed.beyondWindow,
            ])
    }

    /// Counts a stored fire of `schedule`: skipped by its overlap policy, or not. The
    /// ``MissedLimits/skips``-th skip in a row alerts `missed`, once per streak. The count is this
    /// instance's own: with several daemons, each counts the fires it stores.
    func countSkips(_ run: RunRecord, of schedule: ScheduleRecord, at now: Date) {
        guard run.state == .skipped else {
            skipStreaks.removeValue(forKey: schedule.id)
            return
        }
        var streak = skipStreaks[schedule.id] ?? (0, run.id)
        streak.count += 1
        skipStreaks[schedule.id] = streak
        guard streak.count == missedLimits.skips else { return }
        storeMissed(
            schedule, key: "skips:\(streak.first)", runID: run.id, at: now,
            detail: [
                "reason":
                    "\(streak.count) fires in a row were skipped because a run of the schedule was still going (overlap: \(schedule.overlap.rawValue))",
                "error": run.error ?? "",
            ])
    }

    /// Alerts `missed` for the schedules of runs that have waited for a slot longer than
    /// ``MissedLimits/queued`` (once per schedule until one of those runs starts).
    /// Walks the queue from its oldest run only as far as the first that has not waited that long.
    /// - Returns: when the next waiting run will have waited too long, if one waits.
    func checkQueued(now: Date) -> Date? {
        guard !admission.waitingRuns.isEmpty else {
            // Runs cancelled while they waited never start: their marks go once nothing waits.
            stuckRuns = []
            stuckSchedules = []
            return nil
        }
        let limit = missedLimits.queued.timeInterval
        for run in admission.waitingRuns {
            let deadline = run.queuedAt.addingTimeInterval(limit)
            if deadline > now { return deadline }
            guard stuckRuns.insert(run.id).inserted, let id = run.scheduleID,
                stuckSchedules.insert(id).inserted, let schedule = entries[id]?.schedule
            else { continue }
            storeMissed(
                schedule, key: "queued:\(run.id)", runID: run.id, at: now,
                detail: [
                    "reason":
                        "a run has waited \(Int(now.timeIntervalSince(run.queuedAt))) s for a slot (the limit of runs at once is \(admission.limit))",
                    "queued_at": CronFire.iso8601UTC(unixSeconds: run.queuedAt.unixSeconds()),
                ])
        }
        return nil
    }

    /// Stores a `missed` event of `schedule` for each target told of it, or as a record when none is.
    private func storeMissed(
        _ schedule: ScheduleRecord, key: String, runID: String?, at now: Date, detail: [String: Any]
    ) {
        var run: RunRecord?
        if let runID {
            run = RunRecord(id: runID, scheduleID: schedule.id, workflow: schedule.workflow, trigger: "cron")
        }
        let payload = AlertPayload.json(
            .missed, schedule: schedule, run: run, state: nil, error: nil, at: now, links: configuration.alertLinks,
            detail: detail)
        var alerts = AlertPayload.alerts(
            .missed, rules: notifyRules(schedule), schedule: schedule, subject: "\(schedule.id):\(key)",
            runID: runID, payload: payload, at: now)
        if alerts.isEmpty {
            alerts = [
                AlertRecord(
                    scheduleID: schedule.id, scheduleName: schedule.name, event: .missed, runID: runID,
                    dedupeKey: "missed:\(schedule.id):\(key)", targetJSON: "{}", payloadJSON: payload, createdAt: now,
                    state: .recorded)
            ]
        }
        logger.warning(
            "a schedule missed fires",
            metadata: ["schedule_id": .string(schedule.id), "reason": .string("\(detail["reason"] ?? "")")])
        let store = self.store
        let logger = self.logger
        Task {
            do {
                _ = try await store.insertAlerts(alerts)
            } catch {
                logger.error("cannot store a missed alert", metadata: ["error": .string("\(error)")])
            }
        }
    }

    /// Stores an `overdue` alert for `run`, still going past its schedule's expected duration, for
    /// each target told of it.
    func alertOverdue(_ run: RunRecord, expected seconds: Int) async {
        guard let id = run.scheduleID, let schedule = entries[id]?.schedule else { return }
        let rules = notifyRules(schedule)
        guard rules.contains(where: { $0.on.contains(.overdue) }) else { return }
        let now = clock.now()
        var going = run
        going.state = .running
        let payload = AlertPayload.json(
            .overdue, schedule: schedule, run: going, state: .running, error: nil, at: now,
            links: configuration.alertLinks,
            detail: ["expected_duration_seconds": seconds, "reason": "still running past its expected duration"])
        logger.warning(
            "a run goes on past its expected duration",
            metadata: ["run_id": .string(run.id), "schedule_id": .string(id)])
        do {
            _ = try await store.insertAlerts(
                AlertPayload.alerts(
                    .overdue, rules: rules, schedule: schedule, subject: run.id, runID: run.id, payload: payload,
                    at: now))
        } catch {
            logger.error(
                "cannot store an overdue alert", metadata: ["run_id": .string(run.id), "error": .string("\(error)")])
        }
    }
}
