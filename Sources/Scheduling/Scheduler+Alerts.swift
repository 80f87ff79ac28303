import Foundation
import Logging
import Storage

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
