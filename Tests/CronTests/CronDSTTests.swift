import Foundation
import Testing

@testable import Cron

@Suite("Time zones and DST: the docs/cron.md rules and vectors")
struct CronDSTTests {
    struct Vector: CustomTestStringConvertible, Sendable {
        var expression: String
        var zone: String
        var after: String  // wall time in `zone` unless it has an offset
        var fires: [String]  // UTC
        var options = CronExpression.Options()
        var testDescription: String { "\(expression) in \(zone) after \(after)" }
    }

    /// The table in docs/cron.md, "Vectors (America/New_York, 2024)".
    static let cronMD: [Vector] = [
        Vector(
            expression: "30 2 * * *", zone: "America/New_York", after: "2024-03-09T12:00",
            fires: ["2024-03-10T07:00:00Z", "2024-03-11T06:30:00Z"]),
        Vector(
            expression: "0,30 2 * * *", zone: "America/New_York", after: "2024-03-10T00:00",
            fires: ["2024-03-10T07:00:00Z", "2024-03-11T06:00:00Z"]),
        Vector(
            expression: "30 1 * * *", zone: "America/New_York", after: "2024-11-02T12:00",
            fires: ["2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z"]),
        Vector(
            expression: "30 * * * *", zone: "America/New_York", after: "2024-11-03T00:00",
            fires: ["2024-11-03T04:30:00Z", "2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z", "2024-11-03T07:30:00Z"]),
        Vector(
            expression: "30 * * * *", zone: "America/New_York", after: "2024-03-10T00:00",
            fires: ["2024-03-10T05:30:00Z", "2024-03-10T06:30:00Z", "2024-03-10T07:30:00Z", "2024-03-10T08:30:00Z"]),
        Vector(
            expression: "*/30 * * * *", zone: "America/New_York", after: "2024-11-03T00:45",
            fires: [
                "2024-11-03T05:00:00Z", "2024-11-03T05:30:00Z", "2024-11-03T06:00:00Z", "2024-11-03T06:30:00Z",
                "2024-11-03T07:00:00Z",
            ]),
    ]

    /// The zones docs/cron.md names, at their 2024 transitions (checked against the system tz database).
    static let zones: [Vector] = [
        // Midnight transitions: the midnight fire moves to the transition instant; a repeated midnight fires once.
        Vector(
            expression: "0 0 * * *", zone: "America/Santiago", after: "2024-09-07T12:00",
            fires: ["2024-09-08T04:00:00Z", "2024-09-09T03:00:00Z"]),
        Vector(
            expression: "30 23 * * *", zone: "America/Santiago", after: "2024-04-06T12:00",
            fires: ["2024-04-07T02:30:00Z", "2024-04-08T03:30:00Z"]),
        Vector(
            expression: "0 0 * * *", zone: "America/Havana", after: "2024-03-09T12:00",
            fires: ["2024-03-10T05:00:00Z", "2024-03-11T04:00:00Z"]),
        Vector(
            expression: "0 0 * * *", zone: "America/Havana", after: "2024-11-02T12:00",
            fires: ["2024-11-03T04:00:00Z", "2024-11-04T05:00:00Z"]),
        // Lord Howe: a 30-minute shift.
        Vector(
            expression: "15 2 * * *", zone: "Australia/Lord_Howe", after: "2024-10-05T12:00",
            fires: ["2024-10-05T15:30:00Z", "2024-10-06T15:15:00Z"]),
        Vector(
            expression: "15 2 * * *", zone: "Australia/Lord_Howe", after: "2024-10-05T12:00",
            fires: ["2024-10-05T15:45:00Z", "2024-10-06T15:15:00Z"], options: .init(dstGap: .shift)),
        Vector(
            expression: "45 1 * * *", zone: "Australia/Lord_Howe", after: "2024-04-06T12:00",
            fires: ["2024-04-06T14:45:00Z", "2024-04-07T15:15:00Z"]),
        Vector(
            expression: "45 1 * * *", zone: "Australia/Lord_Howe", after: "2024-04-06T12:00",
            fires: ["2024-04-06T15:15:00Z", "2024-04-07T15:15:00Z"], options: .init(dstFold: .last)),
        Vector(
            expression: "*/15 * * * *", zone: "Australia/Lord_Howe", after: "2024-04-07T01:20",
            fires: [
                "2024-04-06T14:30:00Z", "2024-04-06T14:45:00Z", "2024-04-06T15:00:00Z", "2024-04-06T15:15:00Z",
                "2024-04-06T15:30:00Z",
            ]),
        // Troll: a 2-hour shift; several nominal times in one gap coalesce into one fire.
        Vector(
            expression: "0,30 1,2 * * *", zone: "Antarctica/Troll", after: "2024-03-30T12:00",
            fires: ["2024-03-31T01:00:00Z", "2024-03-31T23:00:00Z"]),
        Vector(
            expression: "30 2 * * *", zone: "Antarctica/Troll", after: "2024-10-26T12:00",
            fires: ["2024-10-27T00:30:00Z", "2024-10-28T02:30:00Z"]),
        // Casablanca: the clock goes back for Ramadan and forward after it.
        Vector(
            expression: "30 2 * * *", zone: "Africa/Casablanca", after: "2024-03-09T12:00",
            fires: ["2024-03-10T01:30:00Z", "2024-03-11T02:30:00Z"]),
        Vector(
            expression: "30 2 * * *", zone: "Africa/Casablanca", after: "2024-04-13T12:00",
            fires: ["2024-04-14T02:00:00Z", "2024-04-15T01:30:00Z"]),
        // Sydney: southern hemisphere, spring in October.
        Vector(
            expression: "30 2 * * *", zone: "Australia/Sydney", after: "2024-10-05T12:00",
            fires: ["2024-10-05T16:00:00Z", "2024-10-06T15:30:00Z"]),
        Vector(
            expression: "30 2 * * *", zone: "Australia/Sydney", after: "2024-04-06T12:00",
            fires: ["2024-04-06T15:30:00Z", "2024-04-07T16:30:00Z"]),
        // UTC and a zone without DST.
        Vector(
            expression: "30 2 * * *", zone: "UTC", after: "2024-03-09T12:00",
            fires: ["2024-03-10T02:30:00Z", "2024-03-11T02:30:00Z"]),
        Vector(
            expression: "30 2 * * *", zone: "Asia/Kolkata", after: "2024-03-09T12:00",
            fires: ["2024-03-09T21:00:00Z", "2024-03-10T21:00:00Z"]),
    ]

