/// What ``SchedulerStore/scheduleRevision()`` answers: the schedule table's row count and the latest
/// and the sum of its rows' change times. An insert changes the count, a change the latest time, a
/// delete the count and the sum; two revisions that compare equal mean nothing was seen to change.
public struct ScheduleRevision: Sendable, Hashable {
    /// How many schedules are stored.
    public var count: Int
    /// The latest `updated_at` of any schedule, in milliseconds since the epoch; 0 with none.
    public var latestChangeMs: Int64
    /// The sum of every schedule's `updated_at` in milliseconds, wrapping: a deleted schedule's
    /// time leaves it even when another was added in the same instant.
    public var changeSum: Int64

    /// A revision from its parts.
    public init(count: Int, latestChangeMs: Int64, changeSum: Int64) {
        self.count = count
        self.latestChangeMs = latestChangeMs
        self.changeSum = changeSum
    }
}
