import Foundation

/// How the pages write times and durations: wall times in the daemon's time zone
/// (`2026-12-05 09:14:03`), durations short and rounded (`350 ms`, `1.2 s`, `4 min 05 s`).
struct PageFormat: Sendable {
    /// The zone the pages' times are in.
    let zone: TimeZone
    private let calendar: Calendar

    /// Times in `zone` (the daemon's own, unless a test fixes one).
    init(zone: TimeZone = .current) {
        self.zone = zone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        self.calendar = calendar
    }

    /// The zone's name for the footer (`Europe/Berlin`, `UTC`).
    var zoneName: String { zone.identifier }

    /// `2026-12-05 09:14:03`.
    func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return
            "\(c.year ?? 0)-\(Self.two(c.month))-\(Self.two(c.day)) \(Self.two(c.hour)):\(Self.two(c.minute)):\(Self.two(c.second))"
    }

    /// Midnight of `date`'s day in the zone: where "today" starts.
    func startOfDay(_ date: Date) -> Date { calendar.startOfDay(for: date) }

    /// `350 ms`, `1.2 s`, `42 s`, `4 min 05 s`, `2 h 03 min`; `—` for none.
    static func duration(milliseconds ms: Double?) -> String {
        guard let ms, ms.isFinite else { return "—" }
        let value = max(0, ms)
        if value < 1000 { return "\(Int(value.rounded())) ms" }
        let seconds = value / 1000
        if seconds < 10 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole) s" }
        if whole < 3600 { return "\(whole / 60) min \(two(whole % 60)) s" }
        if whole < 86_400 { return "\(whole / 3600) h \(two(whole % 3600 / 60)) min" }
        return "\(whole / 86_400) d \(whole % 86_400 / 3600) h"
    }

    /// The duration from `start` to `end`.
    static func duration(from start: Date?, to end: Date?) -> String {
        guard let start, let end else { return "—" }
        return duration(milliseconds: end.timeIntervalSince(start) * 1000)
    }

    /// `in 4 min 05 s` / `due now`.
    static func within(_ seconds: Double) -> String {
        seconds <= 0.5 ? "due now" : "in " + duration(milliseconds: seconds * 1000)
    }

    /// JSON text indented for reading, keys sorted; the text itself when it does not read as JSON.
    static func prettyJSON(_ text: String?) -> String? {
        guard let text else { return nil }
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(
                withJSONObject: value,
                options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        else { return text }
        return String(decoding: data, as: UTF8.self)
    }

    /// The last 8 characters of an id: enough to tell runs apart in a table.
    static func short(_ id: String) -> String { "…" + id.suffix(8) }

    private static func two(_ value: Int?) -> String {
        let value = value ?? 0
        return value < 10 ? "0\(value)" : "\(value)"
    }
}
