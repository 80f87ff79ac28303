import Cron
import Foundation
import Storage
import Support

/// Where an alert's links point: the daemon's page of a run, and a trace's page in the MLflow UI.
/// Either gives `nil` when it has no link to give (no public address set, no MLflow).
public struct AlertLinks: Sendable {
    /// The link to a run, by its id.
    public var run: @Sendable (String) -> String?
    /// The link to a trace, by its id (`tr-…`).
    public var trace: @Sendable (String) -> String?

    /// Links made by these two functions.
    public init(
        run: @escaping @Sendable (String) -> String?, trace: @escaping @Sendable (String) -> String?
    ) {
        self.run = run
        self.trace = trace
    }

    /// No links.
    public static let none = AlertLinks(run: { _ in nil }, trace: { _ in nil })
}

/// The JSON body of an alert, whatever its target: the webhook target posts it as it is, Slack and
/// mail targets make their text from it.
///
/// ```json
/// {"type": "run.failure", "event": "failure", "schedule": "nightly", "schedule_id": "sch_…",
///  "run_id": "run_…", "fire_time": "2026-12-05T02:00:00Z", "attempt": 3, "state": "failed",
///  "error": "…", "duration_ms": 5120, "run_url": "…", "trace_id": "tr-…", "trace_url": "…",
///  "at": "2026-12-05T02:01:12Z"}
/// ```
enum AlertPayload {
    /// The payload for `event` about `run` of `schedule`, which ended `state` with `error` at `at`.
    static func json(
        _ event: AlertEvent, schedule: ScheduleRecord, run: RunRecord?, state: RunState?, error: String?, at: Date,
        links: AlertLinks, detail: [String: Any] = [:]
    ) -> String {
        var object: [String: Any] = [
            "type": "run.\(event.rawValue)", "event": event.rawValue, "schedule": schedule.name,
            "schedule_id": schedule.id, "at": CronFire.iso8601UTC(unixSeconds: at.unixSeconds()),
        ]
        if let run {
            object["run_id"] = run.id
            object["attempt"] = run.fireAttempt
            object["trigger"] = run.trigger
            if let fire = run.nominalTime { object["fire_time"] = CronFire.iso8601UTC(unixSeconds: fire.unixSeconds()) }
            if let started = run.startedAt {
                object["duration_ms"] = Int64(saturating: (at.timeIntervalSince(started) * 1000).rounded())
            }
            if let url = links.run(run.id) { object["run_url"] = url }
            if let trace = run.traceID {
                object["trace_id"] = trace
                if let url = links.trace(trace) { object["trace_url"] = url }
            }
        }
        if let state { object["state"] = state.rawValue }
        if let error { object["error"] = String(error.prefix(2000)) }
        object.merge(detail) { _, new in new }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// One alert per rule of `rules` that asks for `event`, each with the same payload, keyed so that
    /// the same event about the same subject is stored once per target.
    static func alerts(
        _ event: AlertEvent, rules: [NotifyRule], schedule: ScheduleRecord, subject: String, runID: String?,
        payload: String, at: Date
    ) -> [AlertRecord] {
        rules.enumerated().filter { $0.element.on.contains(event) }.map { index, rule in
            AlertRecord(
                scheduleID: schedule.id, scheduleName: schedule.name, event: event, runID: runID,
                dedupeKey: "\(event.rawValue):\(subject):\(index)", targetJSON: rule.target.json, payloadJSON: payload,
                createdAt: at)
        }
    }
}
