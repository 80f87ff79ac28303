import Foundation
import SchedulerTesting
import Testing

@testable import Cron

// The property tests' ground truth for time: seeded randomness, zones and their transitions read
// from Foundation, and civil time written independently of the module.

// MARK: - Deterministic randomness

typealias PropertySplitMix64 = SplitMix64

enum PropertyConfig {
    static func environmentNumber(_ name: String) -> UInt64? {
        guard let text = ProcessInfo.processInfo.environment[name]?.trimmingCharacters(in: .whitespaces),
            !text.isEmpty
        else { return nil }
        if text.lowercased().hasPrefix("0x") { return UInt64(text.dropFirst(2), radix: 16) }
        return UInt64(text)
    }

    static let baseSeed: UInt64 = environmentNumber("CRON_PROPERTY_SEED") ?? 0x00C0_FFEE_2024_0310
    static let replaySeed: UInt64? = environmentNumber("CRON_PROPERTY_CASE_SEED")
    static let scale: Double = {
        guard let text = ProcessInfo.processInfo.environment["CRON_PROPERTY_SCALE"], let value = Double(text),
            value > 0
        else { return 1 }
        return value
    }()

    /// The seeds of the cases one test runs in one zone (or the single replayed seed).
    static func caseSeeds(test: UInt64, zone: String, count: Int) -> [UInt64] {
        if let replaySeed { return [replaySeed] }
        let zoneIndex = UInt64(PropertyZones.all.firstIndex(of: zone) ?? 99)
        let n = max(1, Int((Double(count) * scale).rounded()))
        return (0..<n).map { PropertySplitMix64.mix(baseSeed, test, zoneIndex, UInt64($0)) }
    }

    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
}

// MARK: - Zones and their transitions (Foundation)

struct Transition: Sendable, CustomStringConvertible {
    /// The first instant with the new offset.
    var instant: Int64
    var before: Int
    var after: Int
    var description: String { "\(Civil.isoUTC(instant)) \(before)s->\(after)s" }
}

enum PropertyZones {
    static let all = [
        "UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Antarctica/Troll", "Africa/Casablanca",
        "America/Santiago", "Australia/Sydney", "Asia/Kolkata",
    ]

    /// 1990-01-01T00:00:00Z and 2041-01-01T00:00:00Z: the range of start instants.
    static let firstStart: Int64 = 631_152_000
    static let endOfStarts: Int64 = 2_240_611_200

    /// Offset changes of each zone between 1990 and 2040, to bias start instants towards them.
    static let transitions: [String: [Transition]] = Dictionary(
        uniqueKeysWithValues: all.map { ($0, FoundationZone($0).transitions(from: firstStart, through: endOfStarts)) })
}

/// Wall-time facts computed with Foundation only: `Calendar.dateComponents` in the zone,
/// `TimeZone.secondsFromGMT(for:)` and `TimeZone.nextDaylightSavingTimeTransition(after:)`.
struct FoundationZone: Sendable {
    let identifier: String
    let timeZone: TimeZone
    let calendar: Calendar

    init(_ identifier: String) {
        self.identifier = identifier
        timeZone = TimeZone(identifier: identifier)!
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    func wall(_ t: Int64) -> Wall {
        let c = calendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second, .weekday], from: Date(timeIntervalSince1970: TimeInterval(t))
        )
        return Wall(
            year: c.year!, month: c.month!, day: c.day!, hour: c.hour!, minute: c.minute!, second: c.second!,
            weekday: c.weekday! - 1)
    }

    func offset(_ t: Int64) -> Int { timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(t))) }

    /// Offset changes with instants in `from...through`.
    func transitions(from: Int64, through: Int64) -> [Transition] {
        var result: [Transition] = []
        var cursor = Date(timeIntervalSince1970: TimeInterval(from - 1))
        while let next = timeZone.nextDaylightSavingTimeTransition(after: cursor),
            next.timeIntervalSince1970 <= TimeInterval(through)
        {
            let instant = Int64(next.timeIntervalSince1970.rounded(.down))
            let before = offset(instant - 1)
            let after = offset(instant)
            if before != after { result.append(Transition(instant: instant, before: before, after: after)) }
            guard next > cursor else { break }
            cursor = next
        }
        return result
    }

    /// The offsets in force within three days of `t`.
    func offsets(near t: Int64) -> Set<Int> {
        var offsets: Set<Int> = [offset(t)]
        for transition in transitions(from: t - 3 * 86_400, through: t + 3 * 86_400) {
            offsets.insert(transition.before)
            offsets.insert(transition.after)
        }
        return offsets
    }

    /// Every instant whose wall time is `wall`, given the offsets that can be in force around it.
    func occurrences(of wall: Wall, offsets: Set<Int>) -> [Int64] {
        let local = wall.localSeconds
        return offsets.map { local - Int64($0) }.filter { self.wall($0) == wall }.sorted()
    }
}

