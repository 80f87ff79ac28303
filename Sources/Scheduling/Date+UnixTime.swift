import Foundation
import Storage
import Support

// The conversions between `Date`, Unix seconds and nanoseconds that the scheduler, its clock, the
// pruner and the executor need, written once: fires are keyed by whole Unix seconds, root spans start
// at Unix nanoseconds (`Duration` to and from seconds is in Support).

extension Date {
    /// The instant `seconds` whole seconds after the Unix epoch.
    init(unixSeconds seconds: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// Whole seconds since the Unix epoch: by default the second this instant falls in (rounded
    /// down); `.up` gives the first whole second at or after it.
    func unixSeconds(_ rule: FloatingPointRoundingRule = .down) -> Int64 {
        Int64(timeIntervalSince1970.rounded(rule))
    }

    /// Nanoseconds since the Unix epoch, as span timestamps are kept.
    var unixNanoseconds: Int64 { Int64(saturating: timeIntervalSince1970 * 1e9) }

    /// This instant moved by `duration` (back when it is negative).
    func adding(_ duration: Duration) -> Date {
        addingTimeInterval(duration.timeInterval)
    }
}
