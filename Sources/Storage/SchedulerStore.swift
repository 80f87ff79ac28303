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
    /// Moves a schedule's fire cursor, its remaining runs, and pauses it when `pauseNote` is given.
    func advanceSchedule(id: String, lastFireSeconds: Int64, remainingRuns: Int?, pauseNote: String?) async throws

    // MARK: Runs

    /// Stores a new run. Returns false, storing nothing, when the schedule already has a run with the
    /// same dedupe key (that fire was handled before).
    func insertRun(_ run: RunRecord) async throws -> Bool
    /// Marks a run running, with its trace's identity.
    func markRunStarted(id: String, at: Date, traceID: String?, rootSpanID: String?, rootStartNanos: Int64?)
        async throws
    /// Records the nodes finished so far (for `schedule run --wait`).
    func updateRunNodes(id: String, nodesJSON: String) async throws
    /// Stores a run's end.
    func finishRun(
        id: String, state: RunState, at: Date, outputJSON: String?, error: String?, nodesJSON: String?
    ) async throws
    func run(id: String) async throws -> RunRecord?
    /// Runs, newest first; of one schedule when `scheduleID` is given; older than `before` (an id).
    func runs(scheduleID: String?, limit: Int, before: String?) async throws -> [RunRecord]
    /// Runs in the given states, oldest first.
    func runs(in states: Set<RunState>) async throws -> [RunRecord]
    /// Counts runs by state (for metrics).
    func runCounts() async throws -> [RunState: Int]
    /// The latest run of each schedule (for `schedule list`).
    func latestRuns() async throws -> [String: RunRecord]
}
