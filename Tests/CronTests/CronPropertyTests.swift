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

// Time and zones are in CronPropertyCivil.swift, the model and the oracle in CronPropertyOracle.swift,
// the random expressions and the checks of generated H values in CronPropertyGenerators.swift.

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
