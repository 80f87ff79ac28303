/// How many runs of one schedule are in one state: a row of ``SchedulerStore/runTally(since:)``, what
/// the overview page counts "today" from (the runs that ended today, and those going now).
public struct RunTally: Sendable, Hashable {
    /// The schedule's id; `nil` for runs of no schedule (a deleted schedule's).
    public var scheduleID: String?
    /// The runs' state.
    public var state: RunState
    /// How many runs.
    public var count: Int

    /// A tally row.
    public init(scheduleID: String?, state: RunState, count: Int) {
        self.scheduleID = scheduleID
        self.state = state
        self.count = count
    }
}
