import Foundation
import Storage
import Support

/// The wall clock the scheduler fires by, injected so that tests move time instead of sleeping.
///
/// The scheduler's timer loop, the start and end of its runs, its shutdown grace period, the run
/// pruner and the executor closing interrupted traces all read the time and wait through one. The
/// daemon uses ``SystemWallClock``; tests use a manual clock that moves only when told.
///
/// ```swift
/// let clock: any WallClock = SystemWallClock()
/// try await clock.sleep(until: clock.now().addingTimeInterval(60))  // the next minute's fire
/// try await clock.sleep(for: .seconds(30))                          // a grace period
/// ```
public protocol WallClock: Sendable {
    /// The current wall time.
    func now() -> Date

    /// Returns at `deadline` (wall time) or later.
    /// - Throws: `CancellationError` when the task is cancelled first.
    func sleep(until deadline: Date) async throws

    /// Returns once `duration` has passed, or later: for periods that run from now (a grace period, an
    /// interval between passes) rather than to an instant. The default sleeps until ``now()`` plus
    /// `duration`; a clock that can measure elapsed time apart from the wall time (see
    /// ``SystemWallClock``) measures it there, so that a step of the wall clock does not stretch or
    /// cut the period.
    /// - Throws: `CancellationError` when the task is cancelled first.
    func sleep(for duration: Duration) async throws
}

extension WallClock {
    /// Sleeps until ``now()`` plus `duration`, on this clock's wall time.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now().adding(duration))
    }
}

/// The system's clock. A sleep until an instant is measured on the monotonic clock and capped at five
/// minutes, so that a step of the wall clock (NTP, a suspended VM) is noticed within that time; the
/// scheduler then treats the fires it jumped over as missed and applies the catch-up policy. A sleep
/// for a duration is measured on the monotonic clock alone.
public struct SystemWallClock: WallClock {
    /// The longest a ``sleep(until:)`` sleeps before its caller looks at the wall time again.
    public static let maximumSleep: Duration = .seconds(300)

    /// The system's clock.
    public init() {}

    /// The system's wall time.
    public func now() -> Date { Date() }

    /// Sleeps until `deadline`, or for ``maximumSleep`` if that is sooner.
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        guard seconds > 0 else { return }
        try await Task.sleep(for: min(Duration(timeInterval: seconds), Self.maximumSleep), tolerance: .zero)
    }

    /// Sleeps for `duration` on the monotonic clock, whatever the wall clock does meanwhile.
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}
