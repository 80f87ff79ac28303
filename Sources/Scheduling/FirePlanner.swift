import Cron
import Foundation
import Storage

/// A fire the scheduler acts on.
public struct DueFire: Sendable, Hashable {
    /// The fire: its nominal instant in the schedule's zone and its dedupe key.
    public var fire: CronFire
    /// `cron` when on time, `catchup` when it was missed and the catch-up policy runs it.
    public var trigger: String
}

/// Fires of a schedule that will not run: they fell before the catch-up window (the daemon was down
/// longer, or the clock jumped), or inside it where the catch-up mode runs only the latest or none.
public struct MissedFires: Sendable, Hashable {
    /// The earliest of them (Unix seconds).
    public var first: Int64
    /// The latest of them (Unix seconds).
    public var last: Int64
    /// How many, at least: fires before the window are not counted one by one (a long downtime costs
    /// nothing per fire), so there may be more.
    public var count: Int
    /// Whether some fell before the catch-up window.
    public var beyondWindow: Bool

    /// Adds the fire at `time`.
    mutating func add(_ time: Int64) {
        first = min(first, time)
        last = max(last, time)
        count += 1
    }
}

/// Decides which fires of a schedule are due at a moment: the on-time ones, and the missed ones the
/// catch-up policy keeps. Pure: no clock, no I/O.
public struct FirePlanner: Sendable {
    /// A fire later than this after its time is "missed" (the daemon was down, the clock stepped
    /// forward, the machine slept) and goes through the catch-up policy.
    public var misfireThreshold: Int64
    /// The most missed fires `all` runs at once.
    public var catchupCap: Int

    /// A planner with the daemon's defaults unless told otherwise.
    /// - Parameters:
    ///   - misfireThreshold: seconds a fire may be late and still count as on time (default 60).
    ///   - catchupCap: the most missed fires ``CatchupMode/all`` runs in one pass (default 100); older
    ///     ones beyond it are dropped.
    public init(misfireThreshold: Int64 = 60, catchupCap: Int = 100) {
        self.misfireThreshold = misfireThreshold
        self.catchupCap = catchupCap
    }

    /// What is due at `now` for a schedule whose fires up to `cursor` (Unix seconds) were handled.
    /// - Returns: the fires to act on, oldest first; the new cursor (the latest fire at or before
    ///   `now`, whether it runs or not); and the fires that will not run, if any.
    /// - Parameter missedBefore: fires before this instant count as missed however late they are: the
    ///   daemon's start, so that fires that fell in a downtime go through the catch-up policy even when
    ///   the downtime was short.
    public func due(
        _ expression: CronExpression, cursor: Int64, now: Int64, catchupWindow: Int64, mode: CatchupMode,
        missedBefore: Int64 = .min
    ) -> (fires: [DueFire], cursor: Int64, missed: MissedFires?) {
        // Fires older than the window can never run: start the search there, so that a long
        // downtime costs nothing per missed fire.
        let earliest = now - misfireThreshold - max(catchupWindow, 0)
        var after = max(cursor, earliest - 1)
        var onTime: [DueFire] = []
        var missed: [DueFire] = []
        var newCursor = cursor
        var lost: MissedFires?
        // Fires before the window: one search finds the first, one the last.
        if cursor < earliest - 1, let first = expression.nextFire(afterUnixSeconds: cursor),
            first.unixSeconds < earliest, first.unixSeconds <= now
        {
            let last = expression.previousFire(beforeUnixSeconds: earliest)?.unixSeconds ?? first.unixSeconds
            lost = MissedFires(
                first: first.unixSeconds, last: max(first.unixSeconds, last), count: 1, beyondWindow: true)
            if last > first.unixSeconds { lost?.count = 2 }
        }
        while let fire = expression.nextFire(afterUnixSeconds: after), fire.unixSeconds <= now {
            after = fire.unixSeconds
            newCursor = fire.unixSeconds
            let late = now - fire.unixSeconds
            if late <= misfireThreshold && fire.unixSeconds >= missedBefore {
                onTime.append(DueFire(fire: fire, trigger: "cron"))
            } else if late <= misfireThreshold + catchupWindow {
                missed.append(DueFire(fire: fire, trigger: "catchup"))
                if mode == .all && missed.count > catchupCap {
                    let dropped = missed.removeFirst().fire.unixSeconds
                    if lost == nil { lost = MissedFires(first: dropped, last: dropped, count: 0, beyondWindow: false) }
                    lost?.add(dropped)
                }
            }
        }
        let caughtUp: [DueFire]
        switch mode {
        case .none: caughtUp = []
        case .latest: caughtUp = missed.last.map { [$0] } ?? []
        case .all: caughtUp = missed
        }
        for item in missed.dropLast(caughtUp.count) {
            let time = item.fire.unixSeconds
            if lost == nil { lost = MissedFires(first: time, last: time, count: 0, beyondWindow: false) }
            lost?.add(time)
        }
        return (caughtUp + onTime, newCursor, lost)
    }
}

/// A delay of up to `limit` seconds that is the same for a given schedule and fire every time (a hash
/// of both), so that restarts do not move a run, and schedules due together spread out.
public enum Jitter {
    /// The delay for one fire, in whole seconds from 0 through `limit`.
    /// - Parameters:
    ///   - scheduleID: the schedule's id (not its name, so that renaming keeps the delay).
    ///   - dedupeKey: the fire's dedupe key, which tells fires of one schedule apart.
    ///   - limit: the most seconds of delay; 0 or less gives no delay.
    public static func delay(scheduleID: String, dedupeKey: String, limit: Int) -> Int {
        guard limit > 0 else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (scheduleID + "|" + dedupeKey).utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return Int(hash % UInt64(limit + 1))
    }
}
