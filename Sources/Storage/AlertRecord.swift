import Foundation

/// What an alert tells: a schedule's run failed (after its last attempt), it succeeded again after
/// failing, a fire will not run, a run goes on past its expected duration, or (when asked for) a
/// run succeeded.
public enum AlertEvent: String, Sendable, Codable, CaseIterable {
    /// The last attempt at a fire ended `failed`, `timed_out` or `interrupted`: once per failure
    /// streak.
    case failure
    /// The first success after a failure streak.
    case recovered
    /// A fire that will not run: missed beyond the catch-up window, or skipped too often in a row.
    case missed
    /// A run still going past the schedule's `expected_duration`.
    case overdue
    /// Every run that succeeded (only when a target asks for it).
    case success
}

/// Where an alert is in its delivery.
public enum AlertState: String, Sendable, Codable, CaseIterable {
    /// Not delivered yet: waiting for its first try, or for the next after the receiver failed.
    case pending
    /// The receiver took it.
    case delivered
    /// Given up: the receiver refused it for good, or kept failing past the last try.
    case failed
    /// Kept as a record only: an event (a missed fire) of a schedule no target is told of.
    case recorded
}

/// One alert to one target, as the outbox in the store keeps it: stored when its event happens,
/// delivered by whichever daemon claims it, tried again with a growing pause while the receiver is
/// away. The target names its secrets by environment variable; no secret is stored.
public struct AlertRecord: Sendable, Hashable {
    /// `alt_` and a ``SortableID``: ids sort in the order alerts were stored.
    public var id: String
    /// The schedule it is about; `nil` once that schedule is gone.
    public var scheduleID: String?
    /// The schedule's name when the alert was made.
    public var scheduleName: String
    /// What happened.
    public var event: AlertEvent
    /// The run it is about, if any.
    public var runID: String?
    /// Unique in the store: the same event for the same target is stored once, whichever daemon
    /// makes it.
    public var dedupeKey: String
    /// The target as configured, JSON (its kind and settings; secrets only as variable names).
    public var targetJSON: String
    /// The JSON body every target's message is made from.
    public var payloadJSON: String
    /// Where its delivery is.
    public var state: AlertState
    /// Deliveries tried so far.
    public var attempts: Int
    /// When the next delivery may be tried.
    public var nextAttemptAt: Date
    /// When it was stored.
    public var createdAt: Date
    /// When the receiver took it.
    public var deliveredAt: Date?
    /// Why the last try failed.
    public var lastError: String?

    /// A new alert, pending from `createdAt` (or a record, with `state` `.recorded` and `targetJSON`
    /// `{}`).
    public init(
        id: String = SortableID.make("alt"), scheduleID: String?, scheduleName: String, event: AlertEvent,
        runID: String?, dedupeKey: String, targetJSON: String, payloadJSON: String, createdAt: Date,
        state: AlertState = .pending
    ) {
        self.id = id
        self.scheduleID = scheduleID
        self.scheduleName = scheduleName
        self.event = event
        self.runID = runID
        self.dedupeKey = dedupeKey
        self.targetJSON = targetJSON
        self.payloadJSON = payloadJSON
        self.state = state
        self.attempts = 0
        self.nextAttemptAt = createdAt
        self.createdAt = createdAt
    }
}

/// How one delivery of an alert went, as the dispatcher stores it.
public enum AlertDelivery: Sendable, Hashable {
    /// The receiver took it.
    case delivered(at: Date)
    /// It failed and is tried again at `at`.
    case retry(at: Date, error: String)
    /// It failed for good.
    case failed(error: String)

    /// What the store writes for it: the alert's new state, its next try (`nil`: as it is), when it
    /// was delivered, and the error.
    public var columns: (state: AlertState, nextAttemptMs: Int64?, deliveredMs: Int64?, error: String?) {
        switch self {
        case .delivered(let at): (.delivered, nil, at.milliseconds, nil)
        case .retry(let at, let error): (.pending, at.milliseconds, nil, error)
        case .failed(let error): (.failed, nil, nil, error)
        }
    }
}
