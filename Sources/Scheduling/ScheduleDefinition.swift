import Cron
import Foundation
import Storage
import Support
import Workflows

/// A schedule as people write it (the API's JSON body, a `schedules/*.yaml` file, `schedule add`
/// flags), before it is checked and stored. The API carries it as `SchedulerAPI.ScheduleFields`
/// (`ScheduleDefinition+Wire.swift`).
public struct ScheduleDefinition: Sendable, Hashable {
    /// 1-64 lowercase letters, digits, `_` and `-` (``namePattern``); a file's default is its name.
    public var name: String?
    /// A cron expression (`docs/cron.md`).
    public var cron: String?
    /// Also (or only) fire on `POST /hooks/NAME`.
    public var webhook: Bool?
    /// Neither cron nor webhook: the schedule runs only when asked (`schedule run`).
    public var manual: Bool?
    /// `github` (the default), `standard` or `token`.
    public var webhookScheme: String?
    /// An environment variable of the daemon that holds the webhook secret (instead of a generated one).
    public var webhookSecretEnv: String?
    /// The workflow each run runs.
    public var workflow: String?
    /// The IANA zone the cron expression is read in (default UTC).
    public var timeZone: String?
    /// A JSON object merged over the workflow's initial state.
    public var input: JSONValue?
    /// `skip`, `allow`, `buffer-one`, `cancel-other`.
    public var overlap: String?
    /// How far back missed fires are caught up: a duration (`1h`; `0` for none).
    public var catchup: String?
    /// `latest`, `all`, `none`.
    public var catchupMode: String?
    /// Up to this much delay per fire (`30s`).
    public var jitter: String?
    /// The run's timeout (`20m`).
    public var timeout: String?
    /// Whether to store it paused; `nil` keeps a stored schedule's pause as it is.
    public var paused: Bool?
    /// Why it is paused.
    public var pauseNote: String?
    /// Pause it after this many runs; `nil`: no limit.
    public var remainingRuns: Int?
    /// How the two day fields combine when both are restricted: `vixie` (the default: either matches,
    /// unless one begins with `*`, then both must), `or` or `and` (``CronExpression/DayMatch``).
    public var dayMatch: String?
    /// A wall time skipped by spring-forward: `coalesce` (default), `shift`, `skip`.
    public var dstGap: String?
    /// A wall time repeated by fall-back: `first` (default), `last`, `both`.
    public var dstFold: String?
    /// How runs that do not succeed are tried again; `nil`: the daemon's default (`policies.yaml`).
    public var retry: RetryDefinition?
    /// Who is told of failures, recoveries, missed and overdue runs; `nil`: the daemon's default.
    public var notify: [NotifyDefinition]?
    /// How long a run should take at most (`20m`): past it, an `overdue` alert while it runs.
    public var expectedDuration: String?

    /// A definition; every field left out takes its default when it is checked.
    public init(
        name: String? = nil, cron: String? = nil, webhook: Bool? = nil, workflow: String? = nil,
        timeZone: String? = nil, input: JSONValue? = nil, overlap: String? = nil, catchup: String? = nil,
        catchupMode: String? = nil, jitter: String? = nil, timeout: String? = nil, paused: Bool? = nil,
        pauseNote: String? = nil, remainingRuns: Int? = nil, webhookScheme: String? = nil,
        webhookSecretEnv: String? = nil, manual: Bool? = nil, dayMatch: String? = nil, dstGap: String? = nil,
        dstFold: String? = nil, retry: RetryDefinition? = nil, notify: [NotifyDefinition]? = nil,
        expectedDuration: String? = nil
    ) {
        self.retry = retry
        self.notify = notify
        self.expectedDuration = expectedDuration
        self.manual = manual
        self.dayMatch = dayMatch
        self.dstGap = dstGap
        self.dstFold = dstFold
        self.name = name
        self.cron = cron
        self.webhook = webhook
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
    }

    /// A problem with one field of a definition.
    public typealias Problem = SchedulingError.Problem

    /// The names schedules may have: they appear in URLs (`/hooks/{name}`) and on command lines.
    public static let namePattern = #"^[a-z0-9][a-z0-9_-]{0,63}$"#

