import Foundation
import Support
import Synchronization

/// This machine's clock moved onto the database's: what a scheduler sharing its store with daemons
/// on other machines fires by, so that "due" means the same instant on every machine whatever their
/// own clocks say.
///
/// ``InstanceHeartbeat`` measures this machine's clock against the database's at every heartbeat
/// and passes the offset on through ``adjust(offset:)``; ``now()`` is this machine's time minus the
/// latest offset, and a sleep until an instant sleeps until that instant plus the offset on this
/// machine's clock. Until the first measurement the offset is zero.
///
/// ```swift
/// let clock = DatabaseClock(base: SystemWallClock())
/// let heartbeat = InstanceHeartbeat(store: store, identity: identity, correcting: clock, ...)
/// await heartbeat.beat()                    // measures the offset before anything fires
/// let scheduler = Scheduler(store: store, clock: clock, executor: executor)
/// ```
public final class DatabaseClock: WallClock {
    /// This machine's clock.
    public let base: any WallClock
    /// This machine's clock minus the database's, in nanoseconds.
    private let offsetNanos = Atomic<Int64>(0)

    /// A clock that reads `base` until an offset is known.
    public init(base: any WallClock) {
        self.base = base
    }

    /// The offset in use: this machine's clock minus the database's.
    public var offset: Duration { .nanoseconds(offsetNanos.load(ordering: .relaxed)) }

    /// Uses `offset` (this machine's clock minus the database's) from now on.
    public func adjust(offset: Duration) {
        let nanos = Int64(saturating: (offset.timeInterval * 1e9).rounded())
        offsetNanos.store(nanos, ordering: .relaxed)
    }

    /// The database's time, as this machine's clock and the latest offset tell it.
    public func now() -> Date {
        base.now().addingTimeInterval(-offset.timeInterval)
    }

    /// Sleeps until `deadline` on the database's clock.
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleep(until deadline: Date) async throws {
        try await base.sleep(until: deadline.addingTimeInterval(offset.timeInterval))
    }

    /// Sleeps for `duration`, as `base` measures it.
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleep(for duration: Duration) async throws {
        try await base.sleep(for: duration)
    }
}

/// A clock `skew` ahead of another (behind when negative): the test hook that stands for a machine
/// whose clock is off (`SCHEDULERD_TEST_CLOCK_SKEW`).
public struct SkewedClock: WallClock {
    /// The clock it is moved from.
    public let base: any WallClock
    /// How far ahead of `base` it is.
    public let skew: Duration

    /// A clock `skew` ahead of `base`.
    public init(base: any WallClock, skew: Duration) {
        self.base = base
        self.skew = skew
    }

    /// `base`'s time plus the skew.
    public func now() -> Date { base.now().addingTimeInterval(skew.timeInterval) }

    /// Sleeps until `deadline` on this clock.
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleep(until deadline: Date) async throws {
        try await base.sleep(until: deadline.addingTimeInterval(-skew.timeInterval))
    }

    /// Sleeps for `duration`, as `base` measures it.
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleep(for duration: Duration) async throws {
        try await base.sleep(for: duration)
    }
}
