import Foundation

/// A run as the API shows it: an element of `GET /api/v1/runs`, and with ``detail`` the answer of
/// `GET /api/v1/runs/{id}`.
///
/// Fields without a value are `null`; `duration_ms` is there once the run has started and finished,
/// `trace_url` when the daemon knows the MLflow UI.
///
/// ```swift
/// let run = try WireFormat.decode(Run.self, from: body)
/// if run.state == "failed" { print(run.error ?? "") }
/// ```
public struct Run: Sendable, Hashable {
    /// What only the answer about one run has.
    public struct Detail: Sendable, Hashable {
        /// What keeps the fire or delivery from being stored twice (`hook:<delivery id>`, …).
        public var dedupeKey: String?
        /// The run's initial state over the workflow's own.
        public var input: OpaqueJSON
        /// The final state; `nil` until the run ends (and for runs that ended without one).
        public var output: OpaqueJSON?
        /// Every attempt at the run's fire, this one included, first to last.
        public var attempts: [Attempt]

        /// A run's detail.
        public init(dedupeKey: String?, input: OpaqueJSON, output: OpaqueJSON?, attempts: [Attempt] = []) {
            self.dedupeKey = dedupeKey
            self.input = input
            self.output = output
            self.attempts = attempts
        }
    }

    /// One attempt at a fire, in a run's ``Detail/attempts``.
    public struct Attempt: Codable, Sendable, Hashable {
        /// The attempt's run.
        public var id: String
        /// 1 for the fire's first run.
        public var attempt: Int
        /// Where that run is.
        public var state: String

        /// An attempt.
        public init(id: String, attempt: Int, state: String) {
            self.id = id
            self.attempt = attempt
            self.state = state
        }
    }

    /// `run_…`.
    public var id: String
    /// The schedule it belongs to (`nil` once that schedule's row is gone).
    public var scheduleID: String?
    /// The workflow it runs.
    public var workflow: String
    /// `cron`, `catchup`, `webhook`, `manual` or `reboot`.
    public var trigger: String
    /// The fire's nominal time (cron and catch-up runs).
    public var fireTime: Date?
    /// `queued`, `running`, `succeeded`, `failed`, `timed_out`, `cancelled`, `interrupted` or `skipped`.
    public var state: String
    /// When it was stored.
    public var queuedAt: Date
    /// When it started; `nil` while queued (and for runs that never started).
    public var startedAt: Date?
    /// When it ended.
    public var finishedAt: Date?
    /// Its trace in MLflow, `tr-<32 hex>`; `nil` when tracing is off.
    public var traceID: String?
    /// Why it did not succeed, in one line.
    public var error: String?
    /// From start to end, in whole milliseconds; `nil` until both are known.
    public var durationMs: Int64?
    /// A link to its trace in the MLflow UI, when the daemon knows one.
    public var traceURL: String?
    /// Input, output and dedupe key: only in the answer about this one run.
    public var detail: Detail?
    /// Each node attempt so far, in the order they ended.
    public var nodes: [RunNode]
    /// The daemon instance that ran the run, or holds it while it waits (see `schedule instances`);
    /// the run's artifacts are in that instance's data directory. `nil` for a run that waits for any
    /// instance to take it.
    public var instance: String?
    /// Which attempt at its fire the run is: 1 for the fire's first run, more for its retries.
    public var attempt: Int
    /// The run this one retries (the attempt before); `nil` for a fire's first run.
    public var retryOf: String?

    /// The tokens a run's model calls used, summed over its `llm` node attempts (sub-workflows
    /// included).
    public struct Tokens: Codable, Sendable, Hashable {
        /// Prompt tokens.
        public var input: Int64
        /// Reply tokens.
        public var output: Int64
        /// Both.
        public var total: Int64 { input + output }

        /// Counts of a run's tokens.
        public init(input: Int64, output: Int64) {
            self.input = input
            self.output = output
        }

        enum CodingKeys: String, CodingKey { case input, output, total }

        /// Reads `{"input": …, "output": …}` (`total` is derived).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            input = try c.decode(Int64.self, forKey: .input)
            output = try c.decode(Int64.self, forKey: .output)
        }

