import Foundation
import SchedulerTesting
import Testing

@testable import Cron

// Property tests for the cron engine (docs/cron.md): thousands of random expressions covering every element
// of the dialect, evaluated in zones with unusual DST rules from start instants biased towards DST
// transitions, checked against an oracle that shares no code with the module. The oracle computes wall
// times with Foundation's `Calendar` and decides what should fire from docs/cron.md's rules.
//
// Everything random comes from a seeded SplitMix64, so every failure message carries the case seed,
// expression, options, zone and start instant needed to reproduce it. Set `CRON_PROPERTY_SEED` (decimal or
// 0x-hex) to explore other seeds, `CRON_PROPERTY_CASE_SEED` to re-run the single case a failure message
// names, and `CRON_PROPERTY_SCALE` (a factor, default 1) to run more or fewer cases.

// MARK: - Deterministic randomness

fileprivate typealias PropertySplitMix64 = SplitMix64

fileprivate enum PropertyConfig {
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

fileprivate struct Transition: Sendable, CustomStringConvertible {
    /// The first instant with the new offset.
    var instant: Int64
    var before: Int
    var after: Int
    var description: String { "\(Civil.isoUTC(instant)) \(before)s->\(after)s" }
}

fileprivate enum PropertyZones {
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
fileprivate struct FoundationZone: Sendable {
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

fileprivate enum Civil {
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
fileprivate struct Wall: Hashable, Comparable, CustomStringConvertible {
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

// MARK: - The model of an expression (what docs/cron.md says it matches)

fileprivate enum FieldKind: Int, CaseIterable, Sendable {
    case second, minute, hour, dayOfMonth, month, dayOfWeek

    var bounds: ClosedRange<Int> {
        switch self {
        case .second, .minute: 0...59
        case .hour: 0...23
        case .dayOfMonth: 1...31
        case .month: 1...12
        case .dayOfWeek: 0...7
        }
    }

    /// The values `*` stands for, and the cycle a wrapping range goes round (Sunday once).
    var cycle: ClosedRange<Int> { self == .dayOfWeek ? 0...6 : bounds }
}

fileprivate struct DayRule: Sendable {
    var domRestricted = false
    var dowRestricted = false
    var days = Set<Int>()
    /// `L-n` (0 is plain `L`).
    var lastOffsets = Set<Int>()
    /// `nW`.
    var nearestWeekdays = Set<Int>()
    /// `LW`.
    var lastWeekdayOfMonth = false
    /// Weekdays 0-6.
    var weekdays = Set<Int>()
    /// `wL`.
    var lastWeekdays = Set<Int>()
    /// `w#k` as `w * 10 + k`.
    var nth = Set<Int>()
    /// A day field that is `?` or begins with `*`: a wildcard for Vixie cron's day rule.
    var domStar = true
    var dowStar = true
    var match: CronExpression.DayMatch = .vixie

    init() {}

    init(dom: FieldPart, dow: FieldPart, match: CronExpression.DayMatch) {
        (domRestricted, days, lastOffsets) = (dom.restricted, dom.values, dom.lastOffsets)
        (nearestWeekdays, lastWeekdayOfMonth) = (dom.nearestWeekdays, dom.lastWeekdayOfMonth)
        (dowRestricted, weekdays) = (dow.restricted, Set(dow.values.map { $0 % 7 }))
        (lastWeekdays, nth, self.match) = (dow.lastWeekdays, dow.nth, match)
        domStar = dom.text == "?" || dom.text.hasPrefix("*")
        dowStar = dow.text == "?" || dow.text.hasPrefix("*")
    }

    func matches(_ w: Wall) -> Bool {
        let length = Civil.monthLength(w.year, w.month)
        func weekday(ofDay d: Int) -> Int { ((w.weekday + d - w.day) % 7 + 7) % 7 }
        /// The weekday nearest day n without leaving the month (Saturday → Friday, or Monday when n is
        /// the 1st; Sunday → Monday, or Friday when n is the last day); none when the month is shorter.
        func nearestWeekday(_ n: Int) -> Int? {
            guard n <= length else { return nil }
            switch weekday(ofDay: n) {
            case 6: return n > 1 ? n - 1 : n + 2
            case 0: return n < length ? n + 1 : n - 2
            default: return n
            }
        }
        var dom = false
        if domRestricted {
            dom =
                days.contains(w.day) || lastOffsets.contains(length - w.day)
                || nearestWeekdays.contains { nearestWeekday($0) == w.day }
            if lastWeekdayOfMonth {
                let last = weekday(ofDay: length)
                dom = dom || w.day == (last == 6 ? length - 1 : last == 0 ? length - 2 : length)
            }
        }
        var dow = false
        if dowRestricted {
            dow =
                weekdays.contains(w.weekday) || (lastWeekdays.contains(w.weekday) && w.day + 7 > length)
                || nth.contains(w.weekday * 10 + (w.day - 1) / 7 + 1)
        }
        // Written as the rule reads: either field, or both (a field that narrows nothing is true).
        if !domRestricted { dom = true }
        if !dowRestricted { dow = true }
        let either: Bool
        switch match {
        case .vixie: either = !domStar && !dowStar
        case .or: either = domRestricted && dowRestricted
        case .and: either = false
        }
        return either ? dom || dow : dom && dow
    }
}

fileprivate struct CalendarModel: Sendable {
    var seconds: Set<Int> = [0]
    var minutes = Set<Int>()
    var hours = Set<Int>()
    var months = Set<Int>()
    var day = DayRule()

    /// docs/cron.md rule 1: the expanded hour set is all 24 hours.
    var isIntervalLike: Bool { hours.count == 24 }

    func dayMatches(_ w: Wall) -> Bool { months.contains(w.month) && day.matches(w) }

    func matches(_ w: Wall) -> Bool {
        seconds.contains(w.second) && minutes.contains(w.minute) && hours.contains(w.hour) && dayMatches(w)
    }

    /// Whether any date of a 400-year Gregorian cycle matches (the time fields are never empty).
    var firesAtAll: Bool {
        for year in 2000..<2400 {
            for month in months.sorted() {
                let first = Civil.weekday(Civil.days(year, month, 1))
                for day in 1...Civil.monthLength(year, month) {
                    let w = Wall(
                        year: year, month: month, day: day, hour: 0, minute: 0, second: 0,
                        weekday: (first + day - 1) % 7)
                    if self.day.matches(w) { return true }
                }
            }
        }
        return false
    }
}

fileprivate enum Model {
    case calendar(CalendarModel)
    case every(Int64)
}

fileprivate struct Generated: CustomStringConvertible {
    var text: String
    var options: CronExpression.Options
    /// The zone the expression is evaluated in (its prefix's, or the options').
    var zone: String
    var model: Model
    /// `H` items by field, resolved after parsing (their values depend on the hash seed).
    var hItems: [(field: FieldKind, item: String)] = []
    var sixFields = false

    var description: String {
        let seed = options.seed.map { "\"\($0)\"" } ?? "nil"
        return "expr=\(text.debugDescription) options.timeZone=\(options.timeZone) effectiveZone=\(zone) "
            + "dayMatch=\(options.dayMatch) dstGap=\(options.dstGap) dstFold=\(options.dstFold) seed=\(seed)"
    }

    /// The `H` hash seed: the schedule id, or the (trimmed) expression text.
    var hashSeed: String { options.seed ?? text.trimmingCharacters(in: .whitespacesAndNewlines) }
}

// MARK: - Random expressions

fileprivate struct FieldPart {
    var text = ""
    var values = Set<Int>()
    var restricted = true
    var lastOffsets = Set<Int>()
    var nearestWeekdays = Set<Int>()
    var lastWeekdayOfMonth = false
    var lastWeekdays = Set<Int>()
    var nth = Set<Int>()
    var hItems: [String] = []
}

fileprivate struct ExpressionGenerator {
    var rng: PropertySplitMix64
    /// Favour expressions that fire often (for the brute-force scan over a few days).
    var dense = false
    /// Chance that a list item is a day special (`L`, `L-n`, `nW`, `LW`, `nL`, `n#k`) where one is allowed.
    var specialChance = 0.0

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    init(seed: UInt64, dense: Bool = false) {
        rng = PropertySplitMix64(seed: seed)
        self.dense = dense
    }

    mutating func cased(_ name: String) -> String {
        switch rng.int(0...3) {
        case 0: name.lowercased()
        case 1: String(name.prefix(1)) + name.dropFirst().lowercased()
        default: name
        }
    }

    /// A number, or a month/day name for it.
    mutating func text(_ f: FieldKind, _ v: Int) -> String {
        if f == .month && rng.chance(0.35) { return cased(Self.monthNames[v - 1]) }
        if f == .dayOfWeek && v <= 6 && rng.chance(0.35) { return cased(Self.dayNames[v]) }
        if v < 10 && rng.chance(0.03) { return "0\(v)" }
        return String(v)
    }

    /// A value biased towards the hours and days where DST and month ends happen.
    mutating func value(_ f: FieldKind) -> Int {
        switch f {
        case .hour: rng.chance(0.5) ? rng.pick([0, 1, 2, 3, 22, 23]) : rng.int(0...23)
        case .minute, .second: rng.chance(0.4) ? rng.pick([0, 15, 30, 45, 59]) : rng.int(0...59)
        case .dayOfMonth: rng.chance(0.3) ? rng.pick([1, 28, 29, 30, 31]) : rng.int(1...31)
        case .month: rng.int(1...12)
        case .dayOfWeek: rng.int(0...7)
        }
    }

    mutating func step(_ f: FieldKind) -> Int {
        let span = f.cycle.count
        if rng.chance(0.6) { return rng.pick([1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30].filter { $0 <= span }) }
        return rng.int(1...span)
    }

    /// `a, a+step, …` along `a…b`, going round the field's cycle when `a > b`.
    static func sequence(_ f: FieldKind, _ a: Int, _ b: Int, step: Int) -> [Int] {
        let run: [Int] = a <= b ? Array(a...b) : Array(a...f.cycle.upperBound) + Array(f.cycle.lowerBound...b)
        return stride(from: 0, to: run.count, by: step).map { run[$0] }
    }

    /// Range ends: `a <= b`, or `a > b` (wrapping). Day-of-week 7 only ends a plain range.
    mutating func rangeEnds(_ f: FieldKind, wrap: Bool) -> (Int, Int) {
        if f == .dayOfWeek {
            if wrap {
                let a = rng.int(1...6)
                return (a, rng.int(0...a - 1))
            }
            let a = rng.int(0...6)
            return (a, rng.int(a...7))
        }
        let (low, high) = (f.bounds.lowerBound, f.bounds.upperBound)
        if wrap {
            let a = f == .hour && rng.chance(0.5) ? rng.pick([20, 21, 22, 23]) : rng.int(low + 1...high)
            return (a, rng.int(low...a - 1))
        }
        let a = value(f)
        return (a, rng.int(a...high))
    }

    mutating func item(_ f: FieldKind, _ part: inout FieldPart) -> String {
        let roll = rng.chance(specialChance) ? 99 : rng.int(0...99)
        switch roll {
        case 0..<32:
            let v = value(f)
            part.values.insert(v)
            return text(f, v)
        case 32..<47, 47..<55:
            let (a, b) = rangeEnds(f, wrap: roll >= 47)
            part.values.formUnion(Self.sequence(f, a, b, step: 1))
            return text(f, a) + "-" + text(f, b)
        case 55..<63:
            let n = step(f)
            part.values.formUnion(Self.sequence(f, f.cycle.lowerBound, f.cycle.upperBound, step: n))
            return "*/\(n)"
        case 63..<70:
            let (a, b) = rangeEnds(f, wrap: rng.chance(0.3))
            let n = step(f)
            part.values.formUnion(Self.sequence(f, a, b, step: n))
            return text(f, a) + "-" + text(f, b) + "/\(n)"
        case 70..<76:
            // `a/n`: a to the field's maximum. In day-of-week, docs/cron.md's maximum is 7 (Sunday) while the
            // module stops at 6; that disagreement has its own test below, so only unambiguous cases here.
            let n = step(f)
            var a = value(f)
            if f == .dayOfWeek {
                a = rng.int(0...6)
                if (7 - a) % n == 0 {
                    part.values.formUnion(Self.sequence(f, 0, 6, step: n))
                    return "*/\(n)"
                }
            }
            part.values.formUnion(Self.sequence(f, a, f.cycle.upperBound, step: n))
            return text(f, a) + "/\(n)"
        case 76..<84:
            let (low, high) = f == .dayOfWeek ? (0, 6) : (f.bounds.lowerBound, f.bounds.upperBound)
            let a = rng.int(low...high)
            let range = "(\(a)-\(rng.int(a...high)))"
            let item: String
            switch rng.int(0...3) {
            case 0: item = "H"
            case 1: item = "H" + range
            case 2: item = "H/\(step(f))"
            default: item = "H" + range + "/\(step(f))"
            }
            part.hItems.append(item)
            return item
        default:
            if f == .dayOfMonth {
                switch rng.int(0...3) {
                case 0:
                    part.lastOffsets.insert(0)
                    return "L"
                case 1:
                    let n = rng.chance(0.5) ? rng.int(0...3) : rng.int(0...30)
                    part.lastOffsets.insert(n)
                    return "L-\(n)"
                case 2:
                    let n = rng.chance(0.4) ? rng.pick([1, 2, 15, 28, 29, 30, 31]) : rng.int(1...31)
                    part.nearestWeekdays.insert(n)
                    return "\(n)W"
                default:
                    part.lastWeekdayOfMonth = true
                    return "LW"
                }
            }
            if f == .dayOfWeek {
                let w = rng.int(0...7)
                if rng.chance(0.5) {
                    part.lastWeekdays.insert(w % 7)
                    return "\(w)L"
                }
                let k = rng.int(1...5)
                part.nth.insert(w % 7 * 10 + k)
                return text(f, w) + "#\(k)"
            }
            let v = value(f)
            part.values.insert(v)
            return text(f, v)
        }
    }

    mutating func field(_ f: FieldKind, starChance: Double) -> FieldPart {
        var part = FieldPart()
        if rng.chance(starChance) {
            part.restricted = false
            part.values = Set(f.cycle)
            part.text = (f == .dayOfMonth || f == .dayOfWeek) && rng.chance(0.25) ? "?" : "*"
            return part
        }
        if f == .hour && rng.chance(0.08) {
            // Other spellings of all 24 hours: still interval-like.
            part.values = Set(0...23)
            part.text = rng.pick(["*/1", "0-23", "5-4", "0-11,12-23", "23-22", "0/1"])
            return part
        }
        let count = rng.chance(0.6) ? 1 : (rng.chance(0.75) ? 2 : 3)
        part.text = (0..<count).map { _ in item(f, &part) }.joined(separator: ",")
        return part
    }

    mutating func separator() -> String { rng.chance(0.85) ? " " : rng.pick(["  ", "\t", " \t ", "   "]) }

    mutating func options(zone: String) -> (CronExpression.Options, prefix: String) {
        var options = CronExpression.Options(timeZone: zone)
        options.dayMatch = rng.chance(0.5) ? .vixie : (rng.chance(0.5) ? .and : .or)
        options.dstGap = rng.chance(0.6) ? .coalesce : (rng.chance(0.5) ? .shift : .skip)
        options.dstFold = rng.chance(0.6) ? .first : (rng.chance(0.5) ? .last : .both)
        if rng.chance(0.2) { options.seed = "job-\(rng.int(0...9999))" }
        switch rng.int(0...99) {
        case 0..<12:
            options.timeZone = rng.pick(["UTC", "Asia/Tokyo", "America/Los_Angeles"])
            return (options, "CRON_TZ=\(zone)" + separator())
        case 12..<17:
            options.timeZone = rng.pick(["UTC", "Asia/Tokyo"])
            return (options, "TZ=\(zone)" + separator())
        default:
            return (options, "")
        }
    }

    mutating func every() -> (String, Int64) {
        if rng.chance(0.5) {
            let (text, seconds): (String, Int64) = rng.pick([
                ("1s", 1), ("7s", 7), ("45s", 45), ("90s", 90), ("1m", 60), ("5m", 300), ("15m", 900), ("45m", 2700),
                ("1h", 3600), ("90m", 5400), ("1h30m", 5400), ("2h", 7200), ("7h", 25_200), ("1d", 86_400),
                ("36h", 129_600), ("1h1m1s", 3661), ("2d3h", 183_600),
            ])
            return (text, seconds)
        }
        var text = ""
        var total: Int64 = 0
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60), ("s", 1)] where rng.chance(0.45) {
            let n = rng.int(0...(unit == "d" ? 3 : 100))
            text += "\(n)\(unit)"
            total += Int64(n) * size
        }
        if total == 0 {
            let n = rng.int(1...600)
            text += "\(n)s"
            total += Int64(n)
        }
        return (text, total)
    }

    /// A random valid expression in `zone`, with its model. `sixFields`: chance of a seconds field.
    mutating func expression(zone: String, sixFields: Double = 0.2, macros: Double = 0.08) -> Generated {
        let (options, prefix) = self.options(zone: zone)
        let lead = rng.chance(0.05) ? rng.pick([" ", "\t", "\n "]) : ""
        let trail = rng.chance(0.05) ? rng.pick([" ", "\t", " \n"]) : ""

        if rng.chance(macros) {
            let macro = rng.pick([
                "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@every", "@every",
            ])
            if macro == "@every" {
                let (duration, seconds) = every()
                return Generated(
                    text: lead + prefix + "@every" + separator() + duration + trail, options: options, zone: zone,
                    model: .every(seconds))
            }
            var model = CalendarModel()
            model.minutes = [0]
            model.hours = macro == "@hourly" ? Set(0...23) : [0]
            model.months = macro == "@yearly" || macro == "@annually" ? [1] : Set(1...12)
            switch macro {
            case "@yearly", "@annually", "@monthly":
                model.day.domRestricted = true
                model.day.domStar = false
                model.day.days = [1]
            case "@weekly":
                model.day.dowRestricted = true
                model.day.dowStar = false
                model.day.weekdays = [0]
            default: break
            }
            model.day.match = options.dayMatch
            return Generated(
                text: lead + prefix + macro + trail, options: options, zone: zone, model: .calendar(model))
        }

        let six = rng.chance(sixFields)
        let stars: [FieldKind: Double] =
            dense
            ? [.second: 0.1, .minute: 0.15, .hour: 0.3, .dayOfMonth: 0.8, .month: 0.85, .dayOfWeek: 0.8]
            : [.second: 0.2, .minute: 0.25, .hour: 0.3, .dayOfMonth: 0.55, .month: 0.65, .dayOfWeek: 0.55]
        var parts: [FieldKind: FieldPart] = [:]
        for f in FieldKind.allCases where f != .second || six {
            if f == .second && dense && rng.chance(0.7) {
                // Few seconds, so that a brute-force window stays small.
                var part = FieldPart()
                let values = Set((0..<rng.int(1...3)).map { _ in rng.int(0...59) })
                part.values = values
                part.text = values.sorted().map(String.init).joined(separator: ",")
                parts[f] = part
                continue
            }
            parts[f] = field(f, starChance: stars[f]!)
        }
        var model = CalendarModel()
        model.seconds = six ? parts[.second]!.values : [0]
        model.minutes = parts[.minute]!.values
        model.hours = parts[.hour]!.values
        model.months = parts[.month]!.values
        model.day = DayRule(dom: parts[.dayOfMonth]!, dow: parts[.dayOfWeek]!, match: options.dayMatch)

        var fields: [String] = []
        var hItems: [(field: FieldKind, item: String)] = []
        for f in FieldKind.allCases {
            guard let part = parts[f] else { continue }
            fields.append(part.text)
            hItems += part.hItems.map { (f, $0) }
        }
        var body = fields[0]
        for field in fields.dropFirst() { body += separator() + field }
        return Generated(
            text: lead + prefix + body + trail, options: options, zone: zone, model: .calendar(model), hItems: hItems,
            sixFields: six)
    }

    /// A start instant in 1990-2040; about half within two days of one of the zone's transitions.
    mutating func start(zone: String, nearTransition: Double = 0.5) -> Int64 {
        let transitions = PropertyZones.transitions[zone] ?? []
        var t: Int64
        if !transitions.isEmpty && rng.chance(nearTransition) {
            let transition = rng.pick(transitions)
            if rng.chance(0.15) {
                return transition.instant + Int64(rng.pick([-3601, -1801, -61, -60, -1, 0, 1, 59, 60, 1799, 3600]))
            }
            t = transition.instant + Int64(rng.int(-2 * 86_400...2 * 86_400))
        } else {
            t = Int64(rng.int(Int(PropertyZones.firstStart)...Int(PropertyZones.endOfStarts) - 1))
        }
        if rng.chance(0.2) { t = t - t % 60 - Int64(rng.int(0...1)) }
        return t
    }
}

// MARK: - Checking helpers

/// Counts violations and records the first few as issues (each with everything needed to reproduce).
fileprivate struct Violations {
    var count = 0
    var recorded = 0
    var limit = 6

    mutating func add(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        count += 1
        guard recorded < limit else { return }
        recorded += 1
        Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
    }
}

fileprivate func describe(_ f: CronFire?) -> String {
    guard let f else { return "nil" }
    return "\(f.unixSeconds) (\(f.iso8601)) nominal=\(f.nominal) dst=\(f.dst?.rawValue ?? "nil") key=\(f.dedupeKey)"
}

fileprivate func describe(_ expression: Generated, start: Int64, seed: UInt64) -> String {
    "[case seed \(PropertyConfig.hex(seed))] \(expression) start=\(start) (\(Civil.isoUTC(start)))"
}

/// Parses a generated expression and fills in its `H` values, checking them against what `H`, `H(a-b)`,
/// `H/n` and `H(a-b)/n` allow. Returns nil (after recording why) when the expression must not be used.
fileprivate func parseGenerated(
    _ g: inout Generated, context: String, _ violations: inout Violations
) -> CronExpression? {
    if case .calendar(var model) = g.model, !g.hItems.isEmpty {
        for (field, item) in g.hItems {
            guard let values = hValues(field, item, seed: g.hashSeed) else {
                violations.add("\(context): H item \(item) alone in the \(field) field does not parse")
                return nil
            }
            if let problem = hProblem(field, item, values) {
                violations.add("\(context): H item \(item) in the \(field) field gave \(values): \(problem)")
            }
            switch field {
            case .second: model.seconds.formUnion(values)
            case .minute: model.minutes.formUnion(values)
            case .hour: model.hours.formUnion(values)
            case .dayOfMonth: model.day.days.formUnion(values)
            case .month: model.months.formUnion(values)
            case .dayOfWeek: model.day.weekdays.formUnion(values.map { $0 % 7 })
            }
        }
        g.model = .calendar(model)
    }
    let cron: CronExpression
    do {
        cron = try CronExpression(g.text, options: g.options)
    } catch {
        if error.code == .neverFires, case .calendar(let model) = g.model {
            if model.firesAtAll {
                violations.add("\(context): rejected as never firing, but a date in 2000-2399 matches: \(error)")
            }
        } else {
            violations.add("\(context): a valid expression was rejected: \(error)")
        }
        return nil
    }
    if cron.timeZone != g.zone { violations.add("\(context): timeZone is \(cron.timeZone), expected \(g.zone)") }
    if case .calendar(let model) = g.model, cron.isIntervalLike != model.isIntervalLike {
        violations.add("\(context): isIntervalLike is \(cron.isIntervalLike), hours are \(model.hours.sorted())")
    }
    return cron
}

/// The values an `H` item stands for with a given seed, read through `matches` on an expression that
/// has only that item (the hash depends on the seed and the field).
fileprivate func hValues(_ field: FieldKind, _ item: String, seed: String) -> [Int]? {
    var probe = ["0", "0", "0", "*", "*", "*"]
    probe[field.rawValue] = item
    guard let cron = try? CronExpression(probe.joined(separator: " "), options: .init(seed: seed)) else { return nil }
    func at(month: Int = 1, day: Int = 1, hour: Int = 0, minute: Int = 0, second: Int = 0) -> Bool {
        cron.matches(LocalDateTime(year: 2001, month: month, day: day, hour: hour, minute: minute, second: second))
    }
    switch field {
    case .second: return (0...59).filter { at(second: $0) }
    case .minute: return (0...59).filter { at(minute: $0) }
    case .hour: return (0...23).filter { at(hour: $0) }
    case .dayOfMonth: return (1...31).filter { at(day: $0) }
    case .month: return (1...12).filter { at(month: $0) }
    case .dayOfWeek: return (0...6).filter { at(day: 7 + $0) }  // 2001-01-07 was a Sunday.
    }
}

/// What is wrong with the values an `H` item produced, if anything (Jenkins: one value in the range for
/// `H`, a full progression with the step starting within the first step for `H/n`; day-of-month `H`
/// without a range stays in 1-28 so that every month has it).
fileprivate func hProblem(_ field: FieldKind, _ item: String, _ values: [Int]) -> String? {
    var low = field == .dayOfWeek ? 0 : field.bounds.lowerBound
    var high = field == .dayOfMonth ? 28 : (field == .dayOfWeek ? 6 : field.bounds.upperBound)
    var rest = Substring(item.dropFirst())
    var step: Int?
    if let slash = rest.firstIndex(of: "/") {
        step = Int(rest[rest.index(after: slash)...])
        rest = rest[..<slash]
    }
    if rest.hasPrefix("(") {
        let inner = rest.dropFirst().dropLast().split(separator: "-")
        (low, high) = (Int(inner[0])!, Int(inner[1])!)
    }
    guard let first = values.first, let last = values.last else { return "no value" }
    guard first >= low, last <= high else { return "outside \(low)-\(high)" }
    guard let step else { return values.count == 1 ? nil : "more than one value" }
    if zip(values, values.dropFirst()).contains(where: { $1 - $0 != step }) { return "not spaced by \(step)" }
    if first >= low + step { return "starts later than the first step" }
    if last + step <= high { return "stops early" }
    return nil
}

fileprivate func dstMarkerName(_ marker: CronFire.DSTMarker?) -> String { marker?.rawValue ?? "nil" }

// MARK: - Tests

@Suite("Cron properties: random expressions, zones and start instants against a Foundation oracle")
struct CronPropertyTests {

    @Test(
        "next is strictly increasing, matches the expression, agrees with Foundation and round-trips with previous",
        arguments: PropertyZones.all)
    func nextFireSequences(zone: String) {
        let foundation = FoundationZone(zone)
        var violations = Violations()
        var cases = 0
        var checkedFires = 0
        var neverFiring = 0
        for seed in PropertyConfig.caseSeeds(test: 1, zone: zone, count: 450) {
            var generator = ExpressionGenerator(seed: seed)
            var g = generator.expression(zone: zone)
            let start = generator.start(zone: zone)
            let context = describe(g, start: start, seed: seed)
            guard let cron = parseGenerated(&g, context: context, &violations) else {
                neverFiring += 1
                continue
            }
            cases += 1

            var fires: [CronFire] = []
            var cursor = start
            for _ in 0..<12 {
                guard let fire = cron.nextFire(afterUnixSeconds: cursor) else {
                    violations.add("\(context): nextFire(afterUnixSeconds: \(cursor)) is nil")
                    break
                }
                // (a) strictly increasing.
                if fire.unixSeconds <= cursor {
                    violations.add("\(context): nextFire(after: \(cursor)) went back to \(describe(fire))")
                    break
                }
                fires.append(fire)
                cursor = fire.unixSeconds
            }
            checkedFires += fires.count
            guard let first = fires.first else { continue }

            // The Date-based API and the sequence agree with the Unix-seconds API.
            let viaDate = cron.nextFire(after: Date(timeIntervalSince1970: TimeInterval(start) + 0.25))
            if viaDate != first {
                violations.add(
                    "\(context): nextFire(after: start + 0.25 s) = \(describe(viaDate)), expected \(describe(first))")
            }
            let sequence = Array(
                cron.fires(after: Date(timeIntervalSince1970: TimeInterval(start))).prefix(fires.count))
            if sequence != fires {
                violations.add(
                    "\(context): fires(after:) differs from repeated nextFire: \(sequence.map { describe($0) })")
            }
            let previousViaDate = cron.previousFire(
                before: Date(timeIntervalSince1970: TimeInterval(first.unixSeconds) + 0.5))
            if previousViaDate != first {
                violations.add(
                    "\(context): previousFire(before: first + 0.5 s) = \(describe(previousViaDate)), expected \(describe(first))"
                )
            }

            var keys = Set<String>()
            for (i, fire) in fires.enumerated() {
                let fireContext = "\(context) fire #\(i) \(describe(fire))"
                // (b) the fire matches and its wall time is right.
                if !cron.matches(fire.nominal) {
                    violations.add("\(fireContext): cron.matches(nominal) is false")
                }
                if !keys.insert(fire.dedupeKey).inserted {
                    violations.add("\(fireContext): dedupeKey repeats within \(fires.count) consecutive fires")
                }
                if fire.utcOffset != foundation.offset(fire.unixSeconds) {
                    violations.add(
                        "\(fireContext): utcOffset \(fire.utcOffset), Foundation says \(foundation.offset(fire.unixSeconds))"
                    )
                }
                switch g.model {
                case .every(let period):
                    checkEvery(fire, period: period, foundation, fireContext, &violations)
                case .calendar(let model):
                    checkCalendar(fire, model, g.options, foundation, fireContext, &violations)
                }

                // (d) previous and next are inverse.
                let previous = cron.previousFire(beforeUnixSeconds: fire.unixSeconds)
                if i > 0 {
                    if previous != fires[i - 1] {
                        violations.add(
                            "\(fireContext): previousFire(before: it) = \(describe(previous)), expected \(describe(fires[i - 1]))"
                        )
                    }
                } else if let previous, previous.unixSeconds > start {
                    violations.add(
                        "\(fireContext): previousFire(before: first) = \(describe(previous)) lies between start and the first fire"
                    )
                }
                guard let previous else {
                    violations.add("\(fireContext): previousFire(before: it) is nil")
                    continue
                }
                let back = cron.nextFire(afterUnixSeconds: previous.unixSeconds)
                if back != fire {
                    violations.add(
                        "\(fireContext): nextFire(after: previousFire(before: it) = \(describe(previous))) = \(describe(back))"
                    )
                }
            }
        }
        #expect(
            violations.count == 0,
            "\(zone): \(violations.count) violations in \(cases) expressions (\(checkedFires) fires); the first \(violations.recorded) are recorded above"
        )
        #expect(
            cases >= PropertyConfig.caseSeeds(test: 1, zone: zone, count: 450).count * 3 / 4
                || PropertyConfig.replaySeed != nil)
        #expect(
            checkedFires > cases * 8 || PropertyConfig.replaySeed != nil,
            "too few fires were checked: \(checkedFires) (\(neverFiring) expressions never fire)")
    }

    @Test(
        "a minute-by-minute scan of wall times with Foundation finds exactly the fires that next returns",
        arguments: PropertyZones.all)
    func bruteForceScan(zone: String) {
        let foundation = FoundationZone(zone)
        var violations = Violations()
        var cases = 0
        var comparedFires = 0
        var casesWithTransition = 0
        for seed in PropertyConfig.caseSeeds(test: 2, zone: zone, count: 110) {
            var generator = ExpressionGenerator(seed: seed, dense: true)
            var g = generator.expression(zone: zone, sixFields: 0.15, macros: 0.04)
            if case .every = g.model { g = generator.expression(zone: zone, sixFields: 0.15, macros: 0) }
            let window: Int64 =
                g.sixFields
                ? Int64(generator.rng.int(1800...4 * 3600)) : Int64(generator.rng.int(2 * 86_400...3 * 86_400))
            var start = generator.start(zone: zone, nearTransition: 0.5)
            if let transitions = PropertyZones.transitions[zone], !transitions.isEmpty, generator.rng.chance(0.6) {
                // Most windows contain a transition.
                start = generator.rng.pick(transitions).instant - Int64(generator.rng.int(0...Int(window)))
            }
            let end = start + window
            let context = describe(g, start: start, seed: seed) + " window=\(window)s"
            guard let cron = parseGenerated(&g, context: context, &violations), case .calendar(let model) = g.model
            else {
                continue
            }
            cases += 1
            var problems: [String] = []
            let expected = expectedFires(model, g.options, foundation, after: start, before: end, &problems)
            for problem in problems { violations.add("\(context): oracle: \(problem)") }
            if !foundation.transitions(from: start, through: end).isEmpty { casesWithTransition += 1 }

            var actual: [ExpectedFire] = []
            var cursor = start
            while let fire = cron.nextFire(afterUnixSeconds: cursor), fire.unixSeconds < end {
                actual.append(ExpectedFire(instant: fire.unixSeconds, nominal: Wall(fire.nominal), dst: fire.dst))
                if fire.unixSeconds <= cursor || actual.count > expected.count + 50 { break }
                cursor = fire.unixSeconds
            }
            comparedFires += expected.count
            // previous walks the same fires backwards, and next undoes previous.
            var back = end
            for (i, fire) in actual.enumerated().reversed() {
                let previous = cron.previousFire(beforeUnixSeconds: back)
                let found = previous.map {
                    ExpectedFire(instant: $0.unixSeconds, nominal: Wall($0.nominal), dst: $0.dst)
                }
                if found != fire {
                    violations.add(
                        "\(context): previousFire(before: \(back)) = \(describe(previous)), but next gave #\(i) \(fire)"
                    )
                    break
                }
                back = fire.instant
                if let previous, cron.nextFire(afterUnixSeconds: previous.unixSeconds - 1) != previous {
                    violations.add("\(context): nextFire(after: x - 1) != x for x = \(describe(previous))")
                    break
                }
            }
            if actual != expected {
                let firstDifference =
                    (0..<min(actual.count, expected.count)).first(where: { actual[$0] != expected[$0] })
                    ?? min(actual.count, expected.count)
                let from = max(0, firstDifference - 2)
                violations.add(
                    "\(context): next gave \(actual.count) fires, the scan expects \(expected.count); first difference at #\(firstDifference): "
                        + "next \(actual[min(from, actual.count)..<min(firstDifference + 3, actual.count)].map(\.description)) "
                        + "vs expected \(expected[min(from, expected.count)..<min(firstDifference + 3, expected.count)].map(\.description))"
                )
            }
        }
        #expect(
            violations.count == 0,
            "\(zone): \(violations.count) violations in \(cases) windows (\(comparedFires) fires); the first \(violations.recorded) are recorded above"
        )
        #expect(
            cases > 0 && (comparedFires > cases * 5 || PropertyConfig.replaySeed != nil),
            "too few fires compared: \(comparedFires)")
        if PropertyConfig.replaySeed == nil && !(PropertyZones.transitions[zone] ?? []).isEmpty {
            #expect(casesWithTransition > cases / 2, "too few windows contain a transition: \(casesWithTransition)")
        }
    }

    @Test("@every fires exactly at the multiples of its period since the Unix epoch", arguments: PropertyZones.all)
    func everyDurations(zone: String) {
        let foundation = FoundationZone(zone)
        var violations = Violations()
        var compared = 0
        for seed in PropertyConfig.caseSeeds(test: 3, zone: zone, count: 120) {
            var generator = ExpressionGenerator(seed: seed)
            let (duration, period) = generator.every()
            let (options, prefix) = generator.options(zone: zone)
            let text = prefix + "@every " + duration
            let start = generator.start(zone: zone, nearTransition: 0.6)
            let g = Generated(text: text, options: options, zone: zone, model: .every(period))
            let context = describe(g, start: start, seed: seed) + " period=\(period)s"
            guard let cron = try? CronExpression(text, options: options) else {
                violations.add("\(context): does not parse")
                continue
            }
            if !cron.isIntervalLike { violations.add("\(context): @every is not interval-like") }
            let end = start + min(3 * 86_400, period * 400)
            var expected: [Int64] = []
            var t = (Civil.floorDiv(start, period) + 1) * period
            while t < end {
                expected.append(t)
                t += period
            }
            var actual: [CronFire] = []
            var cursor = start
            while let fire = cron.nextFire(afterUnixSeconds: cursor), fire.unixSeconds < end {
                actual.append(fire)
                if fire.unixSeconds <= cursor || actual.count > expected.count { break }
                cursor = fire.unixSeconds
            }
            if actual.map(\.unixSeconds) != expected {
                violations.add(
                    "\(context): fires \(actual.prefix(5).map(\.unixSeconds)) …, expected \(expected.prefix(5)) … (\(actual.count) vs \(expected.count))"
                )
            }
            compared += expected.count
            for fire in actual.prefix(50) {
                let fireContext = "\(context) fire \(describe(fire))"
                checkEvery(fire, period: period, foundation, fireContext, &violations)
                if !cron.matches(fire.nominal) { violations.add("\(fireContext): cron.matches(nominal) is false") }
                if let previous = cron.previousFire(beforeUnixSeconds: fire.unixSeconds),
                    cron.nextFire(afterUnixSeconds: previous.unixSeconds) != fire
                        || previous.unixSeconds != fire.unixSeconds - period
                {
                    violations.add("\(fireContext): previousFire(before: it) = \(describe(previous))")
                }
            }
        }
        #expect(
            violations.count == 0,
            "\(zone): \(violations.count) violations; the first \(violations.recorded) are recorded above")
        #expect(compared > 100 || PropertyConfig.replaySeed != nil)
    }

    @Test(
        "day-of-month and day-of-week rules agree with a day-by-day walk over a whole 28-year calendar cycle",
        arguments: 0..<4)
    func dayRules(shard: Int) {
        var violations = Violations()
        var compared = 0
        // 2001-2028: every combination of leap year, month length and weekday of the 1st.
        let firstDay = Civil.days(2001, 1, 1)
        let endDay = Civil.days(2029, 1, 1)
        let seeds = PropertyConfig.caseSeeds(test: 4, zone: "UTC", count: 280)
        for seed in seeds.indices.filter({ $0 % 4 == shard || PropertyConfig.replaySeed != nil }).map({ seeds[$0] }) {
            var generator = ExpressionGenerator(seed: seed)
            generator.specialChance = 0.6
            let dom = generator.field(.dayOfMonth, starChance: 0.15)
            let dow = generator.field(.dayOfWeek, starChance: 0.15)
            let month = generator.field(.month, starChance: 0.6)
            var options = CronExpression.Options()
            options.dayMatch = generator.rng.pick(CronExpression.DayMatch.allCases)
            var model = CalendarModel()
            (model.minutes, model.hours, model.months) = ([0], [0], month.values)
            model.day = DayRule(dom: dom, dow: dow, match: options.dayMatch)
            var g = Generated(
                text: "0 0 \(dom.text) \(month.text) \(dow.text)", options: options, zone: "UTC",
                model: .calendar(model),
                hItems: dom.hItems.map { (.dayOfMonth, $0) } + dow.hItems.map { (.dayOfWeek, $0) }
                    + month.hItems.map { (.month, $0) })
            let start = firstDay * 86_400 - 1
            let context = describe(g, start: start, seed: seed)
            guard let cron = parseGenerated(&g, context: context, &violations), case .calendar(let resolved) = g.model
            else { continue }
            var expected: [Int64] = []
            var wall = Civil.wall(localSeconds: firstDay * 86_400)
            for day in firstDay..<endDay {
                let matches = resolved.dayMatches(wall)
                if matches { expected.append(day * 86_400) }
                if cron.matches(wall.local) != matches {
                    violations.add(
                        "\(context): cron.matches(\(wall.iso(seconds: false))) is \(!matches) (weekday \(wall.weekday))"
                    )
                    break
                }
                // The next day, by hand.
                wall.weekday = (wall.weekday + 1) % 7
                wall.day += 1
                if wall.day > Civil.monthLength(wall.year, wall.month) {
                    wall.day = 1
                    wall.month += 1
                    if wall.month > 12 { (wall.month, wall.year) = (1, wall.year + 1) }
                }
            }
            if Wall(year: wall.year, month: wall.month, day: wall.day, hour: 0, minute: 0, second: 0, weekday: 0)
                != Civil.wall(localSeconds: endDay * 86_400) || wall.weekday != Civil.weekday(endDay)
            {
                violations.add("the day walk ended at \(wall), not at \(Civil.wall(localSeconds: endDay * 86_400))")
            }
            var actual: [Int64] = []
            var cursor = start
            while actual.count < 1500, let fire = cron.nextFire(afterUnixSeconds: cursor),
                fire.unixSeconds < endDay * 86_400
            {
                actual.append(fire.unixSeconds)
                cursor = fire.unixSeconds
            }
            let prefix = Array(expected.prefix(actual.count))
            if actual != prefix || (actual.count < 1500 && actual.count != expected.count) {
                let i =
                    (0..<min(actual.count, expected.count)).first { actual[$0] != expected[$0] }
                    ?? min(actual.count, expected.count)
                let show = { (xs: [Int64]) in
                    i < xs.count
                        ? Civil.wall(localSeconds: xs[i]).iso(seconds: false)
                            + " (weekday \(Civil.wall(localSeconds: xs[i]).weekday))" : "none"
                }
                violations.add("\(context): fire #\(i) is \(show(actual)), the calendar walk expects \(show(expected))")
            }
            compared += expected.count
        }
        #expect(
            violations.count == 0, "\(violations.count) violations; the first \(violations.recorded) are recorded above"
        )
        #expect(compared > 2_500 || PropertyConfig.replaySeed != nil)
    }

    @Test("H values depend only on the seed, stay in their range and spread over it")
    func hashValues() throws {
        let minutes = (0..<300).map { i -> Int in
            guard let values = hValues(.minute, "H", seed: "job-\(i)"), values.count == 1 else { return -1 }
            return values[0]
        }
        #expect(!minutes.contains(-1) && minutes.allSatisfy { (0...59).contains($0) })
        #expect(Set(minutes).count >= 40, "300 seeds gave only \(Set(minutes).count) distinct minutes")
        // Without an id, the seed is the expression text (trimmed), and the same text gives the same fires.
        let implicit = try CronExpression("  H H(2-5) * * *\t")
        let explicit = try CronExpression("H H(2-5) * * *", options: .init(seed: "H H(2-5) * * *"))
        let instant = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(implicit.nextFire(after: instant) == explicit.nextFire(after: instant))
        #expect(try CronExpression("H H(2-5) * * *").nextFire(after: instant) == implicit.nextFire(after: instant))
    }

    @Test(
        "day-of-week a/n runs to the field's maximum, 7 (Sunday), as docs/cron.md says",
        arguments: [
            ("1/2", [0, 1, 3, 5]), ("0/7", [0]), ("7/2", [0]), ("5/2", [0, 5]), ("3/4", [0, 3]), ("4/2", [4, 6]),
        ])
    func dayOfWeekStepToMaximum(field: String, weekdays: [Int]) throws {
        // Week of Sunday 2024-06-02 … Saturday 2024-06-08 (UTC): which days fire at midnight.
        let cron = try CronExpression("0 0 * * \(field)")
        let fired = (0..<7).filter { day in
            let midnight = Int64(1_717_286_400 + day * 86_400)
            return cron.nextFire(afterUnixSeconds: midnight - 1)?.unixSeconds == midnight
        }
        #expect(fired == weekdays, "\(field): fires on weekdays \(fired), expected \(weekdays)")
    }
}

