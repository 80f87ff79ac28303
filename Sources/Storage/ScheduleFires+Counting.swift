import Foundation

/// What a store writes of a tick's fires, decided by the schedule's row as stored rather than by the
/// scheduler's copy of it: with several daemons, a daemon's copy can be behind (another daemon stored
/// the fires it missed while it was paused, or a fire it passed over as outside its catch-up window),
/// and a count kept in each daemon's memory would let the schedule run more times than it was given.
/// Both stores call these under the schedule row's lock.
extension ScheduleFires {
    /// The note a schedule gets when a store pauses it for having used its last remaining run.
    public static let lastRunPauseNote = "paused after its last remaining run"

    /// The runs to write, in order, given the schedule's cursor and remaining runs as stored: a run
    /// for a nominal time at or before `storedCursor` is left out (that fire was handled, here or by
    /// another daemon), and so are queued runs past `storedRemaining` (the schedule's runs are used
    /// up; a daemon whose count was behind planned them). Skipped runs do not count.
    public func runsToWrite(storedCursor: Int64?, storedRemaining: Int?) -> [RunRecord] {
        var left = storedRemaining
        var kept: [RunRecord] = []
        for run in runs {
            if let storedCursor, let nominal = run.nominalTime, Int64(nominal.timeIntervalSince1970) <= storedCursor {
                continue
            }
            if run.state == .queued, let count = left {
                guard count > 0 else { continue }
                left = count - 1
            }
            kept.append(run)
        }
        return kept
    }

    /// The schedule's remaining runs after `storedQueued` queued runs of it were stored, and whether
    /// that write pauses it (it took the last one); `nil` for a schedule without a limit.
    public static func remaining(storedRemaining: Int?, storedQueued: Int) -> (left: Int, pauses: Bool)? {
        guard let storedRemaining else { return nil }
        let left = max(0, storedRemaining - storedQueued)
        return (left, storedQueued > 0 && left == 0)
    }
}
