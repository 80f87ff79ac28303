import Foundation

/// A stored schedule as the API shows it: the answer of `POST …/pause`, and the base of every other
/// schedule answer.
///
/// Fields without a value are `null`, never left out; `webhook_path`, `webhook_scheme`,
/// `webhook_secret_env` and `webhook_previous_secret_until` are there only for a schedule with a
/// webhook trigger, and `next_fires` only where the route says it gives them.
///
/// ```swift
/// let paused = try WireFormat.decode(Schedule.self, from: body)
/// print(paused.name, paused.pauseNote ?? "-")
/// ```
public struct Schedule: Sendable, Hashable {
    /// The webhook trigger of a schedule with `webhook: true`.
    public struct WebhookTrigger: Sendable, Hashable {
        /// Where senders post: `/hooks/NAME`.
        public var path: String
        /// `github`, `standard` or `token`.
        public var scheme: String
        /// The daemon's environment variable that holds the secret, when a schedule file named one.
        public var secretEnv: String?
        /// Until when the secret before the last rotation is still accepted; `nil` when it is not.
        public var previousSecretUntil: Date?

        /// A webhook trigger.
        public init(path: String, scheme: String, secretEnv: String?, previousSecretUntil: Date?) {
            self.path = path
            self.scheme = scheme
            self.secretEnv = secretEnv
            self.previousSecretUntil = previousSecretUntil
        }
    }

    /// `sch_…`.
    public var id: String
    /// Unique; what people type (`schedule run nightly`) and the webhook's path.
    public var name: String
    /// The cron expression; `nil` for a schedule without one.
    public var cron: String?
    /// The IANA zone the cron expression is read in.
    public var timeZone: String
    /// Whether `POST /hooks/NAME` starts it.
    public var webhook: Bool
    /// Neither cron nor webhook: it runs only when asked.
    public var manual: Bool
    /// The workflow each run runs.
    public var workflow: String
    /// The object merged over the workflow's initial state.
    public var input: OpaqueJSON
    /// `skip`, `allow`, `buffer-one` or `cancel-other`.
    public var overlap: String
    /// How far back missed fires are caught up, as a duration (`1h`).
    public var catchup: String
    /// `latest`, `all` or `none`.
    public var catchupMode: String
    /// Up to this much delay per fire (`0s`).
    public var jitter: String
    /// The run's timeout; `nil`: the workflow's own.
    public var timeout: String?
    /// Whether it is paused: it neither fires nor takes webhook deliveries.
    public var paused: Bool
    /// Why it was paused, when someone said.
    public var pauseNote: String?
    /// Runs left before it pauses itself; `nil`: no limit.
    public var remainingRuns: Int?
    /// `vixie`, `or` or `and`.
    public var dayMatch: String
    /// `coalesce`, `shift` or `skip`.
    public var dstGap: String
    /// `first`, `last` or `both`.
    public var dstFold: String
    /// Its own retry policy, every field given; `nil`: the daemon's default applies.
    public var retry: RetryFields?
    /// Its own alert targets; `nil`: the daemon's default applies (empty: no one is told).
    public var notify: [NotifyFields]?
    /// How long a run should take at most; `nil`: no overdue alert.
    public var expectedDuration: String?
    /// The schedule file it was applied from; `nil` for one added through the API.
    public var source: String?
    /// When it was added.
    public var createdAt: Date
    /// When it last changed (added, applied, paused, resumed, its secret rotated).
    public var updatedAt: Date
    /// The webhook trigger, for a schedule with `webhook: true`.
    public var webhookTrigger: WebhookTrigger?
    /// The next fires in the schedule's zone, with their offset (`2024-03-10T03:00:00+01:00`);
    /// `nil` where the route gives none, empty for a paused schedule or one without cron.
    public var nextFires: [String]?

    /// A schedule as the API shows it.
    public init(
        id: String, name: String, cron: String?, timeZone: String, webhook: Bool, manual: Bool, workflow: String,
        input: OpaqueJSON, overlap: String, catchup: String, catchupMode: String, jitter: String, timeout: String?,
        paused: Bool, pauseNote: String?, remainingRuns: Int?, dayMatch: String, dstGap: String, dstFold: String,
        source: String?, createdAt: Date, updatedAt: Date, webhookTrigger: WebhookTrigger?, nextFires: [String]?,
        retry: RetryFields? = nil, notify: [NotifyFields]? = nil, expectedDuration: String? = nil
    ) {
        self.retry = retry
        self.notify = notify
        self.expectedDuration = expectedDuration
        self.id = id
        self.name = name
        self.cron = cron
        self.timeZone = timeZone
        self.webhook = webhook
        self.manual = manual
        self.workflow = workflow
        self.input = input
        self.overlap = overlap
        self.catchup = catchup
        self.catchupMode = catchupMode
        self.jitter = jitter
        self.timeout = timeout
        self.paused = paused
        self.pauseNote = pauseNote
        self.remainingRuns = remainingRuns
        self.dayMatch = dayMatch
        self.dstGap = dstGap
        self.dstFold = dstFold
        self.source = source
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.webhookTrigger = webhookTrigger
        self.nextFires = nextFires
    }
}

