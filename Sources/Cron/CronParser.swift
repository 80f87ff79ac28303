/// Turns cron text into a ``CronExpression/Kind``. The dialect is described in `docs/cron.md`: 5 or 6
/// fields, names, lists, ranges (wrapping when start > end), steps, `?`, `L`, `L-n`, `nW`, `LW`, `nL`,
/// `n#k`, Jenkins `H` forms, macros and `CRON_TZ=`/`TZ=` prefixes.
///
/// The day rule is Vixie cron's: a day field is a wildcard when it is `*` or `?` or begins with `*`
/// (`*/2`, `*,15`; not `1,*`). When neither day field is a wildcard a day matches if either field
/// matches; otherwise both must match. ``CronExpression/DayMatch`` can ask for another rule.
struct CronParser {
    enum Field: Int, CaseIterable {
        case second, minute, hour, dayOfMonth, month, dayOfWeek

        var name: String {
            switch self {
            case .second: "second"
            case .minute: "minute"
            case .hour: "hour"
            case .dayOfMonth: "day-of-month"
            case .month: "month"
            case .dayOfWeek: "day-of-week"
            }
        }

        var bounds: ClosedRange<Int> {
            switch self {
            case .second, .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 0...7
            }
        }

        /// The values a plain `H` or `*` spreads over (Sunday once; days that every month has).
        var cycle: ClosedRange<Int> {
            switch self {
            case .dayOfWeek: 0...6
            default: bounds
            }
        }

        var allowedNames: String {
            switch self {
            case .month: "; allowed: 1-12 or JAN-DEC"
            case .dayOfWeek: "; allowed: 0-7 (0 and 7 are Sunday) or SUN-SAT"
            default: ""
            }
        }
    }

    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    static let macroList = "@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every DURATION, @reboot"

    let expression: String
    let seed: String
    let dayMatch: CronExpression.DayMatch

    /// Parses the expression proper (without a zone prefix). `offset` is the column where it starts.
    func parse(_ body: Substring, column offset: Int) throws(CronError) -> CronExpression.Kind {
        if body.hasPrefix("@") {
            let words = body.split(whereSeparator: { $0 == " " || $0 == "\t" })
            let macro = words[0].lowercased()
            if macro == "@reboot" || macro == "@every" || Self.macros[macro] != nil {
                let arguments = words.dropFirst()
                if macro == "@every" {
                    guard arguments.count == 1, let argument = arguments.first else {
                        throw error(
                            .invalidDuration, "@every takes one duration, like @every 90s, @every 15m or @every 1h30m")
                    }
                    return .every(seconds: try Self.duration(String(argument), expression: expression))
                }
                guard arguments.isEmpty else {
                    throw error(
                        .syntax,
                        "\(words[0]) takes no fields, found \(CronError.quote(arguments.joined(separator: " ")))")
                }
                if macro == "@reboot" { return .reboot }
                if let fields = Self.macros[macro] { return try parse(Substring(fields), column: offset) }
            }
            throw error(.unknownMacro, "unknown macro \(CronError.quote(words[0])); allowed: \(Self.macroList)")
        }

        // Fields and their columns, in one pass; past 7 fields the count is all that matters.
        var fields: [(text: Substring, column: Int)] = []
        var index = body.startIndex
        var column = offset
        while index < body.endIndex {
            if body[index] == " " || body[index] == "\t" {
                index = body.index(after: index)
                column += 1
                continue
            }
            if fields.count == 7 {
                fields.append(("", column))
                break
            }
            let start = index
            let startColumn = column
            while index < body.endIndex && body[index] != " " && body[index] != "\t" {
                index = body.index(after: index)
                column += 1
            }
            fields.append((body[start..<index], startColumn))
        }
        guard fields.count == 5 || fields.count == 6 else {
            let found = fields.isEmpty ? "none" : fields.count > 7 ? "more than 7" : "\(fields.count)"
            throw error(
                .fieldCount,
                "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found \(found)")
        }
        if fields.count == 5 { fields.insert(("0", 0), at: 0) }

        var spec = CronSpec()
        spec.dayMatch = dayMatch
        for field in Field.allCases {
            let (text, column) = fields[field.rawValue]
            try parseField(field, text, column: column, into: &spec)
        }
        return .calendar(spec)
    }

