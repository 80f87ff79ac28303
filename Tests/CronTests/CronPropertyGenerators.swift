import Foundation
import SchedulerTesting
import Testing

@testable import Cron

// Random cron expressions covering every element of the dialect, and the checks of what their H
// items stand for.

// MARK: - Random expressions

struct FieldPart {
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

struct ExpressionGenerator {
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
struct Violations {
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

func describe(_ f: CronFire?) -> String {
    guard let f else { return "nil" }
    return "\(f.unixSeconds) (\(f.iso8601)) nominal=\(f.nominal) dst=\(f.dst?.rawValue ?? "nil") key=\(f.dedupeKey)"
}

func describe(_ expression: Generated, start: Int64, seed: UInt64) -> String {
    "[case seed \(PropertyConfig.hex(seed))] \(expression) start=\(start) (\(Civil.isoUTC(start)))"
}

/// Parses a generated expression and fills in its `H` values, checking them against what `H`, `H(a-b)`,
/// `H/n` and `H(a-b)/n` allow. Returns nil (after recording why) when the expression must not be used.
func parseGenerated(
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
func hValues(_ field: FieldKind, _ item: String, seed: String) -> [Int]? {
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
func hProblem(_ field: FieldKind, _ item: String, _ values: [Int]) -> String? {
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

func dstMarkerName(_ marker: CronFire.DSTMarker?) -> String { marker?.rawValue ?? "nil" }