    /// Whether `name` is a schedule name (``namePattern``), checked byte by byte: every start checks
    /// the name of every schedule file, twice, and a regular expression made that a tenth of the
    /// start with ten thousand of them.
    public static func isValidName(_ name: String) -> Bool {
        func letterOrDigit(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        let bytes = name.utf8
        guard let first = bytes.first, bytes.count <= 64, letterOrDigit(first) else { return false }
        return bytes.dropFirst().allSatisfy { letterOrDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// A checked definition: the record to store and, when a webhook secret was made for it, that
    /// secret as the sender needs it (shown once; for `token` only its hash is stored).
    public struct Validated: Sendable {
        /// The schedule to store.
        public var record: ScheduleRecord
        /// The webhook secret made for it, as the sender needs it; `nil` when none was made.
        public var secret: String?
    }

    /// Environment variable names: what `webhook_secret_env` may be.
    static let environmentNamePattern = #"^[A-Za-z_][A-Za-z0-9_]{0,127}$"#

    /// The longest text each field takes, in characters: long enough for any real value, short
    /// enough that nobody stores 100 KB in a cron expression.
    public static let textLimits: [String: Int] = [
        "name": 64, "cron": 1024, "time_zone": 64, "workflow": 128, "webhook_scheme": 32,
        "webhook_secret_env": 128, "overlap": 32, "catchup": 64, "catchup_mode": 32, "jitter": 64, "timeout": 64,
        "pause_note": 1024, "day_match": 32, "dst_gap": 32, "dst_fold": 32, "expected_duration": 64,
    ]

    /// The most `notify` entries a schedule may have.
    public static let mostNotifyEntries = 20

    /// The largest `input`, in bytes of JSON: 64 KiB.
    public static let inputLimit = 64 << 10

    /// Checks every field and builds the record to store.
    /// - Parameters:
    ///   - workflows: the names of the workflows the daemon has loaded.
    ///   - existing: the stored schedule this definition replaces (keeps its id, cursor and secret).
    ///   - environment: the daemon's environment, to check that `webhook_secret_env` is set; `nil`
    ///     skips that check (files validated away from the daemon).
    /// - Returns: the record, or every problem found.
    public func validate(
        workflows: Set<String>, existing: ScheduleRecord? = nil, now: Date = Date(),
        environment: [String: String]? = nil
    ) -> Result<Validated, SchedulingError> {
        var problems: [Problem] = []
        func problem(_ field: String, _ message: String) { problems.append(Problem(field: field, message: message)) }

        // Text over its limit is refused before anything else reads it (or quotes it back).
        let texts: [(String, String?)] = [
            ("name", name), ("cron", cron), ("time_zone", timeZone), ("workflow", workflow),
            ("webhook_scheme", webhookScheme), ("webhook_secret_env", webhookSecretEnv), ("overlap", overlap),
            ("catchup", catchup), ("catchup_mode", catchupMode), ("jitter", jitter), ("timeout", timeout),
            ("pause_note", pauseNote), ("day_match", dayMatch), ("dst_gap", dstGap), ("dst_fold", dstFold),
            ("expected_duration", expectedDuration),
        ]
        for (field, text) in texts {
            guard let text, let limit = Self.textLimits[field], text.count > limit else { continue }
            problem(field, "is \(text.count) characters long; at most \(limit) are allowed")
        }
        if let input, input.jsonText.utf8.count > Self.inputLimit {
            problem("input", "is \(input.jsonText.utf8.count) bytes as JSON; at most \(Self.inputLimit) are allowed")
        }
        guard problems.isEmpty else { return .failure(.invalid(problems: problems, separator: "; ")) }

        let name = name ?? ""
        if !Self.isValidName(name) {
            problem(
                "name",
                name.isEmpty
                    ? "is missing; give the schedule a name like nightly_energy"
                    : "\"\(name)\" must be 1-64 lowercase letters, digits, _ and -, starting with a letter or digit")
        }
        let zone = timeZone ?? "UTC"
        let isWebhook = webhook ?? false
        if manual == true && (cron != nil || isWebhook) {
            problem(
                "manual",
                "cannot be combined with \(cron != nil ? "cron" : "webhook: true"); a manual schedule runs only with `schedule run`"
            )
        }
        func choice<T: RawRepresentable & CaseIterable>(_ field: String, _ text: String?, _: T.Type) -> T?
        where T.RawValue == String {
            guard let text else { return nil }
            if cron == nil { problem(field, "needs a cron expression") }
            guard let value = T(rawValue: text) else {
                problem(field, "\"\(text)\" is not allowed; use \(T.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            return value
        }
        let match = choice("day_match", dayMatch, CronExpression.DayMatch.self)
        let gap = choice("dst_gap", dstGap, CronExpression.GapPolicy.self)
        let fold = choice("dst_fold", dstFold, CronExpression.FoldPolicy.self)
        if let cron {
            func read(in zone: String) throws(CronError) {
                _ = try CronExpression(
                    cron,
                    options: .init(
                        timeZone: zone, seed: existing?.id, dayMatch: match ?? .vixie, dstGap: gap ?? .coalesce,
                        dstFold: fold ?? .first))
            }
            do {
                try read(in: zone)
            } catch {
                problem(error.code == .unknownTimeZone ? "time_zone" : "cron", error.description)
                // An unknown zone hides no problem of the expression itself: read it in UTC too.
                if error.code == .unknownTimeZone && timeZone != nil {
                    do {
                        try read(in: "UTC")
                    } catch  where error.code != .unknownTimeZone {
                        problem("cron", error.description)
                    } catch {}
                }
            }
        } else {
            if !isWebhook && manual != true {
                problem("cron", "is missing; give a cron expression, webhook: true, or both (or manual: true)")
            }
            if timeZone != nil {
                do {
                    _ = try CronExpression("0 0 * * *", options: .init(timeZone: zone))
                } catch {
                    problem("time_zone", error.description)
                }
            }
        }
        var scheme: WebhookScheme?
        if isWebhook {
            scheme = WebhookScheme(rawValue: webhookScheme ?? "github")
            if scheme == nil {
                problem(
                    "webhook_scheme",
                    "\"\(webhookScheme ?? "")\" is not allowed; use \(WebhookScheme.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            if let variable = webhookSecretEnv {
                if variable.range(of: Self.environmentNamePattern, options: .regularExpression) == nil {
                    problem(
                        "webhook_secret_env", "\"\(variable)\" is not an environment variable name (letters, digits, _)"
                    )
                } else if let environment, (environment[variable] ?? "").isEmpty {
                    problem(
                        "webhook_secret_env",
                        "\(variable) is not set in the daemon's environment; set it before starting schedulerd")
                }
            }
        } else {
            if webhookScheme != nil { problem("webhook_scheme", "needs webhook: true") }
            if webhookSecretEnv != nil { problem("webhook_secret_env", "needs webhook: true") }
        }
        let workflow = workflow ?? ""
        if workflow.isEmpty {
            problem("workflow", "is missing; name the workflow to run")
        } else if !workflows.contains(workflow) {
            problem(
                "workflow",
                "\"\(workflow)\" is not loaded; known: \(workflows.isEmpty ? "(none)" : workflows.sorted().joined(separator: ", "))"
            )
        }
        var inputJSON = "{}"
        if let input {
            if input.objectValue != nil {
                inputJSON = input.jsonText
            } else {
                problem("input", "must be a JSON object (key: value pairs), not \(input.typeName)")
            }
        }
        let overlapPolicy = OverlapPolicy(rawValue: overlap ?? "skip")
        if overlapPolicy == nil {
            problem(
                "overlap",
                "\"\(overlap ?? "")\" is not allowed; use \(OverlapPolicy.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        let mode = CatchupMode(rawValue: catchupMode ?? "latest")
        if mode == nil {
            problem(
                "catchup_mode",
                "\"\(catchupMode ?? "")\" is not allowed; use \(CatchupMode.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        func seconds(_ field: String, _ text: String?, default value: Int?, allowZero: Bool, max: Int) -> Int? {
            guard let text else { return value }
            guard let duration = DurationText.parse(text) else {
                problem(
                    field,
                    "\"\(text)\" is not a duration from \(allowZero ? "0s" : "1s") to \(DurationText.format(.seconds(max))); use 30s, 5m, 1h30m (no sign)"
                )
                return value
            }
            let whole = DurationText.wholeSeconds(duration)
            if !allowZero && whole <= 0 {
                problem(field, "\"\(text)\" must be at least 1s")
            } else if whole > max {
                problem(
                    field,
                    "\"\(text)\" is longer than the limit; allowed: \(allowZero ? "0s" : "1s") to \(DurationText.format(.seconds(max)))"
                )
            }
            return whole
        }
        let window = seconds("catchup", catchup, default: 3600, allowZero: true, max: 30 * 86_400) ?? 3600
        let jitterSeconds = seconds("jitter", jitter, default: 0, allowZero: true, max: 86_400) ?? 0
        let timeoutSeconds = seconds("timeout", timeout, default: nil, allowZero: false, max: 7 * 86_400)
        let retryPolicy = retry.flatMap { $0.validate(problem) }
        var rules: [NotifyRule]?
        if let notify {
            if notify.count > Self.mostNotifyEntries {
                problem("notify", "has \(notify.count) entries; at most \(Self.mostNotifyEntries) are allowed")
            }
            rules = notify.enumerated().compactMap { index, entry in
                entry.validate("notify[\(index)]", environment: environment, problem)
            }
        }
        let expectedSeconds = seconds(
            "expected_duration", expectedDuration, default: nil, allowZero: false, max: 7 * 86_400)
        if let remainingRuns, remainingRuns < 1 {
            problem("remaining_runs", "\(remainingRuns) must be 1 or more (leave it out for no limit)")
        }
        guard problems.isEmpty, let overlapPolicy, let mode else {
            return .failure(.invalid(problems: problems, separator: "; "))
        }

        var record =
            existing
            ?? ScheduleRecord(
                name: name, cron: cron, workflow: workflow, createdAt: now, updatedAt: now)
        record.name = name
        record.cron = cron
        record.timeZone = zone
        record.webhook = isWebhook
        var secret: String?
        if let scheme {
            let changed = existing?.webhookScheme != scheme || existing?.webhookSecretEnv != webhookSecretEnv
            record.webhookScheme = scheme
            record.webhookSecretEnv = webhookSecretEnv
            if webhookSecretEnv != nil {
                record.webhookSecret = nil
            } else if record.webhookSecret == nil || changed {
                let made = WebhookSecret.make(scheme)
                record.webhookSecret = WebhookSecret.stored(made, scheme: scheme)
                secret = made
            }
            if changed || secret != nil {
                record.webhookPreviousSecret = nil
                record.webhookPreviousUntil = nil
            }
        } else {
            record.webhookScheme = nil
            record.webhookSecret = nil
            record.webhookSecretEnv = nil
            record.webhookPreviousSecret = nil
            record.webhookPreviousUntil = nil
        }
        record.workflow = workflow
        record.inputJSON = inputJSON
        record.overlap = overlapPolicy
        record.catchupWindowSeconds = window
        record.catchupMode = mode
        record.jitterSeconds = jitterSeconds
        record.timeoutSeconds = timeoutSeconds
        record.retry = retryPolicy
        record.notify = rules
        record.expectedDurationSeconds = expectedSeconds
        if let paused {
            record.paused = paused
            record.pauseNote = paused ? pauseNote : nil
        }
        // Re-applying the same limit keeps the count the schedule has come down to (and the pause
        // its last run brought); a new limit, or none, starts afresh.
        let exhausted = existing.map { $0.paused && $0.remainingRuns == 0 } ?? false
        var declared = existing?.declaredRemainingRuns
        if declared == nil, let left = existing?.remainingRuns {
            // Stored before the declared number was kept: taken to be the file's, so an upgrade
            // neither resets the count nor re-arms a schedule that ran out (a file without one
            // still lifts the limit).
            declared = remainingRuns ?? left
        }
        if existing == nil || declared != remainingRuns {
            record.remainingRuns = remainingRuns
            if exhausted {
                // The pause was the old limit's; like a resume, fires missed meanwhile are not caught up.
                record.lastFireSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
                if paused == nil {
                    record.paused = false
                    record.pauseNote = nil
                }
            }
        } else if let existing, exhausted {
            record.paused = true
            record.pauseNote = existing.pauseNote
        }
        record.declaredRemainingRuns = remainingRuns
        record.dayMatch = match?.rawValue
        record.dstGap = gap?.rawValue
        record.dstFold = fold?.rawValue
        if existing == nil { record.lastFireSeconds = Int64(now.timeIntervalSince1970.rounded(.down)) }
        record.updatedAt = now
        return .success(Validated(record: record, secret: secret))
    }

    /// True when storing `record` over `existing` changes what the schedule does.
    public static func differs(_ record: ScheduleRecord, from existing: ScheduleRecord) -> Bool {
        var a = record
        var b = existing
        for value in [\ScheduleRecord.updatedAt, \ScheduleRecord.createdAt] {
            a[keyPath: value] = Date(timeIntervalSince1970: 0)
            b[keyPath: value] = Date(timeIntervalSince1970: 0)
        }
        a.lastFireSeconds = nil
        b.lastFireSeconds = nil
        return a != b
    }
}
