import Foundation

/// Where schedules and runs live. The scheduler and the API talk only to this protocol, so that
/// another backend (PostgreSQL, for several daemons sharing one schedule set) can follow.
public protocol SchedulerStore: Sendable {
    // MARK: Schedules

    /// Adds a schedule.
    /// - Throws: ``StorageError`` `.duplicateName` when the name is taken.
    func insertSchedule(_ schedule: ScheduleRecord) async throws
    /// Replaces a schedule (matched by id).
    /// - Throws: `.notFound`, `.duplicateName`.
    func updateSchedule(_ schedule: ScheduleRecord) async throws
    /// Deletes a schedule; its runs stay, detached. Returns false when there was none.
    func deleteSchedule(id: String) async throws -> Bool
    /// Creates, replaces and deletes schedules in one transaction: all or nothing.
    func applySchedules(insert: [ScheduleRecord], update: [ScheduleRecord], delete: [String]) async throws
    func schedule(id: String) async throws -> ScheduleRecord?
    func schedule(named name: String) async throws -> ScheduleRecord?
    /// Every schedule, by name.
    func schedules() async throws -> [ScheduleRecord]
    /// One round trip that reads no table: whether the store answers now (`/readyz`). It costs the
    /// same however many runs the store holds, so a readiness probe may call it every second.
    func ping() async throws
    /// A cheap summary of the schedule table that changes whenever a schedule is added, changed
    /// (its definition, pause, cursor or remaining runs) or deleted, by any daemon using the store:
    /// a daemon compares it from time to time to learn of its peers' changes.
    func scheduleRevision() async throws -> ScheduleRevision
    /// Follows the schedule changes every daemon using the store makes, as the store reports them: calls
    /// `listening` once it listens, then `changed` for each notice, until the task is cancelled.
    /// - Returns: false at once when the store has no change feed (then the caller polls
    ///   ``scheduleRevision()``); true when it stopped following because the task was cancelled.
    /// - Throws: when the feed cannot be opened or breaks (the caller polls meanwhile, and tries again).
    func followScheduleChanges(
        listening: @escaping @Sendable () -> Void, changed: @escaping @Sendable (ScheduleChangeNotice) async -> Void
    ) async throws -> Bool
    /// Stores the runs of a timer tick's fires and moves each schedule's cursor, all in one
    /// transaction.
    ///
    /// The schedule's row as stored decides, not the caller's copy of it, which may be behind another
    /// daemon's writes (``ScheduleFires/runsToWrite(storedCursor:storedRemaining:)``): a run for a
    /// fire at or before the stored cursor is left out (that fire was handled), and so are queued runs
    /// past the stored remaining runs. The queued runs stored count against the remaining runs, and
    /// the run that takes the last one pauses the schedule with ``ScheduleFires/lastRunPauseNote``.
    ///
    /// A schedule another daemon is storing fires of at the same moment (its row locked) is passed
    /// over, not waited for: its fires are reported busy and nothing of it changes. So is a
    /// `buffer-one` or `cancel-other` schedule with a run queued or running held by another instance
    /// than the writer (``ScheduleFires/needsHolder``): that instance stores its fires, and waits for
    /// or cancels its own run, as those policies ask.
    ///
    /// A schedule whose fires say overlap `skip` is checked in the same transaction, its row locked:
    /// when it has a run queued or running in the store that is not among these fires (another
    /// daemon's), its queued runs here are stored `skipped` instead, so that no two of its runs go at
    /// once anywhere.
    /// - Returns: the ids of the runs stored (a run whose schedule already has its dedupe key is not:
    ///   that fire was handled before), those stored skipped by that check, with the reason, the busy
    ///   schedules, and the remaining runs of the schedules with a limit.
    func recordFires(_ fires: [ScheduleFires]) async throws -> RunWriteResult

    // MARK: Runs

    /// Stores a new run. Returns false, storing nothing, when the schedule already has a run with the
    /// same dedupe key (that fire was handled before).
    func insertRun(_ run: RunRecord) async throws -> Bool
    /// Stores new runs, then applies changes to runs in order, all in one transaction. A run's end
    /// that applies stores the run that retries it, when it carries one (``RunUpdate/retry``).
    /// - Returns: the ids of the new runs stored, retries included (a run whose schedule already has
    ///   its dedupe key is not), and of the runs whose fenced changes were refused.
    func writeRuns(insert: [RunRecord], update: [RunUpdate]) async throws -> RunWriteResult
    /// The run of a schedule with this dedupe key (a fire, a webhook delivery), if any.
    func run(scheduleID: String, dedupeKey: String) async throws -> RunRecord?
    func run(id: String) async throws -> RunRecord?
    /// Runs, newest first; of one schedule when `scheduleID` is given; older than `before` (an id).
    func runs(scheduleID: String?, limit: Int, before: String?) async throws -> [RunRecord]
    /// Runs in the given states, oldest first.
    func runs(in states: Set<RunState>) async throws -> [RunRecord]
    /// Counts runs by state (for metrics).
    func runCounts() async throws -> [RunState: Int]
    /// Counts the runs that ended at or after `since`, and those running or queued now, by schedule
    /// and state; a pair without runs has no row. The cost grows with the runs counted, not with the
    /// history (an index of ended runs by end time).
    func runTally(since: Date) async throws -> [RunTally]
    /// The newest runs of each schedule in `scheduleIDs`, at most `limit` each (newest first), only
    /// those older than `before` (a run id) when it is given: summaries, in one round trip, each an
    /// index search. Schedules without runs have no entry.
    func runSummaries(scheduleIDs: [String], limit: Int, before: String?) async throws -> [String: [RunSummary]]
    /// Up to `limit` of the runs running or queued, the running ones first, each group oldest first,
    /// with their node records; and how many are running or queued in all.
    func activeRuns(limit: Int) async throws -> (runs: [RunSummary], total: Int)
    /// Deletes up to `limit` finished runs (any final state) that ended before `cutoff`, oldest
    /// first, in one transaction. - Returns: their ids.
    func deleteRuns(finishedBefore cutoff: Date, limit: Int) async throws -> [String]
    /// The latest run of each schedule (for `schedule list`).
    func latestRuns() async throws -> [String: RunRecord]