        /// Writes `{"input": …, "output": …, "total": …}`.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(input, forKey: .input)
            try c.encode(output, forKey: .output)
            try c.encode(total, forKey: .total)
        }
    }

    /// The tokens its model calls used, from ``nodes``; `nil` when it made none.
    public var tokens: Tokens? {
        let metered = nodes.filter { $0.inputTokens != nil || $0.outputTokens != nil }
        guard !metered.isEmpty else { return nil }
        return Tokens(
            input: metered.reduce(0) { $0 + ($1.inputTokens ?? 0) },
            output: metered.reduce(0) { $0 + ($1.outputTokens ?? 0) })
    }

    /// A run as the API shows it.
    public init(
        id: String, scheduleID: String?, workflow: String, trigger: String, fireTime: Date?, state: String,
        queuedAt: Date, startedAt: Date?, finishedAt: Date?, traceID: String?, error: String?, durationMs: Int64?,
        traceURL: String?, detail: Detail?, nodes: [RunNode], instance: String? = nil, attempt: Int = 1,
        retryOf: String? = nil
    ) {
        self.attempt = attempt
        self.retryOf = retryOf
        self.id = id
        self.scheduleID = scheduleID
        self.workflow = workflow
        self.trigger = trigger
        self.fireTime = fireTime
        self.state = state
        self.queuedAt = queuedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.traceID = traceID
        self.error = error
        self.durationMs = durationMs
        self.traceURL = traceURL
        self.detail = detail
        self.nodes = nodes
        self.instance = instance
    }
}

extension Run: Codable {
    enum CodingKeys: String, CodingKey {
        case id, workflow, trigger, state, error, nodes, input, output, tokens, instance, attempt
        case retryOf = "retry_of"
        case attempts
        case scheduleID = "schedule_id"
        case fireTime = "fire_time"
        case queuedAt = "queued_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case traceID = "trace_id"
        case durationMs = "duration_ms"
        case traceURL = "trace_url"
        case dedupeKey = "dedupe_key"
    }

    /// Reads a run; ``detail`` when the object has `input`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        scheduleID = try c.decodeIfPresent(String.self, forKey: .scheduleID)
        workflow = try c.decode(String.self, forKey: .workflow)
        trigger = try c.decode(String.self, forKey: .trigger)
        fireTime = try c.decodeTimestampIfPresent(forKey: .fireTime)
        state = try c.decode(String.self, forKey: .state)
        queuedAt = try c.decodeTimestamp(forKey: .queuedAt)
        startedAt = try c.decodeTimestampIfPresent(forKey: .startedAt)
        finishedAt = try c.decodeTimestampIfPresent(forKey: .finishedAt)
        traceID = try c.decodeIfPresent(String.self, forKey: .traceID)
        error = try c.decodeIfPresent(String.self, forKey: .error)
        durationMs = try c.decodeIfPresent(Int64.self, forKey: .durationMs)
        traceURL = try c.decodeIfPresent(String.self, forKey: .traceURL)
        if let input = try c.decodeIfPresent(OpaqueJSON.self, forKey: .input) {
            detail = Detail(
                dedupeKey: try c.decodeIfPresent(String.self, forKey: .dedupeKey), input: input,
                output: try c.decodeIfPresent(OpaqueJSON.self, forKey: .output),
                attempts: try c.decodeIfPresent([Attempt].self, forKey: .attempts) ?? [])
        }
        nodes = try c.decodeIfPresent([RunNode].self, forKey: .nodes) ?? []
        instance = try c.decodeIfPresent(String.self, forKey: .instance)
        attempt = try c.decodeIfPresent(Int.self, forKey: .attempt) ?? 1
        retryOf = try c.decodeIfPresent(String.self, forKey: .retryOf)
    }

    /// Writes a run: every field, `null` where there is no value.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encodeNullable(scheduleID, forKey: .scheduleID)
        try c.encode(workflow, forKey: .workflow)
        try c.encode(trigger, forKey: .trigger)
        try c.encodeTimestamp(fireTime, forKey: .fireTime)
        try c.encode(state, forKey: .state)
        try c.encodeTimestamp(queuedAt, forKey: .queuedAt)
        try c.encodeTimestamp(startedAt, forKey: .startedAt)
        try c.encodeTimestamp(finishedAt, forKey: .finishedAt)
        try c.encodeNullable(traceID, forKey: .traceID)
        try c.encodeNullable(error, forKey: .error)
        try c.encodeIfPresent(durationMs, forKey: .durationMs)
        try c.encodeIfPresent(traceURL, forKey: .traceURL)
        try c.encodeNullable(tokens, forKey: .tokens)
        if let detail {
            try c.encodeNullable(detail.dedupeKey, forKey: .dedupeKey)
            try c.encode(detail.input, forKey: .input)
            try c.encodeNullable(detail.output, forKey: .output)
            try c.encode(detail.attempts, forKey: .attempts)
        }
        try c.encode(nodes, forKey: .nodes)
        try c.encodeNullable(instance, forKey: .instance)
        try c.encode(attempt, forKey: .attempt)
        try c.encodeNullable(retryOf, forKey: .retryOf)
    }
}
