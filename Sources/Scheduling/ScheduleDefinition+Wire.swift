import SchedulerAPI
import Storage
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
            }, notify: fields.notify?.map(NotifyDefinition.init), expectedDuration: fields.expectedDuration)
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
            }, notify: definition.notify?.map(NotifyFields.init), expectedDuration: definition.expectedDuration)
    }
}

extension NotifyDefinition {
    /// The entry a request's fields give.
    public init(_ fields: NotifyFields) {
        self.init(on: fields.on)
        if let webhook = fields.webhook {
            targets.append("webhook")
            url = webhook.url
            secretEnv = webhook.secretEnv
        }
        if let slack = fields.slack {
            targets.append("slack")
            url = url ?? slack.url
            urlEnv = slack.urlEnv
        }
        if let email = fields.email {
            targets.append("email")
            smtpEnv = email.smtpEnv
            to = email.to
            from = email.from
        }
    }
}

extension NotifyFields {
    /// The fields a request sends for `definition`'s first target.
    public init(_ definition: NotifyDefinition) {
        self.init(on: definition.on)
        switch definition.targets.first {
        case "webhook": webhook = Webhook(url: definition.url, secretEnv: definition.secretEnv)
        case "slack": slack = Slack(url: definition.url, urlEnv: definition.urlEnv)
        case "email": email = Email(smtpEnv: definition.smtpEnv, to: definition.to, from: definition.from)
        default: break
        }
    }

    /// A stored rule as the API shows it.
    public init(_ rule: NotifyRule) {
        self.init(on: AlertEvent.allCases.filter(rule.on.contains).map(\.rawValue))
        switch rule.target {
        case .webhook(let url, let secretEnv): webhook = Webhook(url: url, secretEnv: secretEnv)
        case .slack(let url, let urlEnv): slack = Slack(url: url, urlEnv: urlEnv)
        case .email(let smtpEnv, let to, let from): email = Email(smtpEnv: smtpEnv, to: to, from: from)
        }
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
