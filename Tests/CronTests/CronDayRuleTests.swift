import Foundation
import SchedulerTesting
import Testing

@testable import Cron

/// Vixie cron's day rule, as cronie, macOS cron and most cron libraries follow it: a day field that
/// begins with `*` is a wildcard for the rule, so the other day field must match too.
@Suite("Cron: a day field that begins with * is a wildcard for the day rule")
struct CronDayRuleTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var expression: String
        /// Wall time in the zone, without an offset.
        var after: String
        /// The first fire's wall date and time under Vixie's rule and under the `or` reading.
        var vixie: String
        var or: String
        var testDescription: String { expression }
    }

    static let rows = [
        Row(expression: "0 0 */2 * 1", after: "2024-12-31T23:59", vixie: "2025-01-13T00:00", or: "2025-01-01T00:00"),
        Row(expression: "0 0 15 * */3", after: "2024-12-31T23:59", vixie: "2025-01-15T00:00", or: "2025-01-01T00:00"),
        Row(expression: "30 2 L */3 */2", after: "2024-10-25T20:47", vixie: "2024-10-31T02:30", or: "2024-10-26T02:30"),
    ]

    /// The first fire's wall time in `zone`, `yyyy-MM-ddTHH:mm`.
    static func first(_ row: Row, zone: String, match: CronExpression.DayMatch) throws -> String {
        let cron = try CronExpression(row.expression, options: .init(timeZone: zone, dayMatch: match))
        let start = try CronTime.parseInstant(row.after, timeZone: zone)
        let fire = try #require(cron.nextFire(after: Date(timeIntervalSince1970: start)))
        return String(fire.iso8601.prefix(16))
    }

    @Test("the vectors: Vixie by default, the old reading with day_match or", arguments: rows)
    func vectors(_ row: Row) throws {
        for zone in ["UTC", "America/New_York", "Europe/Berlin"] {
            #expect(try Self.first(row, zone: zone, match: .vixie) == row.vixie, "\(zone)")
            #expect(try Self.first(row, zone: zone, match: .or) == row.or, "\(zone)")
            #expect(try CronExpression(row.expression).dayRuleDiffersFromOr)
        }
    }

    @Test("the text alone says which expressions read differently, exactly as their parse does")
    func differsFromText() throws {
        let texts =
            [
                "0 0 */2 * 1", "0 0 15 * */3", "0 0 *,15 * 1", "0 0 */2 * */3", "0 0 ? * */2", "0 0 1,* * 1",
                "0 0 1 * 1",
                "0 0 * * 1", "0 0 */2 * *", "0 0 ? * MON", "@weekly", "@monthly", "@daily", "@every 90s", "@reboot",
                "30 0 0 */2 * 1", "0 0 0 * * *", "CRON_TZ=Europe/Berlin 0 9 */2 * 1-5", "TZ=UTC 0 0 0 */3 * MON",
                "CRON_TZ=UTC 0 0 1 * *", "0\t0\t*/2\t*\t1", "  0 0 */2 * 1  ", "0 0 L * */2", "H H */2 * H",
            ] + Self.rows.map(\.expression)
        for text in texts {
            #expect(
                CronExpression.dayRuleMayDifferFromOr(text) == (try CronExpression(text).dayRuleDiffersFromOr),
                "\(text)")
        }
    }

    @Test("which expressions read differently under the two rules")
    func differs() throws {
        for text in ["0 0 */2 * 1", "0 0 15 * */3", "0 0 *,15 * 1", "0 0 */2 * */3", "0 0 ? * */2"] {
            let differs = try CronExpression(text).dayRuleDiffersFromOr
            #expect(differs == (text != "0 0 ? * */2"), "\(text)")
        }
        // `1,*` does not begin with `*`: both fields are restricted, either matches, under both rules.
        for text in ["0 0 1,* * 1", "0 0 1 * 1", "0 0 * * 1", "0 0 */2 * *", "0 0 ? * MON", "@weekly", "@monthly"] {
            #expect(try !CronExpression(text).dayRuleDiffersFromOr, "\(text)")
        }
        // Macros keep their meaning: @weekly is 0 0 * * 0.
        let weekly = try utcFires("@weekly", after: "2024-01-01T00:00", count: 3)
        #expect(weekly == (try utcFires("0 0 * * 0", after: "2024-01-01T00:00", count: 3)))
        // `1,*` stays restricted, so either field may match: its list covers every day, so every day
        // fires (under `and` only the Mondays would).
        let list = try utcFires("0 0 1,* * 1", after: "2024-01-31T00:00", count: 2)
        #expect(list == ["2024-02-01T00:00:00Z", "2024-02-02T00:00:00Z"])
        // `and` still requires both, `*` alone still matches every day.
        #expect(
            try utcFires("0 0 */2 * 1", after: "2024-12-31T23:59", count: 1, options: .init(dayMatch: .and))
                == ["2025-01-13T00:00:00Z"])
    }

    /// `*/n` in one day field and the explicit list it stands for give the same fires when the other
    /// day field is `*`: the step is only a short way of writing the list.
    @Test("property: */n and its explicit list fire alike when the other day field is *")
    func stepEqualsList() throws {
        var rng = SplitMix64(seed: 0xDA7_2026_1204)
        for _ in 0..<400 {
            let domSide = rng.chance(0.5)
            let n = rng.int(1...(domSide ? 12 : 7))
            let start = domSide ? 1 : 0
            let end = domSide ? 31 : 6
            let list = stride(from: start, through: end, by: n).map(String.init).joined(separator: ",")
            let other = rng.pick(["*", "?"])
            let (stepped, listed) =
                domSide
                ? ("0 0 */\(n) * \(other)", "0 0 \(list) * \(other)")
                : ("0 0 \(other) * */\(n)", "0 0 \(other) * \(list)")
            let zone = rng.pick(["UTC", "America/New_York", "Australia/Lord_Howe"])
            let after = "20\(rng.int(10...40))-\(String(format: "%02d", rng.int(1...12)))-01T00:00"
            let a = try utcFires(stepped, tz: zone, after: after, count: 40)
            let b = try utcFires(listed, tz: zone, after: after, count: 40)
            #expect(a == b, "\(stepped) vs \(listed) in \(zone) after \(after)")
        }
    }
}
