import Foundation
import Storage
import Support

/// The wall clock the scheduler fires by, injected so that tests move time instead of sleeping.
public protocol WallClock: Sendable {
    /// The current wall time.
    func now() -> Date
    /// Returns at `deadline` (wall time) or later.
    /// - Throws: `CancellationError` when the task is cancelled first.
    func sleep(until deadline: Date) async throws
}

/// The system's clock. A sleep is measured on the monotonic clock and capped at five minutes, so that
/// a step of the wall clock (NTP, a suspended VM) is noticed within that time; the scheduler then
/// treats the fires it jumped over as missed and applies the catch-up policy.
public struct SystemWallClock: WallClock {
    public static let maximumSleep: Duration = .seconds(300)

    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        guard seconds > 0 else { return }
        let duration = min(Duration.nanoseconds(Int64(saturating: seconds * 1e9)), Self.maximumSleep)
        try await Task.sleep(for: duration, tolerance: .zero)
    }
}
