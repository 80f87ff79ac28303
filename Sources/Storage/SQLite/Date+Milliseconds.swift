import Foundation
import Support

/// The SQLite tables keep instants as whole milliseconds since the Unix epoch (`*_ms` columns).
extension Date {
    /// This instant in whole milliseconds since the epoch, rounded to the nearest; clamped into `Int64`
    /// rather than trapping, so that no date (however far off) can stop the daemon.
    var milliseconds: Int64 {
        Int64(saturating: (timeIntervalSince1970 * 1000).rounded())
    }

    /// The instant `milliseconds` after the epoch, as read from an `*_ms` column. Every `Int64` makes a date.
    init(milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
