import Foundation
import ProcessSandbox
import SchedulerTesting
import Support
import Testing

/// Durations come from webhooks' `?wait=`, the admin API, schedule, workflow and policy files and the
/// CLI's flags: any text must parse to a duration within the limit or to `nil`, never trap.
@Suite("fuzz: durations")
struct DurationFuzzTests {
    /// The inputs that trapped before parsing used checked arithmetic, kept as regression cases.
    static let regressions = [
        String(repeating: "999999999d", count: 100),
        String(repeating: "999999999d", count: 11),
        "999999999d999999999d999999999d999999999d999999999d999999999d999999999d999999999d999999999d999999999d999999999d",
        "9223372036854775807ms", "9223372036854775807", "999999999", "3651d", "87601h", "3650d1ms",
    ]

    @Test("inputs that trapped or overflowed are refused", arguments: regressions)
    func regression(_ text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test("the limit: 3650d is the longest duration; a bare number of seconds is bounded the same way")
    func limit() {
        #expect(DurationText.parse("3650d") == DurationText.maximum)
        #expect(DurationText.parse("3650d1ms") == nil)
        #expect(DurationText.parse("315360000") == .seconds(315_360_000))
        #expect(DurationText.parse("315360001") == nil)
        #expect(DurationText.parse("1h30m") == .seconds(5400))
        #expect(DurationText.parse("250ms") == .milliseconds(250))
        #expect(DurationText.parse("+5") == nil)
        #expect(DurationText.parse("-5s") == nil)
        #expect(DurationText.parse("5") == .seconds(5))
        #expect(DurationText.format(.seconds(Int64.max)) != "")
        #expect(DurationText.format(.seconds(-5)) == "0s")
        #expect(DurationText.wholeSeconds(.seconds(Int64.max)) == Int.max)
    }

    @Test("random text: parse gives nil or a duration from 0 to the limit, and format reads back")
    func random() async throws {
        var mutator = Mutator(
            salt: 1,
            corpus: ["30s", "5m", "1h30m", "2d", "250ms", "90", "3650d", "1d2h3m4s5ms", "999999999d", "0s"],
            dictionary: ["d", "h", "m", "s", "ms", "999999999", "999999999d", "86400000", "1", "0", "3650d"])
        try await fuzz("durations", make: { mutator.next() }) { text in
            guard let duration = DurationText.parse(text) else { return nil }
            if duration < .zero || duration > DurationText.maximum { return "parsed out of range: \(duration)" }
            let shown = DurationText.format(duration)
            if DurationText.parse(shown) != duration { return "format \(shown) does not read back" }
            return nil
        }
    }
}
