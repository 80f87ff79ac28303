import Foundation

/// How the API writes instants: ISO 8601 in UTC with milliseconds, `2024-03-10T03:00:00.123Z`.
/// What ``format(_:)`` writes, ``parse(_:)`` reads back to the same text.
public enum APITimestamp {
    /// `date` as the API writes it, to the nearest millisecond.
    public static func format(_ date: Date) -> String {
        // The format style cuts the fraction off; half a millisecond more rounds it instead, so that an
        // instant read from `….123Z` (a binary fraction just under it) is written `….123Z` again.
        date.addingTimeInterval(0.0005).formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// An instant the API wrote (with or without the milliseconds); `nil` for other text.
    public static func parse(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
            ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}
