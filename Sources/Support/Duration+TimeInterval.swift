import Foundation

/// `Duration` to and from the seconds `Date` arithmetic takes, written once for every module.
extension Duration {
    /// The length in seconds, fractions included, as `Date` arithmetic takes it.
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    /// A length given in seconds, to the nanosecond; lengths beyond what `Duration` holds saturate.
    public init(timeInterval: TimeInterval) {
        self = .nanoseconds(Int64(saturating: timeInterval * 1e9))
    }
}
