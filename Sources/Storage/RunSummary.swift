import Foundation

/// A run as a list shows it: what it is, how it went and when, without its input, payload, output or
/// node records, which can be large (a webhook's body, a model's answer). What the status pages read
/// for their tables (``SchedulerStore/runSummaries(scheduleIDs:limit:before:)``,
/// ``SchedulerStore/activeRuns(limit:)``).
public struct RunSummary: Sendable, Hashable {
    /// The run's id.
    public var id: String
    /// Its schedule's id; `nil` once the schedule is deleted.
    public var scheduleID: String?
    /// The workflow it runs.
    public var workflow: String
    /// `cron`, `catchup`, `webhook`, `manual`, `reboot`.
    public var trigger: String
    /// Where it stands.
    public var state: RunState
    /// The fire it stands for (cron runs).
    public var nominalTime: Date?
    /// When it was stored.
    public var queuedAt: Date
    /// When it started.
    public var startedAt: Date?
    /// When it ended.
    public var finishedAt: Date?
    /// Why it did not succeed.
    public var error: String?
    /// 1 for a fire's first run, more for its retries.
    public var fireAttempt: Int
    /// The instance that holds or ran it.
    public var owner: String?
    /// Its node records (JSON): only ``SchedulerStore/activeRuns(limit:)`` reads them, for the node a
    /// running run is at; `nil` elsewhere.
    public var nodesJSON: String?

    /// A summary.
    public init(
        id: String, scheduleID: String?, workflow: String, trigger: String, state: RunState, nominalTime: Date?,
        queuedAt: Date, startedAt: Date?, finishedAt: Date?, error: String?, fireAttempt: Int, owner: String?,
        nodesJSON: String? = nil
    ) {
        self.id = id
        self.scheduleID = scheduleID
        self.workflow = workflow
        self.trigger = trigger
        self.state = state
        self.nominalTime = nominalTime
        self.queuedAt = queuedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.error = error
        self.fireAttempt = fireAttempt
        self.owner = owner
        self.nodesJSON = nodesJSON
    }

    /// The summary of a full record (with its node records).
    public init(_ run: RunRecord) {
        self.init(
            id: run.id, scheduleID: run.scheduleID, workflow: run.workflow, trigger: run.trigger, state: run.state,
            nominalTime: run.nominalTime, queuedAt: run.queuedAt, startedAt: run.startedAt, finishedAt: run.finishedAt,
            error: run.error, fireAttempt: run.fireAttempt, owner: run.owner, nodesJSON: run.nodesJSON)
    }

    /// The columns a summary is read from, in `SELECT` order, in both engines' `run` table.
    public static let columns = """
        id, schedule_id, workflow, trigger, state, nominal_time_ms, queued_at_ms, started_at_ms, finished_at_ms, \
        error, fire_attempt, owner
        """
}