    // MARK: - Fields

    private func parseField(_ field: Field, _ text: Substring, column: Int, into spec: inout CronSpec) throws(CronError)
    {
        var set = FieldSet()
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        if text == "?" {
            guard field == .dayOfMonth || field == .dayOfWeek else {
                throw fieldError(
                    .misplaced, field, text, column, item: text,
                    "uses ?, which is allowed only in day-of-month and day-of-week")
            }
        }
        let restricted = text != "*" && text != "?"
        // Vixie cron reads a day field as a wildcard when its first character is `*`.
        let star = text == "?" || text.hasPrefix("*")
        for item in items where text != "?" {
            guard !item.isEmpty else {
                throw fieldError(.syntax, field, text, column, item: nil, "has an empty list item")
            }
            try parseItem(field, item, text: text, column: column, set: &set, spec: &spec)
        }
        switch field {
        case .second: spec.seconds = set
        case .minute: spec.minutes = set
        case .hour: spec.hours = set
        case .dayOfMonth:
            spec.daysOfMonth = set
            spec.dayOfMonthRestricted = restricted
            spec.dayOfMonthStar = star
        case .month: spec.months = set
        case .dayOfWeek:
            // 7 is Sunday too.
            if set.contains(7) { set.bits &= ~(UInt64(1) << 7); set.insert(0) }
            spec.daysOfWeek = set
            spec.dayOfWeekRestricted = restricted
            spec.dayOfWeekStar = star
        }
    }

