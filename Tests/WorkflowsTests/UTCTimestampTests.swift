import Foundation
import SchedulerTesting
import Support
import Testing

/// Node records' start times, written by arithmetic, read the same as Foundation writes them.
@Suite("UTC timestamps to the millisecond")
struct UTCTimestampTests {
    @Test("agrees with Foundation's ISO 8601 format from 1906 to 2286, leap days and negative instants")
    func agreesWithFoundation() {
        var random = SplitMix64(seed: 19)
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        // (Before 1582 Foundation counts Julian days; this writes the proleptic Gregorian calendar.)
        var instants: [Int64] = [0, -1, 1, 951_782_400_000, 951_868_799_999, 4_107_542_400_000]
        for _ in 0..<20_000 {
            instants.append(Int64(random.next() % 12_000_000_000_000) - 2_000_000_000_000)
        }
        for ms in instants {
            let date = Date(timeIntervalSince1970: Double(ms) / 1000)
            let expected = date.addingTimeInterval(0.0005).formatted(style)
            #expect(UTCTimestamp.milliseconds(date) == expected, "\(ms)")
        }
        #expect(UTCTimestamp.milliseconds(Date(timeIntervalSince1970: 1_764_926_043.123)) == "2025-12-05T09:14:03.123Z")
    }
}