    /// The per-schedule overrides and the corner where a gap fire meets a regular one.
    static let overrides: [Vector] = [
        Vector(
            expression: "30 2 * * *", zone: "America/New_York", after: "2024-03-09T12:00",
            fires: ["2024-03-10T07:30:00Z", "2024-03-11T06:30:00Z"], options: .init(dstGap: .shift)),
        Vector(
            expression: "30 2 * * *", zone: "America/New_York", after: "2024-03-09T12:00",
            fires: ["2024-03-11T06:30:00Z"], options: .init(dstGap: .skip)),
        Vector(
            expression: "0,30 2 * * *", zone: "America/New_York", after: "2024-03-10T00:00",
            fires: ["2024-03-10T07:00:00Z", "2024-03-10T07:30:00Z", "2024-03-11T06:00:00Z"],
            options: .init(dstGap: .shift)),
        Vector(
            expression: "0,30 2,3 * * *", zone: "America/New_York", after: "2024-03-10T00:00",
            fires: ["2024-03-10T07:00:00Z", "2024-03-10T07:30:00Z", "2024-03-11T06:00:00Z"]),
        Vector(
            expression: "0,30 2,3 * * *", zone: "America/New_York", after: "2024-03-10T00:00",
            fires: ["2024-03-10T07:00:00Z", "2024-03-10T07:30:00Z", "2024-03-11T06:00:00Z"],
            options: .init(dstGap: .shift)),
        Vector(
            expression: "30 1 * * *", zone: "America/New_York", after: "2024-11-02T12:00",
            fires: ["2024-11-03T06:30:00Z", "2024-11-04T06:30:00Z"], options: .init(dstFold: .last)),
        Vector(
            expression: "30 1 * * *", zone: "America/New_York", after: "2024-11-02T12:00",
            fires: ["2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z", "2024-11-04T06:30:00Z"],
            options: .init(dstFold: .both)),
        Vector(
            expression: "0 1-2 * * *", zone: "America/New_York", after: "2024-11-03T00:00",
            fires: ["2024-11-03T05:00:00Z", "2024-11-03T07:00:00Z", "2024-11-04T06:00:00Z"]),
    ]

    @Test("docs/cron.md vectors", arguments: cronMD)
    func cronMDVectors(_ v: Vector) throws { try check(v) }

    @Test("zones docs/cron.md names", arguments: zones)
    func zoneVectors(_ v: Vector) throws { try check(v) }

    @Test("overrides and merges", arguments: overrides)
    func overrideVectors(_ v: Vector) throws { try check(v) }