// MARK: - Civil time, written independently of the module

enum Civil {
    static func isLeap(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func monthLength(_ y: Int, _ m: Int) -> Int {
        [31, isLeap(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    }

    private static let daysBeforeMonth = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334]

    /// Days since 1970-01-01 (years 1 and later), by counting leap years.
    static func days(_ y: Int, _ m: Int, _ d: Int) -> Int64 {
        func leapYears(through year: Int) -> Int { year / 4 - year / 100 + year / 400 }
        let yearDays = 365 * (y - 1970) + leapYears(through: y - 1) - leapYears(through: 1969)
        return Int64(yearDays + daysBeforeMonth[m - 1] + (m > 2 && isLeap(y) ? 1 : 0) + d - 1)
    }

    /// 0 = Sunday; 1970-01-01 was a Thursday.
    static func weekday(_ days: Int64) -> Int { Int(((days % 7) + 7 + 4) % 7) }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    static func wall(localSeconds ls: Int64) -> Wall {
        let dayNumber = floorDiv(ls, 86_400)
        let rest = Int(ls - dayNumber * 86_400)
        var y = 1970 + Int(floorDiv(dayNumber, 366))
        while days(y + 1, 1, 1) <= dayNumber { y += 1 }
        while days(y, 1, 1) > dayNumber { y -= 1 }
        var m = 12
        while days(y, m, 1) > dayNumber { m -= 1 }
        let d = Int(dayNumber - days(y, m, 1)) + 1
        return Wall(
            year: y, month: m, day: d, hour: rest / 3600, minute: rest / 60 % 60, second: rest % 60,
            weekday: weekday(dayNumber))
    }

    static func pad(_ v: Int, _ width: Int = 2) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    static func isoUTC(_ t: Int64) -> String { wall(localSeconds: t).iso(seconds: true) + "Z" }
}

/// A wall-clock time; equality ignores `weekday`, which is derived.
struct Wall: Hashable, Comparable, CustomStringConvertible {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int
    /// 0 = Sunday … 6 = Saturday.
    var weekday: Int

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second, self.weekday) =
            (year, month, day, hour, minute, second, weekday)
    }

    init(_ local: LocalDateTime) {
        self.init(
            year: local.year, month: local.month, day: local.day, hour: local.hour, minute: local.minute,
            second: local.second, weekday: Civil.weekday(Civil.days(local.year, local.month, local.day)))
    }

    var localSeconds: Int64 {
        Civil.days(year, month, day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    var local: LocalDateTime {
        LocalDateTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    }

    func iso(seconds: Bool) -> String {
        var s = Civil.pad(year, 4) + "-" + Civil.pad(month) + "-" + Civil.pad(day)
        s += "T" + Civil.pad(hour) + ":" + Civil.pad(minute)
        return seconds ? s + ":" + Civil.pad(second) : s
    }

    var description: String { iso(seconds: true) }

    static func == (a: Wall, b: Wall) -> Bool { a.localSeconds == b.localSeconds }
    func hash(into hasher: inout Hasher) { hasher.combine(localSeconds) }
    static func < (a: Wall, b: Wall) -> Bool { a.localSeconds < b.localSeconds }
}