    private func parseItem(
        _ field: Field, _ item: Substring, text: Substring, column: Int, set: inout FieldSet, spec: inout CronSpec
    ) throws(CronError) {
        // Uppercase ASCII letters only, so that positions in `upper` are positions in `item`.
        let upper = String(item.map { $0.isASCII && $0.isLowercase ? Character($0.uppercased()) : $0 })
        func fail(_ code: CronError.Code, _ detail: String, at part: Substring? = nil) -> CronError {
            var quoted = item
            if let part {
                let offset = upper.distance(from: upper.startIndex, to: part.startIndex)
                let start = item.index(item.startIndex, offsetBy: offset)
                quoted = item[start..<item.index(start, offsetBy: part.count)]
            }
            return fieldError(code, field, text, column, item: quoted, detail)
        }

        if upper == "?" {
            throw fail(.misplaced, "uses ? in a list; ? must be the whole field")
        }

        // L and W forms.
        let lastOrWeekday =
            upper == "L" || upper == "LW" || upper.hasPrefix("L-")
            || (upper.hasSuffix("W") && Self.number(upper.dropLast()) != nil)
            || (upper.hasSuffix("L")
                && (Self.number(upper.dropLast()) != nil || Self.dayNames.contains(String(upper.dropLast()))))
        if lastOrWeekday {
            switch field {
            case .dayOfMonth:
                if upper == "L" {
                    spec.lastDayOffsets.insert(0)
                    return
                }
                if upper == "LW" {
                    spec.lastWeekdayOfMonth = true
                    return
                }
                if upper.hasPrefix("L-") {
                    guard let n = Self.number(upper.dropFirst(2)) else {
                        throw fail(.syntax, "is not L-n with a number of days n")
                    }
                    guard n <= 30 else { throw fail(.outOfRange, "has offset \(n); L-n allows 0-30") }
                    spec.lastDayOffsets.insert(n)
                    return
                }
                if upper.hasSuffix("W") {
                    guard let n = Self.number(upper.dropLast()) else {
                        throw fail(.syntax, "is not nW with a day number n (or LW)")
                    }
                    guard (1...31).contains(n) else { throw fail(.outOfRange, "has day \(n); nW allows 1-31") }
                    spec.nearestWeekdays.insert(n)
                    return
                }
                throw fail(
                    .misplaced, "uses nL, which is allowed only in day-of-week; day-of-month takes L, L-n, LW or nW")
            case .dayOfWeek:
                if upper == "L" { throw fail(.misplaced, "needs a weekday before L, like 5L for the last Friday") }
                guard upper.hasSuffix("L"), !upper.hasPrefix("L") else {
                    throw fail(
                        .misplaced,
                        "uses L-n, LW or nW, which are allowed only in day-of-month; day-of-week takes nL or n#k")
                }
                let weekday = try value(field, upper.dropLast(), fail)
                spec.lastWeekdays.insert(weekday % 7)
                return
            default:
                throw fail(
                    .misplaced,
                    "uses L or W, which are allowed only in day-of-month (L, L-n, LW, nW) and day-of-week (nL)")
            }
        }
        if let hash = upper.firstIndex(of: "#") {
            guard field == .dayOfWeek else {
                throw fail(.misplaced, "uses #, which is allowed only in day-of-week (n#k)")
            }
            let weekday = try value(field, upper[..<hash], fail)
            guard let k = Self.number(upper[upper.index(after: hash)...]) else {
                throw fail(.syntax, "is not n#k with an occurrence number k")
            }
            guard (1...5).contains(k) else { throw fail(.outOfRange, "has occurrence \(k); n#k allows 1-5") }
            spec.nthWeekdays.insert((weekday % 7) * 5 + k - 1)
            return
        }

        // Step.
        var base = Substring(upper)
        var step: Int?
        if let slash = upper.firstIndex(of: "/") {
            base = upper[..<slash]
            let stepText = upper[upper.index(after: slash)...]
            guard let n = Self.number(stepText) else {
                throw fail(.syntax, "has step \(CronError.quote(stepText)); a step is a number")
            }
            guard n >= 1 else { throw fail(.outOfRange, "has step 0; steps must be at least 1") }
            let span = field.cycle.count
            guard n <= span else { throw fail(.outOfRange, "has step \(n); steps in this field allow 1-\(span)") }
            step = n
        }

        // Jenkins H.
        if base.hasPrefix("H") {
            var low = field == .dayOfMonth ? 1 : field.cycle.lowerBound
            var high = field == .dayOfMonth ? 28 : field.cycle.upperBound
            let rest = base.dropFirst()
            if !rest.isEmpty {
                guard rest.hasPrefix("("), rest.hasSuffix(")"), let dash = rest.firstIndex(of: "-") else {
                    throw fail(.syntax, "is not H, H(a-b), H/n or H(a-b)/n")
                }
                low = try value(field, rest[rest.index(after: rest.startIndex)..<dash], fail)
                high = try value(field, rest[rest.index(after: dash)..<rest.index(before: rest.endIndex)], fail)
                guard low <= high else { throw fail(.outOfRange, "has H range \(low)-\(high); H(a-b) needs a <= b") }
            }
            let width = high - low + 1
            let hash = CronHash.value(seed: seed, field: field.rawValue)
            if let step {
                let start = low + Int(hash % UInt64(min(step, width)))
                for v in stride(from: start, through: high, by: step) { set.insert(v) }
            } else {
                set.insert(low + Int(hash % UInt64(width)))
            }
            return
        }

        // *, a, a-b, with an optional step.
        let cycle = field.cycle
        var first: Int
        var last: Int
        if base == "*" {
            first = cycle.lowerBound
            last = cycle.upperBound
        } else if let dash = base.firstIndex(of: "-") {
            first = try value(field, base[..<dash], fail)
            last = try value(field, base[base.index(after: dash)...], fail)
        } else {
            first = try value(field, base, fail)
            last = step == nil ? first : field.bounds.upperBound  // a/n runs to the field's maximum (7 in day-of-week)
        }
        if field == .dayOfWeek && first > last {
            first %= 7
            last %= 7
        }
        let count = first <= last ? last - first + 1 : (cycle.upperBound - first + 1) + (last - cycle.lowerBound + 1)
        var v = first
        var i = 0
        while i < count {
            set.insert(v)
            for _ in 0..<(step ?? 1) {
                v = v == cycle.upperBound && first > last ? cycle.lowerBound : v + 1
            }
            i += step ?? 1
        }
    }

