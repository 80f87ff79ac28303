import Foundation

/// Durations as the files people write spell them: `250ms`, `90s`, `5m`, `1h30m`, `2d`, or a bare
/// number of seconds. Shared by the policies, workflow and schedule files, the admin API, webhooks'
/// `?wait=` and the daemon's flags.
///
/// Every duration read from outside is bounded: parsing never traps, whatever the text, and a value
/// over ``maximum`` is refused like any other text that is not a duration. Each field may have a
/// smaller limit of its own, which its error message names.
package enum DurationText {
    /// The longest duration any field takes: 3650 days (about ten years).
    package static let maximum: Duration = .seconds(maximumMilliseconds / 1000)

    /// ``maximum`` in milliseconds, the unit the parser adds up in.
    private static let maximumMilliseconds: Int64 = 3650 * 86_400_000

    /// ``maximum`` as messages show it: `3650d`.
    package static var maximumText: String { format(maximum) }

    /// Parses a duration; `nil` when the text is not one (empty, an unknown unit, a sign, a number of
    /// over nine digits in one part) or when it is longer than ``maximum``.
    package static func parse(_ text: String?) -> Duration? {
        guard let text = text?.trimmingCharacters(in: .whitespaces).lowercased(), !text.isEmpty else { return nil }
        if text.count <= 9, text.allSatisfy({ $0.isASCII && $0.isNumber }), let seconds = Int64(text) {
            return seconds * 1000 <= maximumMilliseconds ? .seconds(seconds) : nil
        }
        var milliseconds: Int64 = 0
        var digits = ""
        var rest = Substring(text)
        while let ch = rest.first {
            if ch.isASCII && ch.isNumber {
                digits.append(ch)
                rest = rest.dropFirst()
                continue
            }
            guard !digits.isEmpty, digits.count <= 9, let n = Int64(digits) else { return nil }
            let unit: Int64
            if rest.hasPrefix("ms") {
                unit = 1
                rest = rest.dropFirst(2)
            } else {
                switch ch {
                case "d": unit = 86_400_000
                case "h": unit = 3_600_000
                case "m": unit = 60_000
                case "s": unit = 1000
                default: return nil
                }
                rest = rest.dropFirst()
            }
            // At most nine digits times a day's milliseconds, so neither step can overflow; checked
            // all the same, since the text is anyone's.
            let (part, productOverflow) = n.multipliedReportingOverflow(by: unit)
            let (sum, sumOverflow) = milliseconds.addingReportingOverflow(part)
            guard !productOverflow, !sumOverflow, sum <= maximumMilliseconds else { return nil }
            milliseconds = sum
            digits = ""
        }
        return digits.isEmpty ? .milliseconds(milliseconds) : nil
    }

    /// The way errors and logs show a duration: `1h30m`, `90s` → `1m30s`, `250ms`. Negative
    /// durations show as `0s`; durations past `Int64` milliseconds are clamped, never trapped on.
    package static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return "0s" }
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        var milliseconds = overflow ? Int64.max : whole &+ min(attoseconds / 1_000_000_000_000_000, Int64.max &- whole)
        if milliseconds == 0 { return "0s" }
        var text = ""
        for (unit, size) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)] {
            if milliseconds >= size {
                text += "\(milliseconds / size)\(unit)"
                milliseconds %= size
            }
        }
        return text
    }

    /// Whole seconds in `duration`, rounded down and clamped into `Int` (never a trap).
    package static func wholeSeconds(_ duration: Duration) -> Int {
        Int(clamping: duration.components.seconds)
    }
}
