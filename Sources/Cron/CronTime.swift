import Foundation

/// Reading instants written by people: ISO 8601 with or without an offset, and plain dates.
public enum CronTime {
    /// Parses `2024-03-09T12:00:00-05:00`, `2024-03-09T17:00:00Z`, `2024-03-09T12:00` or `2024-03-09`
    /// (a space may stand for `T`; seconds may carry a fraction, which is kept). Without an offset the
    /// time is read as wall time in `timeZone`; a time repeated by a fall-back reads as its first
    /// occurrence, a time skipped by spring-forward as the instant the gap ends.
    /// - Returns: seconds since the Unix epoch.
    /// - Throws: ``CronError`` with code `invalidTime` or `unknownTimeZone`.
    public static func parseInstant(_ text: String, timeZone: String = "UTC") throws(CronError) -> Double {
        let invalid = CronError(
            .invalidTime,
            "invalid time \(CronError.quote(text)): use ISO 8601 like 2024-03-09T12:00:00-05:00, 2024-03-09T17:00:00Z, "
                + "2024-03-09T12:00 (in the zone) or 2024-03-09")
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        func digits(_ n: Int) -> Int? {
            guard s.count >= n else { return nil }
            let head = s.prefix(n)
            guard head.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            s = s.dropFirst(n)
            return Int(head)
        }
        func literal(_ c: Character) -> Bool {
            guard s.first == c else { return false }
            s = s.dropFirst()
            return true
        }
        guard let year = digits(4), literal("-"), let month = digits(2), literal("-"), let day = digits(2),
            (1...12).contains(month), day >= 1, day <= CivilTime.daysInMonth(year: Int64(year), month: month)
        else { throw invalid }
        var hour = 0
        var minute = 0
        var second = 0
        var fraction = 0.0
        if literal("T") || literal("t") || literal(" ") {
            guard let h = digits(2), literal(":"), let m = digits(2), h < 24, m < 60 else { throw invalid }
            (hour, minute) = (h, m)
            if literal(":") {
                guard let sec = digits(2), sec < 60 else { throw invalid }
                second = sec
                if literal(".") || literal(",") {
                    let frac = s.prefix(while: { $0.isASCII && $0.isNumber })
                    guard !frac.isEmpty, frac.count <= 9 else { throw invalid }
                    fraction = Double("0." + frac) ?? 0
                    s = s.dropFirst(frac.count)
                }
            }
        }
        let local = LocalDateTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        let wall = local.localSeconds
        if s.isEmpty {
            guard let zone = ZoneRules.named(timeZone) else {
                throw CronError(.unknownTimeZone, CronExpression.unknownZone(timeZone))
            }
            return Double(resolve(wall, in: zone)) + fraction
        }
        if literal("Z") || literal("z") {
            guard s.isEmpty else { throw invalid }
            return Double(wall) + fraction
        }
        let sign: Int64
        if literal("+") { sign = 1 } else if literal("-") { sign = -1 } else { throw invalid }
        guard let oh = digits(2), oh <= 18 else { throw invalid }
        _ = literal(":")
        guard let om = digits(2), om < 60, s.isEmpty else { throw invalid }
        return Double(wall - sign * Int64(oh * 3600 + om * 60)) + fraction
    }

    /// The first instant whose wall time in `zone` is `wall`, or the end of the gap that skips it.
    static func resolve(_ wall: Int64, in zone: ZoneRules) -> Int64 {
        var segment = zone.segment(containing: wall - zone.offset(at: wall) - 2 * 86_400)
        while true {
            let instant = wall - segment.offset
            if instant >= segment.start && instant < segment.end { return instant }
            if instant < segment.start { return segment.start }
            segment = zone.segment(containing: segment.end)
        }
    }
}
