import Foundation
import Testing

@testable import Cron

@Suite("Cron syntax: every element of the dialect fires where docs/cron.md says")
struct CronSyntaxTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var expression: String
        var after = "2024-01-01T00:00:00Z"  // a Monday
        var fires: [String]
        var options = CronExpression.Options()
        var testDescription: String { expression }
    }

    static let cases: [Case] = [
        // *, steps, lists, ranges
        Case(
            expression: "*/15 * * * *", fires: ["2024-01-01T00:15:00Z", "2024-01-01T00:30:00Z", "2024-01-01T00:45:00Z"]),
        Case(
            expression: "10/20 * * * *",
            fires: ["2024-01-01T00:10:00Z", "2024-01-01T00:30:00Z", "2024-01-01T00:50:00Z", "2024-01-01T01:10:00Z"]),
        Case(
            expression: "0 9-17/4 * * *",
            fires: ["2024-01-01T09:00:00Z", "2024-01-01T13:00:00Z", "2024-01-01T17:00:00Z", "2024-01-02T09:00:00Z"]),
        Case(
            expression: "5,10 0 * * *", fires: ["2024-01-01T00:05:00Z", "2024-01-01T00:10:00Z", "2024-01-02T00:05:00Z"]),
        Case(expression: "0\t0  \t* * *", fires: ["2024-01-02T00:00:00Z"]),
        // 6 fields, seconds first
        Case(expression: "30 15 10 * * *", fires: ["2024-01-01T10:15:30Z", "2024-01-02T10:15:30Z"]),
        Case(
            expression: "*/20 * * * * *",
            fires: ["2024-01-01T00:00:20Z", "2024-01-01T00:00:40Z", "2024-01-01T00:01:00Z"]),
        // wrap-around ranges
        Case(
            expression: "0 22-2 * * *",
            fires: [
                "2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z", "2024-01-01T22:00:00Z", "2024-01-01T23:00:00Z",
                "2024-01-02T00:00:00Z",
            ]),
        Case(
            expression: "0 0 * * FRI-MON",
            fires: [
                "2024-01-05T00:00:00Z", "2024-01-06T00:00:00Z", "2024-01-07T00:00:00Z", "2024-01-08T00:00:00Z",
                "2024-01-12T00:00:00Z",
            ]),
        Case(
            expression: "0 0 1 NOV-FEB *",
            fires: ["2024-02-01T00:00:00Z", "2024-11-01T00:00:00Z", "2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z"]),
        Case(
            expression: "0 0 * * SAT-MON/2",
            fires: ["2024-01-06T00:00:00Z", "2024-01-08T00:00:00Z", "2024-01-13T00:00:00Z"]),
        // names, any case; 0 and 7 are Sunday
        Case(
            expression: "0 0 * * MON-FRI",
            fires: [
                "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z", "2024-01-05T00:00:00Z",
                "2024-01-08T00:00:00Z",
            ]),
        Case(expression: "0 0 1 jan,Feb *", fires: ["2024-02-01T00:00:00Z", "2025-01-01T00:00:00Z"]),
        Case(
            expression: "0 0 1 JAN-MAR/2 *",
            fires: ["2024-03-01T00:00:00Z", "2025-01-01T00:00:00Z", "2025-03-01T00:00:00Z"]),
        Case(expression: "0 0 * * 7", fires: ["2024-01-07T00:00:00Z", "2024-01-14T00:00:00Z"]),
        Case(expression: "0 0 * * 0", fires: ["2024-01-07T00:00:00Z", "2024-01-14T00:00:00Z"]),
        Case(
            expression: "0 0 * * 5-7",
            fires: ["2024-01-05T00:00:00Z", "2024-01-06T00:00:00Z", "2024-01-07T00:00:00Z", "2024-01-12T00:00:00Z"]),
        Case(expression: "0 0 * * 1-7", fires: ["2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"]),
        // ?
        Case(expression: "0 0 ? * SUN", fires: ["2024-01-07T00:00:00Z"]),
        Case(expression: "0 0 13 * ?", fires: ["2024-01-13T00:00:00Z", "2024-02-13T00:00:00Z"]),
        // L, L-n, nW, LW
        Case(
            expression: "0 0 L * *",
            fires: ["2024-01-31T00:00:00Z", "2024-02-29T00:00:00Z", "2024-03-31T00:00:00Z", "2024-04-30T00:00:00Z"]),
        Case(
            expression: "0 0 L-2 * *", fires: ["2024-01-29T00:00:00Z", "2024-02-27T00:00:00Z", "2024-03-29T00:00:00Z"]),
        Case(
            expression: "0 12 1,15,L * *",
            fires: ["2024-01-01T12:00:00Z", "2024-01-15T12:00:00Z", "2024-01-31T12:00:00Z", "2024-02-01T12:00:00Z"]),
        Case(
            expression: "0 0 15W * *",
            fires: [
                "2024-01-15T00:00:00Z", "2024-02-15T00:00:00Z", "2024-03-15T00:00:00Z", "2024-04-15T00:00:00Z",
                "2024-05-15T00:00:00Z", "2024-06-14T00:00:00Z",
            ]),
        Case(
            expression: "0 0 1W * *", after: "2024-05-31T00:00:00Z",
            fires: ["2024-06-03T00:00:00Z", "2024-07-01T00:00:00Z"]),
        Case(
            expression: "0 0 31W * *", after: "2024-03-01T00:00:00Z",
            fires: ["2024-03-29T00:00:00Z", "2024-05-31T00:00:00Z", "2024-07-31T00:00:00Z"]),
        Case(
            expression: "0 0 LW * *",
            fires: ["2024-01-31T00:00:00Z", "2024-02-29T00:00:00Z", "2024-03-29T00:00:00Z", "2024-04-30T00:00:00Z"]),
        // nL, n#k
        Case(
            expression: "0 0 * * 5L", fires: ["2024-01-26T00:00:00Z", "2024-02-23T00:00:00Z", "2024-03-29T00:00:00Z"]),
        Case(expression: "0 0 * * FRIL", fires: ["2024-01-26T00:00:00Z"]),
        Case(
            expression: "0 0 * * FRI#3",
            fires: ["2024-01-19T00:00:00Z", "2024-02-16T00:00:00Z", "2024-03-15T00:00:00Z"]),
        Case(
            expression: "0 0 * * 1#5", fires: ["2024-01-29T00:00:00Z", "2024-04-29T00:00:00Z", "2024-07-29T00:00:00Z"]),
        // day-of-month and day-of-week: OR by default, AND on request
        Case(
            expression: "0 0 13 * FRI",
            fires: ["2024-01-05T00:00:00Z", "2024-01-12T00:00:00Z", "2024-01-13T00:00:00Z", "2024-01-19T00:00:00Z"]),
        Case(
            expression: "0 0 13 * FRI",
            fires: ["2024-09-13T00:00:00Z", "2024-12-13T00:00:00Z", "2025-06-13T00:00:00Z"],
            options: .init(dayMatch: .and)),
        Case(expression: "0 0 29 2 *", fires: ["2024-02-29T00:00:00Z", "2028-02-29T00:00:00Z"]),
        // macros
        Case(expression: "@yearly", fires: ["2025-01-01T00:00:00Z"]),
        Case(expression: "@annually", fires: ["2025-01-01T00:00:00Z"]),
        Case(expression: "@monthly", fires: ["2024-02-01T00:00:00Z"]),
        Case(expression: "@weekly", fires: ["2024-01-07T00:00:00Z"]),
        Case(expression: "@daily", fires: ["2024-01-02T00:00:00Z"]),
        Case(expression: "@MIDNIGHT", fires: ["2024-01-02T00:00:00Z"]),
        Case(expression: "@hourly", fires: ["2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z"]),
        Case(expression: "@every 90s", fires: ["2024-01-01T00:01:30Z", "2024-01-01T00:03:00Z"]),
        Case(expression: "@every 1h30m", fires: ["2024-01-01T01:30:00Z", "2024-01-01T03:00:00Z"]),
        Case(
            expression: "@every 7m", after: "2024-01-01T00:00:00Z",
            fires: ["2024-01-01T00:01:00Z", "2024-01-01T00:08:00Z"]),
        // zone prefixes
        Case(expression: "CRON_TZ=America/New_York 0 2 * * *", fires: ["2024-01-01T07:00:00Z"]),
        Case(expression: "TZ=Asia/Kolkata 0 9 * * *", fires: ["2024-01-01T03:30:00Z"]),
    ]

    @Test("fires at the expected instants", arguments: cases)
    func fires(_ c: Case) throws {
        #expect(try utcFires(c.expression, after: c.after, count: c.fires.count, options: c.options) == c.fires)
    }

    @Test("@every is anchored to the Unix epoch, not to the start")
    func everyAnchor() throws {
        let cron = try CronExpression("@every 7m")
        for start in stride(from: Int64(1_700_000_000), to: 1_700_010_000, by: 977) {
            let fire = try #require(cron.nextFire(afterUnixSeconds: start))
            #expect(fire.unixSeconds % 420 == 0)
            #expect(fire.unixSeconds > start && fire.unixSeconds <= start + 420)
        }
    }

    @Test("@reboot never fires on the clock")
    func reboot() throws {
        let cron = try CronExpression("@reboot")
        #expect(cron.isReboot)
        #expect(cron.nextFire(after: Date()) == nil)
        #expect(cron.previousFire(before: Date()) == nil)
    }

    @Test("a zone prefix overrides the zone in the options")
    func prefixWins() throws {
        let cron = try CronExpression("CRON_TZ=Europe/Berlin 0 12 * * *", options: .init(timeZone: "America/New_York"))
        #expect(cron.timeZone == "Europe/Berlin")
        #expect(cron.nextFire(afterUnixSeconds: 1_704_067_200)?.unixSeconds == 1_704_106_800)  // 2024-01-01T11:00Z
    }

    @Test(
        "interval-like means the expanded hour set is the whole day",
        arguments: [
            ("*/5 * * * *", true), ("0 * * * *", true), ("0 */1 * * *", true), ("0 0-23 * * *", true),
            ("0 22-21 * * *", true), ("@every 10m", true), ("@hourly", true), ("0 */2 * * *", false),
            ("30 2 * * *", false), ("0 0-22 * * *", false), ("@daily", false),
        ])
    func intervalLike(_ expression: String, _ expected: Bool) throws {
        #expect(try CronExpression(expression).isIntervalLike == expected)
    }
}

