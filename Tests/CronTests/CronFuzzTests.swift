import Foundation
import SchedulerTesting
import Testing

@testable import Cron

// Fuzzing the parser and the fire search: random bytes (decoded lossily), random Unicode (controls,
// line separators, combining marks, non-ASCII digits, case-mapping oddities), token soups from the cron
// alphabet, mutations of valid expressions, and long inputs. Every input must either parse or throw a
// `CronError` whose description is one line starting with `invalid cron expression "` (quoting the
// trimmed input) or `unknown time zone "` (quoting the zone); nothing may crash or take long, and a
// parsed expression must answer `nextFire` and `previousFire` promptly.
//
// `CRON_FUZZ_ITERATIONS` sets the number of inputs (default 200,000, spread over the shards),
// `CRON_FUZZ_SEED` the seed; `CRON_FUZZ_TRACE=1` prints every input before it is tried (to find the input
// behind a crash). A violation message names the shard, iteration and input, so it reproduces directly.

fileprivate typealias FuzzSplitMix64 = SplitMix64

fileprivate enum FuzzConfig {
    static let environment = ProcessInfo.processInfo.environment

    static let iterations: Int = {
        guard let text = environment["CRON_FUZZ_ITERATIONS"], let n = Int(text.filter { $0 != "_" && $0 != "," }),
            n > 0
        else { return 200_000 }
        return n
    }()

    static let seed: UInt64 = {
        guard let text = environment["CRON_FUZZ_SEED"] else { return 0xF022_C0DE_2024_1103 }
        return text.lowercased().hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) ?? 0 : UInt64(text) ?? 0
    }()

    static let trace = environment["CRON_FUZZ_TRACE"] != nil

    /// A bound for the whole test, so that a hang fails instead of running forever.
    static let timeLimitMinutes = max(5, iterations / 20_000)

    /// No single input (parse, nextFire and previousFire together) may take longer than this.
    static let budgetPerInput: Duration = .seconds(2)
}

/// Where inputs come from; the long-input shard gets a two-thousandth of the iterations (at least 100).
enum CronFuzzSource: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case bytes, unicode, tokens, mutations, long

    var testDescription: String { rawValue }

    var iterations: Int {
        self == .long
            ? max(100, FuzzConfig.iterations / 2000) : max(1, (FuzzConfig.iterations - Self.long.iterations) / 4)
    }
}

// MARK: - Inputs