// MARK: - Per-fire checks

fileprivate func checkEvery(
    _ fire: CronFire, period: Int64, _ foundation: FoundationZone, _ context: String, _ violations: inout Violations
) {
    if Civil.floorDiv(fire.unixSeconds, period) * period != fire.unixSeconds {
        violations.add("\(context): not a multiple of the period \(period) s since the epoch")
    }
    if Wall(fire.nominal) != foundation.wall(fire.unixSeconds) {
        violations.add("\(context): nominal is not the wall time \(foundation.wall(fire.unixSeconds)) at the instant")
    }
    if fire.dst != nil { violations.add("\(context): @every fire has a DST marker") }
    if fire.dedupeKey != Civil.isoUTC(fire.unixSeconds) {
        violations.add("\(context): dedupeKey should be the UTC instant \(Civil.isoUTC(fire.unixSeconds))")
    }
}

fileprivate func checkCalendar(
    _ fire: CronFire, _ model: CalendarModel, _ options: CronExpression.Options, _ foundation: FoundationZone,
    _ context: String, _ violations: inout Violations
) {
    let nominal = Wall(fire.nominal)
    if !model.matches(nominal) { violations.add("\(context): the nominal time does not match the expression's fields") }
    let offsets = foundation.offsets(near: fire.unixSeconds)
    let occurrences = foundation.occurrences(of: nominal, offsets: offsets)
    if fire.dst == .gapShifted {
        if model.isIntervalLike { violations.add("\(context): an interval-like schedule fired for a skipped time") }
        if options.dstGap == .skip { violations.add("\(context): dst_gap skip, but a skipped time fired") }
        if !occurrences.isEmpty {
            violations.add("\(context): gap_shifted, but Foundation has the nominal time at \(occurrences)")
        }
        let transitions = foundation.transitions(from: fire.unixSeconds - 86_400, through: fire.unixSeconds)
        guard let gap = transitions.last(where: { $0.after > $0.before }) else {
            violations.add("\(context): gap_shifted, but no forward transition precedes it")
            return
        }
        let instant = options.dstGap == .shift ? nominal.localSeconds - Int64(gap.before) : gap.instant
        if fire.unixSeconds != instant {
            violations.add("\(context): gap_shifted fire for gap \(gap) should be at \(instant) (\(options.dstGap))")
        }
    } else {
        // The fire happens at its nominal wall time: computed independently with Foundation's Calendar.
        let wall = foundation.wall(fire.unixSeconds)
        if wall != nominal { violations.add("\(context): Foundation's wall time at the instant is \(wall)") }
        let expected: CronFire.DSTMarker? =
            occurrences.count < 2 ? nil : (occurrences.first == fire.unixSeconds ? .foldFirst : .foldSecond)
        if fire.dst != expected {
            violations.add("\(context): DST marker should be \(dstMarkerName(expected)) (occurrences \(occurrences))")
        }
        if !model.isIntervalLike && occurrences.count >= 2 {
            let wanted: Bool
            switch options.dstFold {
            case .first: wanted = fire.unixSeconds == occurrences.first
            case .last: wanted = fire.unixSeconds == occurrences.last
            case .both: wanted = true
            }
            if !wanted { violations.add("\(context): dst_fold \(options.dstFold) does not fire this copy") }
        }
    }
    // Dedupe keys: the UTC instant for interval-like schedules, else the nominal wall time without offset.
    if model.isIntervalLike {
        if fire.dedupeKey != Civil.isoUTC(fire.unixSeconds) {
            violations.add("\(context): dedupeKey should be \(Civil.isoUTC(fire.unixSeconds))")
        }
    } else if !(options.dstFold == .both && (fire.dst == .foldFirst || fire.dst == .foldSecond)) {
        let key = nominal.iso(seconds: nominal.second != 0)
        if fire.dedupeKey != key { violations.add("\(context): dedupeKey should be \(key)") }
    }
}

