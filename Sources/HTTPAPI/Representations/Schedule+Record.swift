import Cron
import Foundation
import SchedulerAPI
import Scheduling
import Storage
import Support
import Workflows

extension Schedule {
    /// A stored schedule as the API shows it.
    /// - Parameters:
    ///   - nextFires: how many next fires to give (computed from `now`); 0: none, and no `next_fires`.
    init(_ record: ScheduleRecord, nextFires: Int = 0, now: Date) {
        self.init(
            id: record.id, name: record.name, cron: record.cron, timeZone: record.timeZone, webhook: record.webhook,
            manual: record.cron == nil && !record.webhook, workflow: record.workflow,
            input: OpaqueJSON(stored: record.inputJSON), overlap: record.overlap.rawValue,
            catchup: Self.duration(record.catchupWindowSeconds), catchupMode: record.catchupMode.rawValue,
            jitter: Self.duration(record.jitterSeconds), timeout: record.timeoutSeconds.map(Self.duration),
            paused: record.paused, pauseNote: record.pauseNote, remainingRuns: record.remainingRuns,
            dayMatch: record.dayMatch ?? "vixie", dstGap: record.dstGap ?? "coalesce",
            dstFold: record.dstFold ?? "first", source: record.source, createdAt: record.createdAt,
            updatedAt: record.updatedAt,
            webhookTrigger: record.webhook
                ? WebhookTrigger(
                    path: "/hooks/\(record.name)", scheme: (record.webhookScheme ?? .github).rawValue,
                    secretEnv: record.webhookSecretEnv,
                    previousSecretUntil: record.webhookPreviousSecret == nil ? nil : record.webhookPreviousUntil)
                : nil,
            nextFires: nextFires > 0 ? Self.fires(record, count: nextFires, now: now).map(\.iso8601) : nil,
            retry: record.retry.map(RetryFields.init), notify: record.notify?.map(NotifyFields.init),
            expectedDuration: record.expectedDurationSeconds.map(Self.duration))
    }

    /// A duration in seconds as schedule files write it (`1h`, `30s`).
    static func duration(_ seconds: Int) -> String {
        DurationText.format(.seconds(seconds))
    }

    /// The next `count` fires after `now`; none for a paused schedule or one without cron.
    static func fires(_ record: ScheduleRecord, count: Int, now: Date) -> [CronFire] {
        guard !record.paused, let cron = record.cron,
            let expression = try? CronExpression(cron, options: record.cronOptions)
        else { return [] }
        return Array(expression.fires(after: now).prefix(count))
    }
}

extension RetryFields {
    /// A stored policy as the API shows it, every field given.
    init(_ policy: RetryPolicy) {
        self.init(
            attempts: policy.attempts, backoff: Schedule.duration(policy.backoffSeconds),
            maxBackoff: Schedule.duration(policy.maxBackoffSeconds),
            on: RetryPolicy.retriable.filter(policy.on.contains).map(\.rawValue))
    }
}

extension OpaqueJSON {
    /// JSON text the store kept (an input, an output) as a value; `{}` for text that does not read.
    init(stored json: String) {
        self = (try? JSONValue(json: Data(json.utf8))).map(OpaqueJSON.init) ?? .object([:])
    }
}