fileprivate enum FuzzAlphabet {
    static let tokens: [String] = [
        "0", "1", "2", "5", "7", "9", "10", "15", "23", "24", "29", "30", "31", "32", "59", "60", "99", "007",
        "99999999999999999999", "-1", "*", "*", "/", ",", ",", "-", "-", "?", "L", "W", "LW", "L-", "#", "H", "(", ")",
        "H(0-29)", "H/15", "@", "@every", "@daily", "@yearly", "@reboot", "@hourly", "@weekly", "@monthly",
        "@annually", "@midnight", "JAN", "feb", "Dec", "MON", "sun", "FRI", "SAT", "CRON_TZ=", "TZ=", "UTC",
        "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Nowhere/Zone", "1h", "30m", "90s", "2d",
        "1h30m", "d", "h", "m", "s", "5L", "FRI#3", "1#5", "15W", "L-3", " ", " ", " ", "  ", "\t",
    ]

    static let weirdNumbers: [String] = [
        "99999999999999999999", "18446744073709551616", "9223372036854775807", "9223372036854775808",
        "2147483648", "-1", "-0", "+5", "0", "00", "000000", "0000001", "1000000", "999999", "60", "61", "24",
        "32", "13", "8", "1e3", "0x1F", "1.5", "١٢", "１２", "²", "Ⅻ", "½", "∞", "NaN", "",
    ]

    static let weirdScalars: [Unicode.Scalar] = [
        "\u{0}", "\u{1}", "\u{7}", "\u{8}", "\u{9}", "\u{A}", "\u{B}", "\u{C}", "\u{D}", "\u{1B}", "\u{7F}",
        "\u{85}", "\u{A0}", "\u{AD}", "\u{2028}", "\u{2029}", "\u{200B}", "\u{200D}", "\u{202E}", "\u{2003}",
        "\u{3000}", "\u{FEFF}", "\u{FFFD}", "\u{FFFF}", "\u{301}", "\u{20DD}", "\u{0663}", "\u{FF11}", "\u{B2}",
        "\u{216B}", "\u{BD}", "\u{DF}", "\u{FB00}", "\u{131}", "\u{130}", "\u{1C5}", "\u{1F550}", "\u{1F468}",
        "\u{10FFFF}", "\u{E0001}", "\u{2212}", "\u{2010}", "\u{FF0A}", "\u{2044}", "\u{FE56}", "\u{FF03}",
    ]

    static let zones: [String] = [
        "UTC", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Antarctica/Troll", "Africa/Casablanca",
        "America/Santiago", "Australia/Sydney", "Asia/Kolkata", "Pacific/Chatham", "America/St_Johns",
    ]

    static let weirdZones: [String] = [
        "", " ", "Mars/Olympus_Mons", "utc", "GMT", "GMT+5", "GMT+99", "GMT-14:30", "Etc/GMT-14", "Etc/GMT+12",
        "EST5EDT", "UTC+1", "+05:30", "America/New_York\n", "America//New_York", "../../etc/passwd", "/etc/localtime",
        "America/New_York ", "\u{0}", "Europe/Berlin\u{301}", "Asia/Kolkata\u{2028}", "ÉÜ/Zone",
        String(repeating: "A", count: 300),
    ]

    static let valid: [String] = [
        "* * * * *", "*/15 * * * *", "0 0 * * *", "30 2 * * *", "0,30 2 * * *", "30 1 * * *", "0 9 * * MON-FRI",
        "0 22-2 * * FRI-MON", "15 */2 1-15/3 JAN,MAR,DEC SUN", "0 30 9 * * MON-FRI", "*/10 * * * * *",
        "0 0 L * ?", "0 0 L-3 * ?", "0 0 15W * ?", "0 0 LW * *", "0 0 ? * 5L", "0 0 ? * FRI#3", "0 12 * * 1#1,5L",
        "H H * * *", "H(0-29) H/4 * * *", "H/15 * * * *", "H H(1-5) H * H", "@yearly", "@annually", "@monthly",
        "@weekly", "@daily", "@midnight", "@hourly", "@every 90s", "@every 1h30m", "@every 15m", "@every 2d",
        "@reboot", "CRON_TZ=America/New_York 30 2 * * *", "TZ=Europe/Berlin 0 3 * * SUN",
        "CRON_TZ=Australia/Lord_Howe 0,30 2 * * *", "5/10 * * * *", "0 0 1 */2 *", "0 0 29 2 *", "0 0 31 * *",
        "0 0 1,15 * MON", "59 23 31 12 7", "0 0 * * 0-7", "0 0 * * 6-1", "0 0 ? * ?", "0 0 0 1 1 ?",
        "30 45 23 L-30 FEB,AUG SAT#5", "*/7 50-10/3 22-2 1W,LW,L 1-12/5 1L,7#2", "0 0 H(1-5)/2 * *",
    ]
}