// MARK: - The brute-force oracle

fileprivate struct ExpectedFire: Equatable, CustomStringConvertible {
    var instant: Int64
    var nominal: Wall
    var dst: CronFire.DSTMarker?

    var description: String { "\(Civil.isoUTC(instant)) nominal=\(nominal) \(dstMarkerName(dst))" }

    static func == (a: ExpectedFire, b: ExpectedFire) -> Bool {
        a.instant == b.instant && a.nominal == b.nominal && a.dst == b.dst
    }
}

/// The fires in `(start, end)` according to docs/cron.md, from wall times computed with Foundation minute by
/// minute. Whole days and hours that cannot match are skipped, but never across an offset change.
fileprivate func expectedFires(
    _ model: CalendarModel, _ options: CronExpression.Options, _ zone: FoundationZone, after start: Int64,
    before end: Int64, _ problems: inout [String]
) -> [ExpectedFire] {
    let transitions = zone.transitions(from: start - 3 * 86_400, through: end + 3 * 86_400)
    var offsets: Set<Int> = [zone.offset(start)]
    for transition in transitions {
        offsets.insert(transition.before)
        offsets.insert(transition.after)
        if transition.instant % 60 != 0 || transition.before % 60 != 0 || transition.after % 60 != 0 {
            problems.append("transition \(transition) is not on a whole minute; the minute scan assumes it is")
            return []
        }
    }
    let seconds = model.seconds.sorted()
    let wallAnchored = !model.isIntervalLike
    var candidates: [ExpectedFire] = []

    // Real instants whose wall time matches.
    var t = Civil.floorDiv(start + 1, 60) * 60
    var nextIndex = 0
    while t < end {
        while nextIndex < transitions.count && transitions[nextIndex].instant <= t { nextIndex += 1 }
        let nextTransition = nextIndex < transitions.count ? transitions[nextIndex].instant : Int64.max
        let wall = zone.wall(t)
        let expectedOffset = nextIndex > 0 ? transitions[nextIndex - 1].after : zone.offset(start - 3 * 86_400)
        if wall.localSeconds - t != Int64(expectedOffset) {
            problems.append(
                "Foundation's wall time \(wall) at \(Civil.isoUTC(t)) disagrees with its transition list (offset \(expectedOffset))"
            )
            return []
        }
        if !model.dayMatches(wall) {
            t = min(t + Int64(86_400 - wall.hour * 3600 - wall.minute * 60), nextTransition)
            continue
        }
        if !model.hours.contains(wall.hour) {
            t = min(t + Int64(3600 - wall.minute * 60), nextTransition)
            continue
        }
        if model.minutes.contains(wall.minute) {
            for second in seconds {
                let instant = t + Int64(second)
                guard instant > start && instant < end else { continue }
                var nominal = wall
                nominal.second = second
                let occurrences = offsets.count == 1 ? [instant] : zone.occurrences(of: nominal, offsets: offsets)
                guard occurrences.contains(instant) else {
                    problems.append("wall time \(nominal) at \(instant) is not among its occurrences \(occurrences)")
                    continue
                }
                var dst: CronFire.DSTMarker?
                if occurrences.count >= 2 {
                    let isFirst = instant == occurrences.first
                    dst = isFirst ? .foldFirst : .foldSecond
                    if wallAnchored {
                        switch options.dstFold {
                        case .first: if !isFirst { continue }
                        case .last: if instant != occurrences.last { continue }
                        case .both: break
                        }
                    }
                }
                candidates.append(ExpectedFire(instant: instant, nominal: nominal, dst: dst))
            }
        }
        t += 60
    }

    // Wall times skipped by a forward change: coalesced at the end of the gap, shifted, or skipped.
    if wallAnchored && options.dstGap != .skip {
        for transition in transitions where transition.after > transition.before {
            let gapStart = transition.instant + Int64(transition.before)
            let gapEnd = transition.instant + Int64(transition.after)
            var skipped: [Int64] = []
            var local = gapStart
            while local < gapEnd {
                let wall = Civil.wall(localSeconds: local)
                if model.dayMatches(wall) && model.hours.contains(wall.hour) && model.minutes.contains(wall.minute) {
                    skipped += seconds.map { local + Int64($0) }.filter { $0 < gapEnd }
                }
                local += 60
            }
            switch options.dstGap {
            case .coalesce:
                if let earliest = skipped.first, transition.instant > start && transition.instant < end {
                    candidates.append(
                        ExpectedFire(
                            instant: transition.instant, nominal: Civil.wall(localSeconds: earliest), dst: .gapShifted))
                }
            case .shift:
                for nominal in skipped {
                    let instant = nominal - Int64(transition.before)
                    if instant > start && instant < end {
                        candidates.append(
                            ExpectedFire(instant: instant, nominal: Civil.wall(localSeconds: nominal), dst: .gapShifted)
                        )
                    }
                }
            case .skip: break
            }
        }
    }

    // Fires at the same instant merge into one, whose identity is the earliest nominal time.
    candidates.sort { ($0.instant, $0.nominal.localSeconds) < ($1.instant, $1.nominal.localSeconds) }
    var merged: [ExpectedFire] = []
    for candidate in candidates where merged.last?.instant != candidate.instant { merged.append(candidate) }
    return merged
}
