import SchedulerAPI
import Workflows

/// How a definition travels in the admin API: the `schedule` CLI sends ``ScheduleFields``, the daemon
/// reads them back into a ``ScheduleDefinition`` to check and store.
extension ScheduleDefinition {
    /// The definition a request's fields give.
    public init(_ fields: ScheduleFields) {
        self.init(
            name: fields.name, cron: fields.cron, webhook: fields.webhook, workflow: fields.workflow,
            timeZone: fields.timeZone, input: fields.input.map(JSONValue.init), overlap: fields.overlap,
            catchup: fields.catchup, catchupMode: fields.catchupMode, jitter: fields.jitter, timeout: fields.timeout,
            paused: fields.paused, pauseNote: fields.pauseNote, remainingRuns: fields.remainingRuns,
            webhookScheme: fields.webhookScheme, webhookSecretEnv: fields.webhookSecretEnv, manual: fields.manual,
            dayMatch: fields.dayMatch, dstGap: fields.dstGap, dstFold: fields.dstFold,
            retry: fields.retry.map {
                RetryDefinition(attempts: $0.attempts, backoff: $0.backoff, maxBackoff: $0.maxBackoff, on: $0.on)
            })
    }
}

extension ScheduleFields {
    /// The fields a request sends for `definition` (those it does not set are left out).
    public init(_ definition: ScheduleDefinition) {
        self.init(
            name: definition.name, cron: definition.cron, webhook: definition.webhook, manual: definition.manual,
            webhookScheme: definition.webhookScheme, webhookSecretEnv: definition.webhookSecretEnv,
            workflow: definition.workflow, timeZone: definition.timeZone, input: definition.input.map(OpaqueJSON.init),
            overlap: definition.overlap, catchup: definition.catchup, catchupMode: definition.catchupMode,
            jitter: definition.jitter, timeout: definition.timeout, paused: definition.paused,
            pauseNote: definition.pauseNote, remainingRuns: definition.remainingRuns, dayMatch: definition.dayMatch,
            dstGap: definition.dstGap, dstFold: definition.dstFold,
            retry: definition.retry.map {
                RetryFields(attempts: $0.attempts, backoff: $0.backoff, maxBackoff: $0.maxBackoff, on: $0.on)
            })
    }
}

extension OpaqueJSON {
    /// The same value, for the API.
    public init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .integer(let n): self = .integer(n)
        case .number(let x): self = .number(x)
        case .string(let text): self = .string(text)
        case .array(let elements): self = .array(elements.map(OpaqueJSON.init))
        case .object(let members): self = .object(members.mapValues(OpaqueJSON.init))
        }
    }
}

extension JSONValue {
    /// The same value, from the API.
    public init(_ value: OpaqueJSON) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .bool(flag)
        case .integer(let n): self = .integer(n)
        case .number(let x): self = .number(x)
        case .string(let text): self = .string(text)
        case .array(let elements): self = .array(elements.map(JSONValue.init))
        case .object(let members): self = .object(members.mapValues(JSONValue.init))
        }
    }
}
