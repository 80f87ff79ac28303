import Cron
import Foundation
import Scheduling
import Storage
import Support
import Workflows

/// How schedules and runs look in the API's JSON.
enum Representation {
    static func iso(_ date: Date?) -> JSONValue {
        guard let date else { return .null }
        return .string(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    static func duration(_ seconds: Int?) -> JSONValue {
        seconds.map { .string(DurationText.format(.seconds($0))) } ?? .null
    }

    static func schedule(_ s: ScheduleRecord, nextFires: Int = 0, now: Date = Date()) -> [String: JSONValue] {
        var value: [String: JSONValue] = [
            "id": .string(s.id), "name": .string(s.name), "cron": s.cron.map { .string($0) } ?? .null,
            "time_zone": .string(s.timeZone), "webhook": .bool(s.webhook), "manual": .bool(s.cron == nil && !s.webhook),
            "workflow": .string(s.workflow),
            "input": (try? JSONValue(json: Data(s.inputJSON.utf8))) ?? .object([:]),
            "overlap": .string(s.overlap.rawValue), "catchup": duration(s.catchupWindowSeconds),
            "catchup_mode": .string(s.catchupMode.rawValue), "jitter": duration(s.jitterSeconds),
            "timeout": duration(s.timeoutSeconds), "paused": .bool(s.paused),
            "pause_note": s.pauseNote.map { .string($0) } ?? .null,
            "remaining_runs": s.remainingRuns.map { .integer(Int64($0)) } ?? .null,
            "day_match": .string(s.dayMatch ?? "vixie"), "dst_gap": .string(s.dstGap ?? "coalesce"),
            "dst_fold": .string(s.dstFold ?? "first"),
            "source": s.source.map { .string($0) } ?? .null, "created_at": iso(s.createdAt),
            "updated_at": iso(s.updatedAt),
        ]
        if s.webhook {
            value["webhook_path"] = .string("/hooks/\(s.name)")
            value["webhook_scheme"] = .string((s.webhookScheme ?? .github).rawValue)
            value["webhook_secret_env"] = s.webhookSecretEnv.map { .string($0) } ?? .null
            value["webhook_previous_secret_until"] =
                s.webhookPreviousSecret == nil ? .null : iso(s.webhookPreviousUntil)
        }
        if nextFires > 0 {
            value["next_fires"] = .array(fires(s, count: nextFires, now: now).map { .string($0.iso8601) })
        }
        return value
    }

    static func fires(_ s: ScheduleRecord, count: Int, now: Date) -> [CronFire] {
        guard !s.paused, let cron = s.cron,
            let expression = try? CronExpression(cron, options: s.cronOptions)
        else { return [] }
        return Array(expression.fires(after: now).prefix(count))
    }

    static func run(_ r: RunRecord, traceURL: ((String) -> String?)?, detail: Bool) -> [String: JSONValue] {
        var value: [String: JSONValue] = [
            "id": .string(r.id), "schedule_id": r.scheduleID.map { .string($0) } ?? .null,
            "workflow": .string(r.workflow), "trigger": .string(r.trigger), "fire_time": iso(r.nominalTime),
            "state": .string(r.state.rawValue), "queued_at": iso(r.queuedAt), "started_at": iso(r.startedAt),
            "finished_at": iso(r.finishedAt), "trace_id": r.traceID.map { .string($0) } ?? .null,
            "error": r.error.map { .string($0) } ?? .null,
        ]
        if let started = r.startedAt, let finished = r.finishedAt {
            value["duration_ms"] = .integer(Int64(saturating: (finished.timeIntervalSince(started) * 1000).rounded()))
        }
        if let trace = r.traceID, let url = traceURL?(trace) { value["trace_url"] = .string(url) }
        if detail {
            value["dedupe_key"] = r.dedupeKey.map { .string($0) } ?? .null
            value["input"] = (try? JSONValue(json: Data(r.inputJSON.utf8))) ?? .object([:])
            value["output"] = r.outputJSON.flatMap { try? JSONValue(json: Data($0.utf8)) } ?? .null
        }
        value["nodes"] = r.nodesJSON.flatMap { try? JSONValue(json: Data($0.utf8)) } ?? .array([])
        return value
    }
}