@Suite("Jenkins H: hashed, stable, inside its range")
struct CronHashTests {
    func values(_ expression: String, seed: String, field: KeyPath<CronSpec, FieldSet>) throws -> [Int] {
        let cron = try CronExpression(expression, options: .init(seed: seed))
        guard case .calendar(let spec) = cron.kind else { throw CronError(.syntax, "not a calendar expression") }
        return spec[keyPath: field].members
    }

    @Test("the same seed gives the same values on every machine (pinned)")
    func pinned() throws {
        // These numbers are part of the contract: changing the hash moves every H schedule.
        #expect(try values("H H * * *", seed: "nightly-report", field: \.minutes) == [CronHashTests.pinnedMinute])
        #expect(try values("H H * * *", seed: "nightly-report", field: \.hours) == [CronHashTests.pinnedHour])
    }
    static let pinnedMinute = 39
    static let pinnedHour = 17

    @Test("H spreads different schedules over the range")
    func spreads() throws {
        var seen = Set<Int>()
        for i in 0..<200 {
            let v = try values("H * * * *", seed: "schedule-\(i)", field: \.minutes)
            #expect(v.count == 1 && (0...59).contains(v[0]))
            seen.formUnion(v)
        }
        #expect(seen.count > 40)
    }

    @Test("H(a-b), H/n, H(a-b)/n and H in day-of-month stay in range")
    func forms() throws {
        for i in 0..<100 {
            let seed = "s\(i)"
            let ranged = try values("H(0-29) * * * *", seed: seed, field: \.minutes)
            #expect(ranged.count == 1 && ranged[0] < 30)
            let stepped = try values("H/15 * * * *", seed: seed, field: \.minutes)
            #expect(
                stepped.count == 4 && stepped[0] < 15 && zip(stepped, stepped.dropFirst()).allSatisfy { $1 - $0 == 15 })
            let both = try values("H(10-40)/10 * * * *", seed: seed, field: \.minutes)
            #expect(both.first! >= 10 && both.first! < 20 && both.last! <= 40)
            let day = try values("0 0 H * *", seed: seed, field: \.daysOfMonth)
            #expect(day.count == 1 && (1...28).contains(day[0]))
            let weekday = try values("0 0 * * H", seed: seed, field: \.daysOfWeek)
            #expect(weekday.count == 1 && (0...6).contains(weekday[0]))
        }
    }

    @Test("without a seed the expression text is the seed")
    func textSeed() throws {
        let a = try CronExpression("H 1 * * *")
        let b = try CronExpression("H 1 * * *", options: .init(seed: "H 1 * * *"))
        #expect(a.nextFire(afterUnixSeconds: 0) == b.nextFire(afterUnixSeconds: 0))
        let others = try (0..<20).map { try CronExpression("H 1 * * *", options: .init(seed: "other-\($0)")) }
        #expect(others.contains { $0.nextFire(afterUnixSeconds: 0) != a.nextFire(afterUnixSeconds: 0) })
    }
}