    func check(_ v: Vector) throws {
        #expect(
            try utcFires(v.expression, tz: v.zone, after: v.after, count: v.fires.count, options: v.options) == v.fires)
        // Walking back from the last fire gives the same fires in reverse.
        var options = v.options
        options.timeZone = v.zone
        let cron = try CronExpression(v.expression, options: options)
        let last = try CronTime.parseInstant(v.fires.last!, timeZone: v.zone)
        var back: [String] = []
        var cursor = Int64(last)
        for _ in 1..<v.fires.count {
            let fire = try #require(cron.previousFire(beforeUnixSeconds: cursor))
            back.append(CronFire.iso8601UTC(unixSeconds: fire.unixSeconds))
            cursor = fire.unixSeconds
        }
        #expect(back.reversed() == Array(v.fires.dropLast()))
    }

    @Test("a gap fire carries the earliest nominal time, the gap_shifted marker and a wall-time dedupe key")
    func gapFire() throws {
        let cron = try CronExpression("0,30 2 * * *", options: .init(timeZone: "America/New_York"))
        let fire = try #require(cron.nextFire(after: Date(timeIntervalSince1970: 1_710_046_800)))  // 03-10 00:00 EST
        #expect(fire.iso8601 == "2024-03-10T03:00:00-04:00")
        #expect(fire.nominal == LocalDateTime(year: 2024, month: 3, day: 10, hour: 2, minute: 0))
        #expect(fire.dst == .gapShifted)
        #expect(fire.dedupeKey == "2024-03-10T02:00")
    }

    @Test("a repeated wall time fires once, keyed by its wall time without offset")
    func foldKey() throws {
        let cron = try CronExpression("30 1 * * *", options: .init(timeZone: "America/New_York"))
        let first = try #require(cron.nextFire(afterUnixSeconds: 1_730_563_200))  // 2024-11-02T16:00Z
        #expect(first.iso8601 == "2024-11-03T01:30:00-04:00")
        #expect(first.dedupeKey == "2024-11-03T01:30")
        #expect(first.dst == .foldFirst)
        let next = try #require(cron.nextFire(afterUnixSeconds: first.unixSeconds))
        #expect(next.dedupeKey == "2024-11-04T01:30")

        let both = try CronExpression("30 1 * * *", options: .init(timeZone: "America/New_York", dstFold: .both))
        let keys = both.fires(after: Date(timeIntervalSince1970: 1_730_563_200)).prefix(2).map(\.dedupeKey)
        #expect(keys == ["2024-11-03T01:30:00-04:00", "2024-11-03T01:30:00-05:00"])
        #expect(Set(keys).count == 2)
    }

    @Test("interval-like schedules key fires by UTC instant, so both copies of a repeated hour fire")
    func intervalKeys() throws {
        let cron = try CronExpression("30 * * * *", options: .init(timeZone: "America/New_York"))
        let fires = Array(cron.fires(after: Date(timeIntervalSince1970: 1_730_606_400)).prefix(3))  // 04:00Z
        #expect(fires.map(\.dedupeKey) == ["2024-11-03T04:30:00Z", "2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z"])
        #expect(fires.map(\.dst) == [nil, .foldFirst, .foldSecond])
        #expect(fires[1].nominal == fires[2].nominal)
    }

    @Test("seconds appear in the dedupe key only when the fire has them")
    func secondsInKey() throws {
        let cron = try CronExpression("15 30 2 * * *", options: .init(timeZone: "Europe/Berlin"))
        #expect(cron.nextFire(afterUnixSeconds: 1_704_067_200)?.dedupeKey == "2024-01-01T02:30:15")
    }

    @Test("the local wall time and the offset of a fire are those of its instant")
    func localAndOffset() throws {
        let cron = try CronExpression("0 12 * * *", options: .init(timeZone: "Australia/Lord_Howe"))
        let fire = try #require(cron.nextFire(afterUnixSeconds: 1_704_067_200))
        #expect(fire.utcOffset == 39_600)
        #expect(fire.local == LocalDateTime(year: 2024, month: 1, day: 1, hour: 12))
        #expect(fire.iso8601 == "2024-01-01T12:00:00+11:00")
    }

    @Test("a schedule far in the future crosses centuries of transitions")
    func farFuture() throws {
        let cron = try CronExpression("0 0 29 2 1", options: .init(timeZone: "America/New_York", dayMatch: .and))
        // Feb 29 on a Monday: 2044, 2072, then 2112 (2100 is not a leap year).
        let fires = cron.fires(after: Date(timeIntervalSince1970: 2_240_524_800)).prefix(2).map(\.iso8601)  // 2041
        #expect(fires == ["2044-02-29T00:00:00-05:00", "2072-02-29T00:00:00-05:00"])
        let later = try #require(cron.nextFire(afterUnixSeconds: 3_224_520_000))  // 2072-03
        #expect(later.iso8601 == "2112-02-29T00:00:00-05:00")
    }

    @Test(
        "the zone table agrees with Foundation at every transition from 1970 to 2040",
        arguments: [
            "America/New_York", "Europe/London", "Australia/Lord_Howe", "Antarctica/Troll", "Africa/Casablanca",
            "America/Santiago", "Asia/Pyongyang", "Pacific/Apia", "America/Sao_Paulo", "Asia/Tehran",
        ])
    func zoneTable(_ name: String) throws {
        let zone = try #require(ZoneRules.named(name))
        let foundation = try #require(TimeZone(identifier: name))
        var t: Int64 = 0
        var checked = 0
        while t < 2_208_988_800 {
            #expect(zone.offset(at: t) == Int64(foundation.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t)))))
            let segment = zone.segment(containing: t)
            guard segment.end != .max else { break }
            #expect(zone.offset(at: segment.end - 1) == segment.offset)
            let middle = t / 2 + segment.end / 2
            #expect(
                segment.offset
                    == Int64(foundation.secondsFromGMT(for: Date(timeIntervalSince1970: Double(middle)))))
            t = segment.end
            checked += 1
        }
        #expect(checked > 0)
    }
}
