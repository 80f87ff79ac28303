import Foundation

/// A schedule as a request writes it: the body of `POST /api/v1/schedules`, and each `schedule` of
/// `POST /api/v1/apply`. The fields are a schedule file's; every one is optional here, and the
/// daemon says which are missing or wrong. A field not listed here is refused, not ignored.
///
/// ```swift
/// let body = ScheduleFields(name: "nightly", cron: "0 2 * * *", workflow: "energy_analysis")
/// ```
public struct ScheduleFields: Sendable, Hashable {
    /// 1-64 lowercase letters, digits, `_` and `-`; without one, the workflow's name.
    public var name: String?
    /// A cron expression.
    public var cron: String?
    /// Also (or only) fire on `POST /hooks/NAME`.
    public var webhook: Bool?
    /// Neither cron nor webhook: run only when asked.
    public var manual: Bool?
    /// `github` (the default), `standard` or `token`.
    public var webhookScheme: String?
    /// A variable of the daemon's environment that holds the webhook secret.
    public var webhookSecretEnv: String?
    /// The workflow to run.
    public var workflow: String?
    /// An IANA zone for the cron expression (default UTC).
    public var timeZone: String?
    /// A JSON object merged over the workflow's initial state.
    public var input: OpaqueJSON?
    /// `skip` (the default), `allow`, `buffer-one` or `cancel-other`.
    public var overlap: String?
    /// How far back missed fires are caught up (`1h`, the default; `0` for none).
    public var catchup: String?
    /// `latest` (the default), `all` or `none`.
    public var catchupMode: String?
    /// Up to this much delay per fire (`30s`).
    public var jitter: String?
    /// The run's timeout (`20m`).
    public var timeout: String?
    /// Create or keep it paused.
    public var paused: Bool?
    /// Why it is paused.
    public var pauseNote: String?
    /// Pause it after this many runs.
    public var remainingRuns: Int?
    /// `or` or `and` for cron expressions with both day fields restricted.
    public var dayMatch: String?
    /// A wall time skipped by spring-forward: `coalesce` (the default), `shift` or `skip`.
    public var dstGap: String?
    /// A wall time repeated by fall-back: `first` (the default), `last` or `both`.
    public var dstFold: String?
    /// How runs that do not succeed are tried again; left out: the daemon's default.
    public var retry: RetryFields?
    /// Who is told of failures, recoveries, missed and overdue runs; left out: the daemon's default.
    public var notify: [NotifyFields]?
    /// How long a run should take at most (`20m`): past it, an `overdue` alert while it runs.
    public var expectedDuration: String?

    /// Every field as written in JSON: what a body may have.
    public static let fieldNames = Set(CodingKeys.allCases.map(\.rawValue))

    /// A schedule for a request.
    public init(
        name: String? = nil, cron: String? = nil, webhook: Bool? = nil, manual: Bool? = nil,
        webhookScheme: String? = nil, webhookSecretEnv: String? = nil, workflow: String? = nil,
        timeZone: String? = nil, input: OpaqueJSON? = nil, overlap: String? = nil, catchup: String? = nil,
        catchupMode: String? = nil, jitter: String? = nil, timeout: String? = nil, paused: Bool? = nil,
        pauseNote: String? = nil, remainingRuns: Int? = nil, dayMatch: String? = nil, dstGap: String? = nil,
        dstFold: String? = nil, retry: RetryFields? = nil, notify: [NotifyFields]? = nil,
        expectedDuration: String? = nil
    ) {
        self.retry = retry
        self.notify = notify
        self.expectedDuration = expectedDuration
        self.name = name
        self.cron = cron
        self.webhook = webhook
        self.manual = manual
        self.webhookScheme = webhookScheme
        self.webhookSecretEnv = webhookSecretEnv
        self.workflow = workflow
        self.timeZone = timeZone
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
    }
}

extension ScheduleFields: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, cron, webhook, manual, workflow, input, overlap, catchup, jitter, timeout, paused, retry, notify
        case expectedDuration = "expected_duration"
        case timeZone = "time_zone"
        case webhookScheme = "webhook_scheme"
        case webhookSecretEnv = "webhook_secret_env"
        case catchupMode = "catchup_mode"
        case pauseNote = "pause_note"
        case remainingRuns = "remaining_runs"
        case dayMatch = "day_match"
        case dstGap = "dst_gap"
        case dstFold = "dst_fold"
    }

    /// Reads a schedule, refusing any field not in ``fieldNames``.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(Self.fieldNames)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        cron = try c.decodeIfPresent(String.self, forKey: .cron)
        webhook = try c.decodeIfPresent(Bool.self, forKey: .webhook)
        manual = try c.decodeIfPresent(Bool.self, forKey: .manual)
        webhookScheme = try c.decodeIfPresent(String.self, forKey: .webhookScheme)
        webhookSecretEnv = try c.decodeIfPresent(String.self, forKey: .webhookSecretEnv)
        workflow = try c.decodeIfPresent(String.self, forKey: .workflow)
        timeZone = try c.decodeIfPresent(String.self, forKey: .timeZone)
        input = try c.decodeIfPresent(OpaqueJSON.self, forKey: .input)
        overlap = try c.decodeIfPresent(String.self, forKey: .overlap)
        catchup = try c.decodeIfPresent(String.self, forKey: .catchup)
        catchupMode = try c.decodeIfPresent(String.self, forKey: .catchupMode)
        jitter = try c.decodeIfPresent(String.self, forKey: .jitter)
        timeout = try c.decodeIfPresent(String.self, forKey: .timeout)
        paused = try c.decodeIfPresent(Bool.self, forKey: .paused)
        pauseNote = try c.decodeIfPresent(String.self, forKey: .pauseNote)
        remainingRuns = try c.decodeIfPresent(Int.self, forKey: .remainingRuns)
        dayMatch = try c.decodeIfPresent(String.self, forKey: .dayMatch)
        dstGap = try c.decodeIfPresent(String.self, forKey: .dstGap)
        dstFold = try c.decodeIfPresent(String.self, forKey: .dstFold)
        retry = try c.decodeIfPresent(RetryFields.self, forKey: .retry)
        notify = try c.decodeIfPresent([NotifyFields].self, forKey: .notify)
        expectedDuration = try c.decodeIfPresent(String.self, forKey: .expectedDuration)
    }
}