    /// A number or, in month and day-of-week, a three-letter name, checked against the field's bounds.
    private func value(
        _ field: Field, _ text: Substring, _ fail: (CronError.Code, String, Substring?) -> CronError
    )
        throws(CronError) -> Int
    {
        if let n = Self.number(text) {
            guard field.bounds.contains(n) else {
                throw fail(.outOfRange, "is out of range \(field.bounds.lowerBound)-\(field.bounds.upperBound)", text)
            }
            return n
        }
        let names = field == .month ? Self.monthNames : (field == .dayOfWeek ? Self.dayNames : [])
        if let i = names.firstIndex(of: String(text)) { return field == .month ? i + 1 : i }
        if text.isEmpty { throw fail(.syntax, "has a missing value\(field.allowedNames)", nil) }
        if text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw fail(.outOfRange, "is out of range \(field.bounds.lowerBound)-\(field.bounds.upperBound)", text)
        }
        let allowed =
            field.allowedNames.isEmpty
            ? "; allowed: numbers \(field.bounds.lowerBound)-\(field.bounds.upperBound)" : field.allowedNames
        throw fail(.syntax, "is not a known value\(allowed)", text)
    }

    static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 6, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    // MARK: - Errors

    func error(_ code: CronError.Code, _ detail: String) -> CronError {
        CronError(code, "invalid cron expression \(CronError.quote(expression)): \(detail)")
    }

    private func fieldError(
        _ code: CronError.Code, _ field: Field, _ text: Substring, _ column: Int, item: Substring?, _ detail: String
    ) -> CronError {
        var subject = "\(field.name) field \(CronError.quote(text))"
        if let item, item != text { subject += ": \(CronError.quote(item))" }
        return CronError(
            code, "invalid cron expression \(CronError.quote(expression)): \(subject) \(detail)", field: field.name,
            column: column == 0 ? nil : column)
    }

    // MARK: - @every

    /// Seconds in a duration such as `90s`, `15m`, `1h30m`, `2d`.
    static func duration(_ text: String, expression: String) throws(CronError) -> Int64 {
        let invalid = CronError(
            .invalidDuration,
            "invalid cron expression \(CronError.quote(expression)): @every duration \(CronError.quote(text)) is invalid; "
                + "use whole numbers with units d, h, m, s, like 90s, 15m or 1h30m")
        var total: Int64 = 0
        var digits = ""
        var sawUnit = false
        for ch in text.lowercased() {
            if ch.isASCII && ch.isNumber {
                digits.append(ch)
                guard digits.count <= 9 else { throw invalid }
                continue
            }
            guard let n = Int64(digits) else { throw invalid }
            switch ch {
            case "d": total += n * 86_400
            case "h": total += n * 3600
            case "m": total += n * 60
            case "s": total += n
            default: throw invalid
            }
            guard total <= 366 * 86_400 * 100 else {
                throw CronError(
                    .invalidDuration,
                    "invalid cron expression \(CronError.quote(expression)): @every duration \(CronError.quote(text)) is over 100 years"
                )
            }
            digits = ""
            sawUnit = true
        }
        guard digits.isEmpty, sawUnit else { throw invalid }
        guard total > 0 else {
            throw CronError(
                .invalidDuration,
                "invalid cron expression \(CronError.quote(expression)): @every duration \(CronError.quote(text)) must be at least 1s"
            )
        }
        guard total <= 366 * 86_400 * 100 else {
            throw CronError(
                .invalidDuration,
                "invalid cron expression \(CronError.quote(expression)): @every duration \(CronError.quote(text)) is over 100 years"
            )
        }
        return total
    }
}

/// The stable hash behind Jenkins-style `H`: FNV-1a over the seed, mixed with the field (SplitMix64),
/// so that the same schedule id gives the same values on every machine and every start.
enum CronHash {
    static func value(seed: String, field: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in seed.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        var z = h &+ UInt64(field + 1) &* 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
