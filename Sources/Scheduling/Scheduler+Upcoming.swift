import Cron
import Storage
import Synchronization
import Workflows

// What the status pages ask the scheduler, without a database read: what fires next across every
// loaded schedule (from the timer's heap, not a cron search per schedule), the loaded schedules'
// names, and the nodes its running runs are at.

/// One coming fire of a schedule.
public struct UpcomingFire: Sendable, Hashable {
    /// The schedule as the scheduler has it loaded.
    public var schedule: ScheduleRecord
    /// The fire: its instant and its daylight-saving marker.
    public var fire: CronFire
}

extension Scheduler {
    /// The next `limit` fires across every loaded schedule, soonest first; a schedule appears as often
    /// as it fires among them (an every-second schedule fills the list). A fire already due and not
    /// yet stored comes first.
    public func upcomingFires(limit: Int) -> [UpcomingFire] {
        guard limit > 0 else { return [] }
        // A schedule with a fire among the first `limit` has its next fire among the first `limit`
        // next fires: only those schedules are searched further.
        var firsts: [(time: Int64, id: String)] = []
        firsts.reserveCapacity(fires.entries.count)
        for item in fires.entries {
            guard let entry = entries[item.key], entry.generation == item.generation, entry.expression != nil
            else { continue }
            firsts.append((item.time, item.key))
        }
        firsts.sort { $0.time < $1.time }
        var coming: [UpcomingFire] = []
        for (time, id) in firsts.prefix(limit) {
            guard let entry = entries[id], let expression = entry.expression else { continue }
            var after = time - 1
            for _ in 0..<limit {
                guard let fire = expression.nextFire(afterUnixSeconds: after) else { break }
                coming.append(UpcomingFire(schedule: entry.schedule, fire: fire))
                after = fire.unixSeconds
            }
        }
        coming.sort { ($0.fire.unixSeconds, $0.schedule.name) < ($1.fire.unixSeconds, $1.schedule.name) }
        return Array(coming.prefix(limit))
    }

    /// The node attempts of `runID` going on now, when this instance runs it (``RunExecutor/nodesGoing(runID:)``).
    public nonisolated func nodesGoing(runID: String) -> [NodeRecord] {
        executor.nodesGoing(runID: runID)
    }

    /// The names of every loaded schedule (no database read): what the pages sort and page through
    /// before they look up the few they show with ``schedule(_:)``.
    public nonisolated var loadedScheduleNames: [String] {
        lookup.withLock { $0.byID.values.map(\.name) }
    }
}