extension Schedule: Codable {
    enum CodingKeys: String, CodingKey {
        case id, name, cron, webhook, manual, workflow, input, overlap, catchup, jitter, timeout, paused, source
        case retry, notify
        case expectedDuration = "expected_duration"
        case timeZone = "time_zone"
        case catchupMode = "catchup_mode"
        case pauseNote = "pause_note"
        case remainingRuns = "remaining_runs"
        case dayMatch = "day_match"
        case dstGap = "dst_gap"
        case dstFold = "dst_fold"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case webhookPath = "webhook_path"
        case webhookScheme = "webhook_scheme"
        case webhookSecretEnv = "webhook_secret_env"
        case webhookPreviousSecretUntil = "webhook_previous_secret_until"
        case nextFires = "next_fires"
    }

    /// Reads a schedule; fields it does not know are ignored (a newer daemon may add some).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        name = try c.decode(String.self, forKey: .name)
        cron = try c.decodeIfPresent(String.self, forKey: .cron)
        timeZone = try c.decode(String.self, forKey: .timeZone)
        webhook = try c.decode(Bool.self, forKey: .webhook)
        manual = try c.decode(Bool.self, forKey: .manual)
        workflow = try c.decode(String.self, forKey: .workflow)
        input = try c.decodeIfPresent(OpaqueJSON.self, forKey: .input) ?? .object([:])
        overlap = try c.decode(String.self, forKey: .overlap)
        catchup = try c.decode(String.self, forKey: .catchup)
        catchupMode = try c.decode(String.self, forKey: .catchupMode)
        jitter = try c.decode(String.self, forKey: .jitter)
        timeout = try c.decodeIfPresent(String.self, forKey: .timeout)
        paused = try c.decode(Bool.self, forKey: .paused)
        pauseNote = try c.decodeIfPresent(String.self, forKey: .pauseNote)
        remainingRuns = try c.decodeIfPresent(Int.self, forKey: .remainingRuns)
        dayMatch = try c.decode(String.self, forKey: .dayMatch)
        dstGap = try c.decode(String.self, forKey: .dstGap)
        dstFold = try c.decode(String.self, forKey: .dstFold)
        source = try c.decodeIfPresent(String.self, forKey: .source)
        retry = try c.decodeIfPresent(RetryFields.self, forKey: .retry)
        notify = try c.decodeIfPresent([NotifyFields].self, forKey: .notify)
        expectedDuration = try c.decodeIfPresent(String.self, forKey: .expectedDuration)
        createdAt = try c.decodeTimestamp(forKey: .createdAt)
        updatedAt = try c.decodeTimestamp(forKey: .updatedAt)
        if let path = try c.decodeIfPresent(String.self, forKey: .webhookPath) {
            webhookTrigger = WebhookTrigger(
                path: path, scheme: try c.decode(String.self, forKey: .webhookScheme),
                secretEnv: try c.decodeIfPresent(String.self, forKey: .webhookSecretEnv),
                previousSecretUntil: try c.decodeTimestampIfPresent(forKey: .webhookPreviousSecretUntil))
        }
        nextFires = try c.decodeIfPresent([String].self, forKey: .nextFires)
    }

    /// Writes a schedule: every field, `null` where there is no value.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encodeNullable(cron, forKey: .cron)
        try c.encode(timeZone, forKey: .timeZone)
        try c.encode(webhook, forKey: .webhook)
        try c.encode(manual, forKey: .manual)
        try c.encode(workflow, forKey: .workflow)
        try c.encode(input, forKey: .input)
        try c.encode(overlap, forKey: .overlap)
        try c.encode(catchup, forKey: .catchup)
        try c.encode(catchupMode, forKey: .catchupMode)
        try c.encode(jitter, forKey: .jitter)
        try c.encodeNullable(timeout, forKey: .timeout)
        try c.encode(paused, forKey: .paused)
        try c.encodeNullable(pauseNote, forKey: .pauseNote)
        try c.encodeNullable(remainingRuns, forKey: .remainingRuns)
        try c.encode(dayMatch, forKey: .dayMatch)
        try c.encode(dstGap, forKey: .dstGap)
        try c.encode(dstFold, forKey: .dstFold)
        try c.encodeNullable(retry, forKey: .retry)
        try c.encodeNullable(notify, forKey: .notify)
        try c.encodeNullable(expectedDuration, forKey: .expectedDuration)
        try c.encodeNullable(source, forKey: .source)
        try c.encodeTimestamp(createdAt, forKey: .createdAt)
        try c.encodeTimestamp(updatedAt, forKey: .updatedAt)
        if let trigger = webhookTrigger {
            try c.encode(trigger.path, forKey: .webhookPath)
            try c.encode(trigger.scheme, forKey: .webhookScheme)
            try c.encodeNullable(trigger.secretEnv, forKey: .webhookSecretEnv)
            try c.encodeTimestamp(trigger.previousSecretUntil, forKey: .webhookPreviousSecretUntil)
        }
        try c.encodeIfPresent(nextFires, forKey: .nextFires)
    }
}
