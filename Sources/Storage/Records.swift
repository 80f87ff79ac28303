import Foundation

/// What happens when a schedule fires while its previous run is still going (Temporal's overlap
/// policies, where they overlap).
public enum OverlapPolicy: String, Sendable, Codable, CaseIterable {
    /// The new fire is recorded as `skipped` (the default).
    case skip
    /// Runs go on side by side.
    case allow
    /// One fire waits for the running run to end; further ones are skipped.
    case bufferOne = "buffer-one"
    /// The running run is cancelled (its trace ends `cancelled`) and the new one starts.
    case cancelOther = "cancel-other"
}

/// Which fires missed while the daemon was down (or the clock stepped forward) are run.
public enum CatchupMode: String, Sendable, Codable, CaseIterable {
    /// Only the most recent missed fire inside the window (the default).
    case latest
    /// Every missed fire inside the window, oldest first, up to a cap.
    case all
    /// None.
    case none
}

/// How a webhook request proves it comes from the sender that knows the schedule's secret.
public enum WebhookScheme: String, Sendable, Codable, CaseIterable {
    /// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` (GitHub, Gitea, many others).
    case github
    /// Standard Webhooks v1: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`
    /// over `id.timestamp.body`, the key being the `whsec_` secret's base64 part.
    case standard
    /// `Authorization: Bearer <token>` or `X-Gitlab-Token: <token>`; only the token's SHA-256 is stored.
    case token
}

/// A schedule as stored.
public struct ScheduleRecord: Sendable, Hashable, Codable {
    /// The schedule's id, `sch_` and a ``SortableID``; it never changes, while the name may.
    public var id: String
    /// Unique; what people type (`schedule run nightly`).
    public var name: String
    /// The cron expression; `nil` for webhook-only schedules.
    public var cron: String?
    /// The IANA zone the cron expression is read in, like `Europe/Paris`; `UTC` by default.
    public var timeZone: String
    /// Whether `POST /hooks/{name}` triggers it.
    public var webhook: Bool
    /// The webhook's scheme (`nil` without a webhook trigger).
    public var webhookScheme: WebhookScheme?
    /// The webhook secret as stored: the signing key for `github` and `standard`, `sha256:<hex>` of the
    /// token for `token`; `nil` when it comes from ``webhookSecretEnv``. Shown once, when made.
    public var webhookSecret: String?
    /// The daemon's environment variable that holds the secret instead (set in a schedule file).
    public var webhookSecretEnv: String?
    /// The secret before the last rotation, still accepted until ``webhookPreviousUntil``.
    public var webhookPreviousSecret: String?
    /// Until when ``webhookPreviousSecret`` is still accepted; `nil` when there is no previous secret.
    public var webhookPreviousUntil: Date?
    /// The name of the workflow each run runs.
    public var workflow: String
    /// JSON object merged over the workflow's initial state.
    public var inputJSON: String
    /// What a fire does while the previous run is still going.
    public var overlap: OverlapPolicy
    /// Seconds into the past that missed fires are still run.
    public var catchupWindowSeconds: Int
    /// Which missed fires inside the catch-up window run.
    public var catchupMode: CatchupMode
    /// Up to this many seconds of delay, the same for a given fire every time.
    public var jitterSeconds: Int
    /// The run's timeout; `nil`: the workflow's own.
    public var timeoutSeconds: Int?
    /// Whether the schedule is paused: it neither fires nor takes webhook deliveries.
    public var paused: Bool
    /// Why it is paused, as a person or the schedule itself (its last remaining run) wrote it; `nil`
    /// when not paused or no reason was given.
    public var pauseNote: String?
    /// Runs left before the schedule pauses itself; `nil`: no limit.
    public var remainingRuns: Int?
    /// The `remaining_runs` its definition gave when last applied: applying the same definition
    /// again keeps the count `remainingRuns` has come down to; a different one starts it afresh.
    public var declaredRemainingRuns: Int?
    /// The cron overrides (`docs/cron.md`), as their names; `nil`: the default (`vixie`, `coalesce`, `first`).
    public var dayMatch: String?
    /// What a wall time skipped by spring-forward does: `coalesce`, `shift` or `skip`; `nil`: `coalesce`.
    public var dstGap: String?
    /// What a wall time repeated by fall-back does: `first`, `last` or `both`; `nil`: `first`.
    public var dstFold: String?
    /// How its runs that do not succeed are tried again; `nil`: the daemon's default (``RetryPolicy``).
    public var retry: RetryPolicy?
    /// Who is told when its runs fail, recover, are missed or overdue; `nil`: the daemon's default,
    /// empty: no one.
    public var notify: [NotifyRule]?
    /// How long a run is expected to take at most, in seconds: a run going on past it alerts
    /// `overdue` while it runs; `nil`: no such alert.
    public var expectedDurationSeconds: Int?
    /// The file it was applied from, for `schedule apply`; `nil` for schedules added through the API.
    public var source: String?
    /// The nominal time (Unix seconds) of the latest fire handled; fires after it are due.
    public var lastFireSeconds: Int64?
    /// When the schedule was first stored.
    public var createdAt: Date
    /// When the schedule's settings were last changed (applied, paused, resumed, secret rotated).
    public var updatedAt: Date

