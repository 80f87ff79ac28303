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
    /// A cheap summary of the schedule table that changes whenever a schedule is added, changed
    /// (its definition, pause, cursor or remaining runs) or deleted, by any daemon using the store:
    /// a daemon compares it from time to time to learn of its peers' changes.
    func scheduleRevision() async throws -> ScheduleRevision
    /// Stores the runs of a timer tick's fires and moves each schedule's cursor (its remaining runs, and
    /// a pause when `pauseNote` is set), all in one transaction.
    /// - Returns: the ids of the runs stored; a run whose schedule already has its dedupe key is not
    ///   (that fire was handled before).
    func recordFires(_ fires: [ScheduleFires]) async throws -> Set<String>

    // MARK: Runs

    /// Stores a new run. Returns false, storing nothing, when the schedule already has a run with the
    /// same dedupe key (that fire was handled before).
    func insertRun(_ run: RunRecord) async throws -> Bool
    /// Stores new runs, then applies changes to runs in order, all in one transaction.
    /// - Returns: the ids of the new runs stored; a run whose schedule already has its dedupe key is not.
    func writeRuns(insert: [RunRecord], update: [RunUpdate]) async throws -> Set<String>
    /// The run of a schedule with this dedupe key (a fire, a webhook delivery), if any.
    func run(scheduleID: String, dedupeKey: String) async throws -> RunRecord?
    func run(id: String) async throws -> RunRecord?
    /// Runs, newest first; of one schedule when `scheduleID` is given; older than `before` (an id).
    func runs(scheduleID: String?, limit: Int, before: String?) async throws -> [RunRecord]
    /// Runs in the given states, oldest first.
    func runs(in states: Set<RunState>) async throws -> [RunRecord]
    /// Counts runs by state (for metrics).
    func runCounts() async throws -> [RunState: Int]
    /// Deletes up to `limit` finished runs (any final state) that ended before `cutoff`, oldest
    /// first, in one transaction. - Returns: their ids.
    func deleteRuns(finishedBefore cutoff: Date, limit: Int) async throws -> [String]
    /// The latest run of each schedule (for `schedule list`).
    func latestRuns() async throws -> [String: RunRecord]

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
    /// Applies changes to runs in order, in one transaction.
    public func updateRuns(_ updates: [RunUpdate]) async throws {
        _ = try await writeRuns(insert: [], update: updates)
    }
}
