import Foundation

/// Durations as the files people write spell them: `250ms`, `90s`, `5m`, `1h30m`, `2d`, or a bare
/// number of seconds. Shared by the policies, workflow and schedule files.
package enum DurationText {
    /// Parses a duration; `nil` when the text is not one (empty, an unknown unit, a negative sign,
    /// a number over nine digits).
    package static func parse(_ text: String?) -> Duration? {
        guard let text = text?.trimmingCharacters(in: .whitespaces).lowercased(), !text.isEmpty else { return nil }
        if let seconds = Int(text), seconds >= 0, text.count <= 9 { return .seconds(seconds) }
        var milliseconds: Int64 = 0
        var digits = ""
        var rest = Substring(text)
        while let ch = rest.first {
            if ch.isASCII && ch.isNumber {
                digits.append(ch)
                rest = rest.dropFirst()
                continue
            }
            guard digits.count <= 9, let n = Int64(digits) else { return nil }
            if rest.hasPrefix("ms") {
                milliseconds += n
                rest = rest.dropFirst(2)
            } else {
                switch ch {
                case "d": milliseconds += n * 86_400_000
                case "h": milliseconds += n * 3_600_000
                case "m": milliseconds += n * 60_000
                case "s": milliseconds += n * 1000
                default: return nil
                }
                rest = rest.dropFirst()
            }
            digits = ""
        }
        return digits.isEmpty ? .milliseconds(milliseconds) : nil
    }

    /// The way errors and logs show a duration: `1h30m`, `90s` → `1m30s`, `250ms`.
    package static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        var milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
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
}