    /// A schedule; everything left out takes its default: a new id, `UTC`, overlap `skip`, an hour of
    /// `latest` catch-up, no jitter, not paused. A webhook schedule without a scheme gets `github`.
    public init(
        id: String = SortableID.make("sch"), name: String, cron: String?, timeZone: String = "UTC",
        webhook: Bool = false, webhookScheme: WebhookScheme? = nil, webhookSecret: String? = nil,
        webhookSecretEnv: String? = nil, workflow: String, inputJSON: String = "{}",
        overlap: OverlapPolicy = .skip, catchupWindowSeconds: Int = 3600, catchupMode: CatchupMode = .latest,
        jitterSeconds: Int = 0, timeoutSeconds: Int? = nil, paused: Bool = false, pauseNote: String? = nil,
        remainingRuns: Int? = nil, source: String? = nil, lastFireSeconds: Int64? = nil, createdAt: Date = Date(),
        updatedAt: Date = Date()
    ) {
        self.id = id
        self.name = name
        self.cron = cron
        self.timeZone = timeZone
        self.webhook = webhook
        self.webhookScheme = webhookScheme ?? (webhook ? .github : nil)
        self.webhookSecret = webhookSecret
        self.webhookSecretEnv = webhookSecretEnv
        self.workflow = workflow
        self.inputJSON = inputJSON
        self.overlap = overlap
        self.catchupWindowSeconds = catchupWindowSeconds
        self.catchupMode = catchupMode
        self.jitterSeconds = jitterSeconds
        self.timeoutSeconds = timeoutSeconds
        self.paused = paused
        self.pauseNote = pauseNote
        self.remainingRuns = remainingRuns
        self.source = source
        self.lastFireSeconds = lastFireSeconds
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Where a run is in its life.
public enum RunState: String, Sendable, Codable, CaseIterable {
    /// Waiting for a slot under the global limit (or for its jitter, or a buffered fire).
    case queued
    case running
    case succeeded
    case failed
    case timedOut = "timed_out"
    case cancelled
    /// The daemon stopped (crashed) while it ran; found at the next start.
    case interrupted
    /// Not run because of the overlap policy (or a catch-up mode); kept so the fire is not run later.
    case skipped

    /// True once the run will not change any more.
    public var isFinal: Bool { self != .queued && self != .running }
}

/// A run as stored: one per fire, webhook delivery or manual start.
public struct RunRecord: Sendable, Hashable, Codable {
    /// The run's id, `run_` and a ``SortableID``: ids sort in the order runs were stored.
    public var id: String
    /// The id of the schedule it belongs to; `nil` for a run that belongs to no schedule.
    public var scheduleID: String?
    /// The name of the workflow it runs.
    public var workflow: String
    /// `cron`, `catchup`, `webhook`, `manual`, `reboot`.
    public var trigger: String
    /// The fire's nominal time (cron and catch-up).
    public var nominalTime: Date?
    /// `UNIQUE(schedule_id, dedupe_key)`: the same fire is never stored twice.
    public var dedupeKey: String?
    /// Where the run is; `queued` when stored.
    public var state: RunState
    /// When the run was stored.
    public var queuedAt: Date
    /// When it should start at the earliest (jitter).
    public var notBefore: Date?
    /// When it started running; `nil` while queued, and for runs that never ran.
    public var startedAt: Date?
    /// When it reached a final state; `nil` until then.
    public var finishedAt: Date?
    /// Its MLflow trace id, `tr-` and 32 hex digits, chosen before the run starts so that it can be linked
    /// at once; `nil` only for records made but not yet submitted.
    public var traceID: String?
    /// The root span's id and start, so that a trace left open by a crash can be closed.
    public var rootSpanID: String?
    /// The root span's start, in nanoseconds since the Unix epoch.
    public var rootStartNanos: Int64?
    /// The JSON object merged over the workflow's initial state: the schedule's `input`, with what a
    /// manual start gave or a webhook's `trigger` object added; `{}` for none.
    public var inputJSON: String
    /// The webhook request's body, as received; `nil` for other triggers.
    public var payload: Data?
    /// The workflow's final state as a JSON object; `nil` until the run ends.
    public var outputJSON: String?
    /// Why the run did not succeed; `nil` while it goes and when it succeeded.
    public var error: String?
    /// JSON array of the node records.
    public var nodesJSON: String?
    /// The daemon instance that holds the run: the one that stored it or claimed it while it waits
    /// (queued in that instance's memory), or the one running it. `nil` for a run that waits for any
    /// instance to claim it (handed back by a stopping instance, or left by one that stopped sending
    /// heartbeats), and for runs of a daemon alone on its store.
    public var owner: String?
    /// How many times the run has started: 0 while it waits, 1 once running. A start and every later
    /// write of a run on a shared store name the attempt (see ``RunFence``), so that an instance that
    /// lost the run cannot write over what the next attempt does.
    public var attempt: Int = 0
    /// Which attempt at its fire the run is: 1 for the fire's first run, one more for each retry
    /// (``RetryPolicy``). Unlike ``attempt`` it does not change once the run is stored.
    public var fireAttempt: Int = 1
    /// The id of the run this one retries; `nil` for a fire's first run.
    public var retryOf: String?
    /// The MLflow trace id of the run this one retries, which its trace is tagged with; `nil` for a
    /// fire's first run.
    public var retryOfTrace: String?

    /// A new run, `queued` now unless told otherwise; its start and end come later as ``RunUpdate``s.
    public init(
        id: String = SortableID.make("run"), scheduleID: String?, workflow: String, trigger: String,
        nominalTime: Date? = nil, dedupeKey: String? = nil, state: RunState = .queued, queuedAt: Date = Date(),
        notBefore: Date? = nil, inputJSON: String = "{}", payload: Data? = nil
    ) {
        self.id = id
        self.scheduleID = scheduleID
        self.workflow = workflow
        self.trigger = trigger
        self.nominalTime = nominalTime
        self.dedupeKey = dedupeKey
        self.state = state
        self.queuedAt = queuedAt
        self.notBefore = notBefore
        self.inputJSON = inputJSON
        self.payload = payload
    }
}

/// The fires of one schedule handled in one timer tick: their runs and where the schedule's cursor
/// moves. The store writes a tick's fires, for every schedule due, in one transaction, and counts
/// the runs it stores against the schedule's remaining runs as stored (``SchedulerStore/recordFires(_:)``).
public struct ScheduleFires: Sendable, Hashable {
    /// The id of the schedule that fired.
    public var scheduleID: String
    /// New runs, in fire order; one whose dedupe key the schedule already has is not stored.
    public var runs: [RunRecord]
    /// The nominal time (Unix seconds) of the latest fire handled.
    public var cursor: Int64
    /// The schedule's overlap policy: with `skip`, the store skips these runs when the schedule has
    /// another run queued or running (``SchedulerStore/recordFires(_:)``).
    public var overlap: OverlapPolicy

    /// The outcome of one tick for one schedule.
    public init(scheduleID: String, runs: [RunRecord], cursor: Int64, overlap: OverlapPolicy = .allow) {
        self.scheduleID = scheduleID
        self.runs = runs
        self.cursor = cursor
        self.overlap = overlap
    }
}

extension ScheduleFires {
    /// Whether these fires need every in-flight run of their schedule on one instance: `buffer-one`
    /// and `cancel-other` act on the schedule's running run, which only the instance holding it can
    /// wait for or cancel. Such fires are stored by the instance that holds the schedule's queued or
    /// running runs, if another does (``SchedulerStore/recordFires(_:)`` reports them busy here).
    public var needsHolder: Bool {
        (overlap == .bufferOne || overlap == .cancelOther) && runs.contains { $0.state == .queued }
    }

    /// The instance storing these fires: the owner of their queued runs.
    public var writer: String? { runs.first { $0.state == .queued }?.owner }

    /// Why a fire of an overlap `skip` schedule was stored skipped: the store had its run `running`
    /// (or that run queued) from another daemon. The same words as a skip decided in memory.
    public static func skipReason(running id: String) -> String {
        "skipped: run \(id) of this schedule was still going (overlap: skip)"
    }
}

extension RunRecord {
    /// Makes a queued run, not stored yet, a skipped one ending at `at`, with `reason` as its error.
    public mutating func skip(_ reason: String, at: Date) {
        state = .skipped
        error = reason
        finishedAt = at
    }
}

/// Which instance may write a run, and for which attempt: what keeps an instance that was paused or
/// slow past its lease from writing over a run another instance has taken over since.
///
/// A fenced start applies only to a run that is queued, held by ``owner`` or by no one, and has
/// started `attempt - 1` times; it makes the run ``owner``'s and its attempt `attempt`. A fenced node
/// note or end applies only while the run is running as that owner's attempt. A fenced change that
/// does not apply changes nothing and is reported as refused (``RunWriteResult/refused``).
public struct RunFence: Sendable, Hashable {
    /// The instance writing.
    public var owner: String
    /// The attempt it is writing for (1 for the first start).
    public var attempt: Int

    /// A fence for `owner`'s attempt `attempt`.
    public init(owner: String, attempt: Int) {
        self.owner = owner
        self.attempt = attempt
    }
}

/// A change to a stored run. Changes are written in batches, in order, one transaction per batch.
///
/// A change without a fence applies whatever the run's owner (a queued run cancelled before it
/// started, a run copied between stores); one with a ``RunFence`` applies only as the fence says. A
/// start without a fence leaves the run's owner and attempt as they are.
public enum RunUpdate: Sendable, Hashable {
    /// The run is running; its root span has this id and start (so that a crash can be closed later).
    case started(id: String, at: Date, rootSpanID: String, rootStartNanos: Int64, fence: RunFence? = nil)
    /// The node attempts finished so far (JSON array), for `schedule run --wait`.
    case nodes(id: String, json: String, fence: RunFence? = nil)
    /// The run's end, and the run that retries it (``RunRecord/retryOf``): that one is stored in the
    /// same transaction when, and only when, the end applies (a run another instance took over is
    /// retried by that instance, if at all).
    case finished(
        id: String, state: RunState, at: Date, outputJSON: String?, error: String?, nodesJSON: String?,
        fence: RunFence? = nil, retry: RunRecord? = nil)

    /// The id of the run the change is for.
    public var runID: String {
        switch self {
        case .started(let id, _, _, _, _), .nodes(let id, _, _), .finished(let id, _, _, _, _, _, _, _): id
        }
    }

    /// The fence the change is written under, if any.
    public var fence: RunFence? {
        switch self {
        case .started(_, _, _, _, let fence), .nodes(_, _, let fence), .finished(_, _, _, _, _, _, let fence, _): fence
        }
    }

    /// The run a `finished` change stores when it applies; `nil` for other changes.
    public var retry: RunRecord? {
        if case .finished(_, _, _, _, _, _, _, let retry) = self { return retry }
        return nil
    }
}

/// What a ``SchedulerStore/writeRuns(insert:update:)`` transaction did.
public struct RunWriteResult: Sendable, Hashable {
    /// The ids of the new runs stored; a run whose schedule had its dedupe key already is not.
    public var stored: Set<String>
    /// The ids of runs whose fenced changes did not apply: another instance holds the run now, or it
    /// has ended (an instance whose lease expired found it interrupted).
    public var refused: Set<String>
    /// New runs stored `skipped` instead of queued because their schedule, overlap `skip`, had another
    /// run queued or running in the store (``SchedulerStore/recordFires(_:)`` only), with the reason.
    public var skipped: [String: String]
    /// The ids of schedules whose fires were not written because another daemon was storing fires of
    /// the same schedule at that moment (``SchedulerStore/recordFires(_:)`` only): nothing of theirs
    /// changed; plan them again in a moment, when that daemon's write has settled.
    public var busy: Set<String>
    /// The remaining runs, as stored after the write, of every schedule with a limit whose fires were
    /// written (``SchedulerStore/recordFires(_:)`` only); 0 means the schedule is paused.
    public var remaining: [String: Int]

    /// A result.
    public init(
        stored: Set<String> = [], refused: Set<String> = [], skipped: [String: String] = [:], busy: Set<String> = [],
        remaining: [String: Int] = [:]
    ) {
        self.stored = stored
        self.refused = refused
        self.skipped = skipped
        self.busy = busy
        self.remaining = remaining
    }
}