fileprivate struct InputMaker {
    var rng: FuzzSplitMix64
    /// The longest long input; lowered after one was slow, so that a known slowness costs seconds, not minutes.
    var maxLength = 65_536

    /// Shapes that stress the parser's handling of size, tried before random long inputs.
    static let adversarial: [String] = [
        String(repeating: "1 ", count: 32_768),
        "0 0 * * " + String(repeating: "1,", count: 32_768) + "1",
        "@every " + String(repeating: "1s", count: 32_768),
        "CRON_TZ=" + String(repeating: "A", count: 65_536) + " * * * * *",
        String(repeating: " \t", count: 32_768) + "* * * * *",
        "* * * * " + String(repeating: "H(", count: 32_768),
        String(repeating: "*/1 ", count: 16_384),
        "0 0 * * " + String(repeating: "-", count: 65_536),
        String(repeating: "\u{301}", count: 65_536),
    ]

    mutating func scalar() -> Unicode.Scalar {
        switch rng.int(0...9) {
        case 0...3: Unicode.Scalar(UInt8(rng.int(0x20...0x7E)))
        case 4...5: rng.pick(FuzzAlphabet.weirdScalars)
        case 6: Unicode.Scalar(UInt8(rng.int(0...0x1F)))
        case 7: Unicode.Scalar(UInt32(rng.int(0x80...0xD7FF))) ?? "?"
        case 8: Unicode.Scalar(UInt32(rng.int(0xE000...0x10FFFF))) ?? "?"
        default: rng.pick(Array(" */,-?LW#H()@0123456789".unicodeScalars))
        }
    }

    mutating func bytes() -> String {
        let count = rng.int(0...48)
        let ascii = rng.chance(0.5)
        let bytes = (0..<count).map { _ in
            ascii && rng.chance(0.9) ? UInt8(rng.int(0x20...0x7E)) : UInt8(truncatingIfNeeded: rng.next())
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func unicode() -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<rng.int(0...32) {
            if rng.chance(0.25) {
                scalars.append(contentsOf: rng.pick(FuzzAlphabet.tokens).unicodeScalars)
            } else {
                scalars.append(scalar())
            }
        }
        return String(scalars)
    }

    mutating func tokens() -> String {
        var text = ""
        for _ in 0..<rng.int(1...16) {
            text += rng.pick(FuzzAlphabet.tokens)
            if rng.chance(0.3) { text += rng.pick([" ", " ", ",", "/", "-", "\t", ""]) }
        }
        return text
    }

    /// A random, mostly valid expression built from field items.
    mutating func validish() -> String {
        if rng.chance(0.4) { return rng.pick(FuzzAlphabet.valid) }
        let ranges = [0...59, 0...59, 0...23, 1...31, 1...12, 0...7]
        var fields: [String] = []
        for (index, range) in ranges.enumerated() where index > 0 || rng.chance(0.2) {
            let items = (0..<rng.int(1...3)).map { _ -> String in
                let a = rng.int(range)
                let b = rng.int(range)
                switch rng.int(0...9) {
                case 0: return "*"
                case 1: return "*/\(rng.int(1...range.count))"
                case 2: return "\(a)-\(b)"
                case 3: return "\(a)-\(b)/\(rng.int(1...range.count))"
                case 4: return "\(a)/\(rng.int(1...range.count))"
                case 5: return rng.pick(["H", "H/\(rng.int(1...range.count))", "H(\(min(a, b))-\(max(a, b)))"])
                case 6 where index == 3: return rng.pick(["L", "L-\(rng.int(0...30))", "\(rng.int(1...31))W", "LW"])
                case 6 where index == 5: return rng.pick(["\(rng.int(0...7))L", "\(rng.int(0...7))#\(rng.int(1...5))"])
                default: return "\(a)"
                }
            }
            fields.append(items.joined(separator: ","))
        }
        var text = fields.joined(separator: " ")
        if rng.chance(0.1) { text = "CRON_TZ=" + rng.pick(FuzzAlphabet.zones) + " " + text }
        return text
    }

    mutating func mutated() -> String {
        var text = validish()
        let count = rng.chance(0.1) ? 0 : (rng.chance(0.55) ? 1 : rng.int(2...4))
        for _ in 0..<count { text = mutate(text) }
        return text
    }

    mutating func mutate(_ text: String) -> String {
        var scalars = Array(text.unicodeScalars)
        let position = rng.int(0...scalars.count)
        switch rng.int(0...11) {
        case 0:
            scalars.insert(scalar(), at: position)
        case 1:
            scalars.insert(contentsOf: rng.pick(FuzzAlphabet.tokens).unicodeScalars, at: position)
        case 2 where !scalars.isEmpty:
            let start = min(position, scalars.count - 1)
            scalars.removeSubrange(start..<min(scalars.count, start + rng.int(1...5)))
        case 3 where !scalars.isEmpty:
            scalars[min(position, scalars.count - 1)] = scalar()
        case 4, 5:
            var fields = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard fields.count > 1 else { return text + " " + rng.pick(FuzzAlphabet.tokens) }
            let i = rng.int(0...fields.count - 1)
            let j = rng.int(0...fields.count - 1)
            switch rng.int(0...3) {
            case 0: fields.swapAt(i, j)
            case 1: fields.insert(fields[i], at: j)
            case 2: fields.remove(at: i)
            default: fields.insert(rng.pick(FuzzAlphabet.tokens), at: j)
            }
            return fields.joined(separator: " ")
        case 6, 7:
            // A number replaced by a huge, negative, non-ASCII or otherwise odd one.
            let digits = scalars.indices.filter { scalars[$0].properties.numericType != nil && scalars[$0].isASCII }
            guard let at = digits.isEmpty ? nil : rng.pick(digits) else {
                return text + rng.pick(FuzzAlphabet.weirdNumbers)
            }
            var end = at
            while end < scalars.count && scalars[end].isASCII && scalars[end].properties.numericType != nil { end += 1 }
            var start = at
            while start > 0 && scalars[start - 1].isASCII && scalars[start - 1].properties.numericType != nil {
                start -= 1
            }
            scalars.replaceSubrange(start..<end, with: rng.pick(FuzzAlphabet.weirdNumbers).unicodeScalars)
        case 8:
            return rng.chance(0.5) ? text.lowercased() : text.uppercased()
        case 9:
            let noise = rng.pick([",", "/", "-", "#", "L", "W", "?", "H", "(", ")", ",,", "--", "//", "/0", "#0", "#6"])
            scalars.insert(contentsOf: noise.unicodeScalars, at: position)
        case 10:
            // Spaces replaced by other whitespace or line breaks.
            let replacement = rng.pick(["\u{A0}", "\u{3000}", "\n", "\r\n", "\u{B}", "\u{2028}", "\t\t", ""])
            return text.replacingOccurrences(of: " ", with: replacement)
        default:
            let zone = rng.chance(0.5) ? rng.pick(FuzzAlphabet.zones) : rng.pick(FuzzAlphabet.weirdZones)
            return rng.pick(["CRON_TZ=", "TZ=", "CRON_TZ=TZ=", "cron_tz="]) + zone + rng.pick([" ", "\t", ""]) + text
        }
        return String(String.UnicodeScalarView(scalars))
    }

    /// 1-64 KB: fixed adversarial shapes first, then a short chunk repeated, or a valid expression with
    /// one enormous field.
    mutating func long(iteration: Int) -> String {
        if iteration < Self.adversarial.count {
            return String(Self.adversarial[iteration].unicodeScalars.prefix(maxLength))
        }
        let length = min(maxLength, Int(pow(2.0, Double(rng.int(10...16)))))
        if rng.chance(0.5) {
            let chunk = rng.pick([tokens(), unicode(), "1 ", "1,", "*/5,", "-", " ", "H(", "#", "@every 1s", "59-0/1,"])
            let repeated = String(
                repeating: chunk.isEmpty ? "1" : chunk, count: max(1, length / max(1, chunk.utf8.count)))
            return rng.chance(0.5) ? "0 0 * * " + repeated : repeated
        }
        let fields = ["*", "*", "*", "*", "*"]
        let item = rng.pick(["1", "59", "0-59/7", "JAN", "L", "1W", "5L", "1#2"])
        var list = String(repeating: item + ",", count: length / (item.count + 1))
        list.removeLast()
        var all = fields
        all[rng.int(0...4)] = list
        return all.joined(separator: " ")
    }

    mutating func options() -> CronExpression.Options {
        var options = CronExpression.Options()
        switch rng.int(0...99) {
        case 0..<85: options.timeZone = rng.pick(FuzzAlphabet.zones)
        case 85..<95: options.timeZone = rng.pick(FuzzAlphabet.weirdZones)
        default: options.timeZone = unicode()
        }
        if rng.chance(0.2) { options.seed = rng.chance(0.5) ? unicode() : "job-\(rng.int(0...999))" }
        options.dayMatch = rng.pick(CronExpression.DayMatch.allCases)
        options.dstGap = rng.pick(CronExpression.GapPolicy.allCases)
        options.dstFold = rng.pick(CronExpression.FoldPolicy.allCases)
        return options
    }

    mutating func input(_ source: CronFuzzSource, iteration: Int) -> String {
        switch source {
        case .bytes: bytes()
        case .unicode: unicode()
        case .tokens: tokens()
        case .mutations: mutated()
        case .long: long(iteration: iteration)
        }
    }

    /// Mostly 1900-2200; sometimes the ends of Foundation's range.
    mutating func start() -> Int64 {
        switch rng.int(0...49) {
        case 0: Int64(Date.distantPast.timeIntervalSince1970)
        case 1: Int64(Date.distantFuture.timeIntervalSince1970)
        default: Int64(rng.int(-2_208_988_800...7_258_118_400))
        }
    }
}

// MARK: - Checking

fileprivate struct FuzzReport {
    var inputs = 0
    var parsed = 0
    var rejected = 0
    var withoutFire = 0
    var errorCodes: [String: Int] = [:]
    var violations: [String: Int] = [:]
    var recorded = 0
    var slowest: Duration = .zero
    var slowestInput = ""

    var violationCount: Int { violations.values.reduce(0, +) }

    mutating func violation(_ kind: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        violations[kind, default: 0] += 1
        guard violations[kind]! <= 3, recorded < 25 else { return }
        recorded += 1
        Issue.record(Comment(rawValue: "[\(kind)] \(message)"), sourceLocation: sourceLocation)
    }
}

fileprivate func shown(_ text: String) -> String {
    let quoted = text.debugDescription
    return quoted.count > 300 ? String(quoted.prefix(300)) + "… (\(text.utf8.count) bytes)" : quoted
}

fileprivate func exercise(
    _ text: String, _ options: CronExpression.Options, start: Int64, context: String, _ report: inout FuzzReport
) {
    let clock = ContinuousClock()
    let began = clock.now
    report.inputs += 1
    defer {
        let elapsed = clock.now - began
        if elapsed > report.slowest {
            report.slowest = elapsed
            report.slowestInput = shown(text)
        }
        if elapsed > FuzzConfig.budgetPerInput {
            report.violation("slow", "\(context) took \(elapsed) (parse, next and previous)")
        }
    }
    let cron: CronExpression
    do {
        cron = try CronExpression(text, options: options)
    } catch {
        // `error` is a CronError: the initializer has a typed throw.
        report.rejected += 1
        report.errorCodes[error.code.description, default: 0] += 1
        let message = error.description
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        // Compared as UTF-8, not as Characters: input starting with a combining mark (U+0301) joins the
        // opening quote into one Character, and the message is still right.
        func starts(_ prefix: String) -> Bool { message.utf8.starts(with: prefix.utf8) }
        if starts("invalid cron expression \"") {
            // Control characters and line breaks are escaped and long input is cut (CronError.quote).
            if !starts("invalid cron expression \(CronError.quote(trimmed))") {
                report.violation(
                    "unquoted", "\(context): the message does not quote the trimmed input: \(shown(message))")
            }
        } else if starts("unknown time zone \"") {
            if !starts("unknown time zone \(CronError.quote(options.timeZone))") {
                report.violation("unquoted", "\(context): the message does not quote the zone: \(shown(message))")
            }
        } else {
            report.violation("prefix", "\(context): unexpected message \(shown(message))")
        }
        let lineBreaks: Set<Unicode.Scalar> = ["\n", "\r", "\u{B}", "\u{C}", "\u{85}", "\u{2028}", "\u{2029}"]
        if message.unicodeScalars.contains(where: lineBreaks.contains) {
            report.violation("multi-line", "\(context): the message is not one line: \(shown(message))")
        }
        return
    }
    report.parsed += 1
    guard !cron.isReboot else {
        if cron.nextFire(afterUnixSeconds: start) != nil {
            report.violation("reboot", "\(context): @reboot has a next fire")
        }
        return
    }
    guard let next = cron.nextFire(afterUnixSeconds: start) else {
        // Possible (a schedule whose only times fall in skipped DST gaps), but it must come back.
        report.withoutFire += 1
        return
    }
    if next.unixSeconds <= start {
        report.violation("order", "\(context): nextFire(after: \(start)) = \(next.unixSeconds)")
    }
    if let previous = cron.previousFire(beforeUnixSeconds: next.unixSeconds) {
        if previous.unixSeconds >= next.unixSeconds || previous.unixSeconds > start {
            report.violation(
                "order",
                "\(context): previousFire(before: \(next.unixSeconds)) = \(previous.unixSeconds), start \(start)")
        }
    }
    if cron.nextFire(after: Date(timeIntervalSince1970: TimeInterval(start))) != next {
        report.violation("order", "\(context): nextFire(after: Date) disagrees with nextFire(afterUnixSeconds:)")
    }
}

// MARK: - Test

@Suite("Cron fuzz: random and mutated inputs parse or fail with a one-line CronError, quickly")
struct CronFuzzTests {
    @Test(
        "random bytes, Unicode, token soups, mutated and long expressions never crash, hang or garble errors",
        .timeLimit(.minutes(FuzzConfig.timeLimitMinutes)), arguments: CronFuzzSource.allCases)
    func fuzz(source: CronFuzzSource) {
        var report = FuzzReport()
        let clock = ContinuousClock()
        let began = clock.now
        let shard = UInt64(CronFuzzSource.allCases.firstIndex(of: source)!)
        for iteration in 0..<source.iterations {
            var maker = InputMaker(rng: FuzzSplitMix64(seed: FuzzConfig.seed ^ (shard << 56) ^ UInt64(iteration)))
            _ = maker.rng.next()
            if report.violations["slow"] != nil { maker.maxLength = 8192 }
            let text = maker.input(source, iteration: iteration)
            let options = maker.options()
            let start = maker.start()
            let context =
                "[\(source) #\(iteration)] input \(shown(text)) timeZone \(shown(options.timeZone)) start \(start)"
            if FuzzConfig.trace {
                // Unbuffered, so that the input behind a crash is the last line written.
                FileHandle.standardError.write(Data("fuzz \(context)\n".utf8))
            }
            exercise(text, options, start: start, context: context, &report)
        }
        let elapsed = clock.now - began
        let codes = report.errorCodes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let violations = report.violations.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        print(
            "fuzz[\(source)]: \(report.inputs) inputs in \(elapsed): \(report.parsed) parsed "
                + "(\(report.withoutFire) without a fire), \(report.rejected) rejected (\(codes)); "
                + "slowest \(report.slowest) for \(report.slowestInput); violations: "
                + (violations.isEmpty ? "none" : violations.joined(separator: ", ")))
        #expect(
            report.violationCount == 0,
            "\(source): \(report.violationCount) violations in \(report.inputs) inputs (\(violations.joined(separator: ", "))); examples above"
        )
        #expect(report.inputs == source.iterations)
        if source == .mutations || source == .tokens {
            #expect(report.parsed > 0 && report.rejected > 0, "the inputs should both parse and fail sometimes")
        }
    }
}