    // MARK: Leases

    /// The runs `owner` holds: those queued or running with it as their ``RunRecord/owner``, by id.
    func heldRuns(owner: String) async throws -> [String: RunState]
    /// Takes back the runs of instances that have not sent a heartbeat for `silence` (by the store's
    /// clock), or that have none: their running runs become `interrupted` with `error`, and their
    /// queued runs are held by no one, free for any instance to claim. In one transaction.
    ///
    /// The runs of `sparing` (the calling instance) are left alone whatever its heartbeat: an instance
    /// that was cut off from the store knows it is alive, and takes its own runs over only from another
    /// instance's point of view. Otherwise the first lease check after a long outage, which may come
    /// before its first heartbeat, would interrupt the runs it is running.
    ///
    /// `retry` is asked, for each run made interrupted, for the run that tries its fire again
    /// (``RetryPolicy``); what it returns is stored in the same transaction, so that a crash cannot
    /// lose it between the two.
    /// - Returns: the runs made interrupted, as stored now, so that their traces can be closed.
    func expireLeases(
        silence: Duration, sparing: String?, error: String, retry: @escaping @Sendable (RunRecord) -> RunRecord?
    ) async throws -> [RunRecord]
    /// Makes up to `limit` queued runs that no instance holds `owner`'s, oldest first; runs another
    /// instance is claiming at the same moment are passed over, not waited for, and so is a run of a
    /// `buffer-one` or `cancel-other` schedule while another instance holds a run of that schedule
    /// queued or running (it is that instance's to wait for or cancel).
    /// - Returns: the runs claimed, as stored now.
    func claimQueued(owner: String, limit: Int) async throws -> [RunRecord]
    /// Hands the queued runs `owner` holds back to the store, held by no one (a stopping instance).
    /// - Returns: how many there were.
    func releaseQueued(owner: String) async throws -> Int

    // MARK: Alerts

    /// Stores alerts, each unless one with its dedupe key is stored already.
    /// - Returns: the ids of the alerts stored.
    func insertAlerts(_ alerts: [AlertRecord]) async throws -> Set<String>
    /// Records whether a schedule's latest fire failed (its last attempt), and stores `alerts` with it
    /// when that changes whether the schedule is failing, in one transaction: a schedule that starts
    /// failing, or succeeds after failing, alerts once per streak. A schedule never seen failing that
    /// succeeds changes nothing.
    /// - Returns: whether it changed (and the alerts were stored, each unless its dedupe key was).
    func recordStreak(scheduleID: String, failing: Bool, at: Date, alerts: [AlertRecord]) async throws -> Bool
    /// Claims up to `limit` pending alerts due by `now`, oldest first, for `lease`: no other claim
    /// gets them until it has passed (a daemon that stops mid-delivery leaves them to the next).
    /// Alerts another daemon is claiming at the same moment are passed over.
    func claimAlerts(now: Date, lease: Duration, limit: Int) async throws -> [AlertRecord]
    /// Stores how a delivery of alert `id` went, counting the attempt.
    func settleAlert(id: String, _ delivery: AlertDelivery) async throws
    /// Alerts, newest first; of one schedule when `scheduleID` is given; older than `before` (an id).
    func alerts(scheduleID: String?, limit: Int, before: String?) async throws -> [AlertRecord]
    /// Deletes up to `limit` alerts made before `cutoff` that are not pending (delivered, failed or
    /// recorded), oldest first, in one transaction. - Returns: how many.
    func deleteAlerts(createdBefore cutoff: Date, limit: Int) async throws -> Int

    // MARK: Instances

    /// Stores an instance's heartbeat: inserts or replaces its row, with ``InstanceRecord/heartbeatAt``
    /// set to the database's own clock, and forgets instances not seen for a day.
    /// - Returns: the database's clock at the heartbeat, which the instance measures its own against.
    func heartbeat(_ instance: InstanceRecord) async throws -> Date
    /// Instances whose last heartbeat is at or after `since` (the database's clock), in the order they
    /// started.
    func instances(seenSince since: Date) async throws -> [InstanceRecord]
    /// Forgets an instance (it stopped cleanly). Returns false when there was none.
    func removeInstance(id: String) async throws -> Bool
}

extension SchedulerStore {
    /// ``expireLeases(silence:sparing:error:retry:)`` retrying none of the runs it interrupts.
    public func expireLeases(silence: Duration, sparing: String?, error: String) async throws -> [RunRecord] {
        try await expireLeases(silence: silence, sparing: sparing, error: error, retry: { _ in nil })
    }

    /// Applies changes to runs in order, in one transaction.
    public func updateRuns(_ updates: [RunUpdate]) async throws {
        _ = try await writeRuns(insert: [], update: updates)
    }

    /// Stores new runs, then applies changes, in one transaction; the ids of the new runs stored.
    public func insertRuns(_ runs: [RunRecord], update updates: [RunUpdate] = []) async throws -> Set<String> {
        try await writeRuns(insert: runs, update: updates).stored
    }
}
