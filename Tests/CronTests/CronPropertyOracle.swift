import Foundation
import Testing

@testable import Cron

// What the property tests compare the module with: the model of an expression (what docs/cron.md
// says it matches), the brute-force oracle, and the checks of each fire against them.

// MARK: - The model of an expression (what docs/cron.md says it matches)

enum FieldKind: Int, CaseIterable, Sendable {
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

struct DayRule: Sendable {
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

struct CalendarModel: Sendable {
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

enum Model {
    case calendar(CalendarModel)
    case every(Int64)
}

struct Generated: CustomStringConvertible {
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

// MARK: - The brute-force oracle

struct ExpectedFire: Equatable, CustomStringConvertible {
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
func expectedFires(
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

// MARK: - Per-fire checks

func checkEvery(
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

func checkCalendar(
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
