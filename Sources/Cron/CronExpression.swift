import Foundation

/// A parsed cron expression in a time zone, able to say exactly when it fires.
///
/// The dialect and the time-zone rules are those of `docs/cron.md`: 5 or 6 fields (seconds first), names,
/// lists, wrapping ranges, steps, `?`, `L`, `L-n`, `nW`, `LW`, `nL`, `n#k`, Jenkins `H`, macros including
/// `@every` and `@reboot`, and `CRON_TZ=`/`TZ=` prefixes. Schedules whose hours cover the whole day
/// follow real time across DST changes; all others are anchored to the wall clock (a time skipped by
/// spring-forward fires once after the gap, a repeated time fires once, at its first occurrence),
/// with per-schedule overrides.
///
/// ```swift
/// let nightly = try CronExpression("30 2 * * *", options: .init(timeZone: "America/New_York"))
/// let fire = nightly.nextFire(after: .now)   // fire?.iso8601, fire?.dedupeKey, fire?.dst
/// ```
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    /// How day-of-month and day-of-week combine.
    ///
    /// The default is Vixie cron's rule, which cronie (most Linux machines' cron), macOS cron and
    /// most cron libraries share: a day field is a *wildcard* when it is `*` or `?` or begins with `*`
    /// (`*/2`, `*,15`). When neither day field is a wildcard, a day matches if either field matches
    /// (`0 0 1,15 * MON` fires on the 1st, the 15th and every Monday); otherwise both must match
    /// (`0 0 */2 * MON` fires on odd-numbered days that are Mondays). `1,*` does not begin with `*`.
    public enum DayMatch: String, Sendable, Hashable, CaseIterable {
        /// Vixie cron's rule, described above. The default.
        case vixie
        /// A day matches when either field matches whenever both narrow the days, even when one
        /// begins with `*` (`*/2`): the reading before Vixie's rule was followed. Fields that are
        /// exactly `*` or `?` still match every day.
        case or
        /// A day matches only when both fields match.
        case and
    }

    /// What a wall-anchored schedule does with nominal times that a spring-forward gap skips.
    public enum GapPolicy: String, Sendable, Hashable, CaseIterable {
        /// Fire once at the first instant after the gap; several skipped times coalesce. The default.
        case coalesce
        /// Fire each skipped time shifted by the gap's length (02:30 → 03:30).
        case shift
        /// Do not fire.
        case skip
    }

    /// What a wall-anchored schedule does with nominal times that a fall-back fold repeats.
    public enum FoldPolicy: String, Sendable, Hashable, CaseIterable {
        /// Fire at the first occurrence only. The default.
        case first
        /// Fire at the second occurrence only.
        case last
        /// Fire at both occurrences.
        case both
    }

    /// Settings that change how an expression is read and resolved.
    public struct Options: Sendable, Hashable {
        /// The IANA zone the expression is evaluated in, unless the text has a `CRON_TZ=` prefix.
        public var timeZone: String
        /// The seed for `H` values: the schedule's id. Defaults to the expression text.
        public var seed: String?
        /// How the day-of-month and day-of-week fields combine (a schedule's `day_match`); Vixie cron's
        /// rule, ``DayMatch/vixie``, by default.
        public var dayMatch: DayMatch
        /// What a wall-anchored schedule does with times a spring-forward gap skips (a schedule's
        /// `dst_gap`); ``GapPolicy/coalesce`` by default. Interval-like schedules ignore it.
        public var dstGap: GapPolicy
        /// What a wall-anchored schedule does with times a fall-back fold repeats (a schedule's
        /// `dst_fold`); ``FoldPolicy/first`` by default. Interval-like schedules ignore it.
        public var dstFold: FoldPolicy

        /// Options for an expression; every parameter left out takes the default cron behaviour.
        /// - Parameters:
        ///   - timeZone: an IANA zone name (`Europe/Berlin`); UTC by default. It is only checked when an
        ///     expression is parsed with these options.
        ///   - seed: what `H` values are derived from; `nil` uses the expression text.
        ///   - dayMatch: how the two day fields combine.
        ///   - dstGap: what happens to wall times that a spring-forward gap skips.
        ///   - dstFold: what happens to wall times that a fall-back fold repeats.
        public init(
            timeZone: String = "UTC", seed: String? = nil, dayMatch: DayMatch = .vixie, dstGap: GapPolicy = .coalesce,
            dstFold: FoldPolicy = .first
        ) {
            self.timeZone = timeZone
            self.seed = seed
            self.dayMatch = dayMatch
            self.dstGap = dstGap
            self.dstFold = dstFold
        }
    }

    enum Kind: Sendable, Hashable {
        case calendar(CronSpec)
        case every(seconds: Int64)
        case reboot
    }

    /// The expression as written, trimmed of leading and trailing white space and new lines.
    public let text: String
    /// The options the expression was parsed with, as given; a `CRON_TZ=` prefix in the text does not
    /// change their ``Options/timeZone`` (see ``timeZone`` for the zone in use).
    public let options: Options
    /// The zone the expression is evaluated in (the prefix's, or the options').
    public let timeZone: String
    let kind: Kind
    let zone: ZoneRules

    /// How far a search looks before deciding there is no fire: a full Gregorian cycle and a year.
    static let horizon: Int64 = 401 * 366 * 86_400

    /// Parses `text`.
    /// - Throws: ``CronError`` naming the field, quoting it and saying what is allowed; also for an
    ///   unknown zone and for an expression that can never fire (`0 0 30 2 *`).
    public init(_ text: String, options: Options = Options()) throws(CronError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        self.text = trimmed
        self.options = options
        guard !trimmed.isEmpty else {
            throw CronError(
                .fieldCount,
                "invalid cron expression \"\": it is empty; expected 5 fields (minute hour day-of-month month "
                    + "day-of-week), 6 with seconds first, or a macro like @daily")
        }
        var body = Substring(trimmed)
        var column = 1
        var zoneName = options.timeZone
        for prefix in ["CRON_TZ=", "TZ="] where body.hasPrefix(prefix) {
            let end = body.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? body.endIndex
            zoneName = String(body[body.index(body.startIndex, offsetBy: prefix.count)..<end])
            body = body[end...].drop(while: { $0 == " " || $0 == "\t" })
            column = trimmed.distance(from: trimmed.startIndex, to: body.startIndex) + 1
            guard ZoneRules.named(zoneName) != nil else {
                throw CronError(
                    .unknownTimeZone,
                    "invalid cron expression \(CronError.quote(trimmed)): " + Self.unknownZone(zoneName))
            }
            guard !body.isEmpty else {
                throw CronError(
                    .fieldCount,
                    "invalid cron expression \(CronError.quote(trimmed)): nothing follows \(prefix)\(CronError.quote(zoneName, marks: false))"
                )
            }
            break
        }
        guard let zone = ZoneRules.named(zoneName) else {
            throw CronError(.unknownTimeZone, Self.unknownZone(zoneName))
        }
        self.zone = zone
        self.timeZone = zoneName
        let parser = CronParser(expression: trimmed, seed: options.seed ?? trimmed, dayMatch: options.dayMatch)
        self.kind = try parser.parse(body, column: column)
        if case .calendar(let spec) = kind {
            let start = CivilTime.days(year: 2000, month: 1, day: 1) * CivilTime.secondsPerDay
            if spec.nextMatch(atOrAfter: start, before: start + Self.horizon) == nil {
                throw parser.error(
                    .neverFires, "it never fires: no date matches its day-of-month, month and day-of-week together")
            }
        }
    }

    static func unknownZone(_ name: String) -> String {
        "unknown time zone \(CronError.quote(name)); use an IANA name like America/New_York, Europe/Berlin or UTC"
    }

    /// The expression as written, trimmed of surrounding white space (``text``).
    public var description: String { text }

    /// Two expressions are equal when their trimmed text and their options are equal; `@daily` and
    /// `0 0 * * *` fire alike but are not equal.
    public static func == (a: CronExpression, b: CronExpression) -> Bool { a.text == b.text && a.options == b.options }

    /// True when the default day rule (``DayMatch/vixie``) and ``DayMatch/or`` read this expression
    /// differently: both day fields narrow the days and at least one of them begins with `*`
    /// (`0 0 */2 * 1`). Such a schedule stored before the default became Vixie's rule fires on other
    /// days now, unless its `day_match` is `or`.
    public var dayRuleDiffersFromOr: Bool {
        guard case .calendar(let spec) = kind else { return false }
        return spec.dayOfMonthRestricted && spec.dayOfWeekRestricted && (spec.dayOfMonthStar || spec.dayOfWeekStar)
    }

    /// ``dayRuleDiffersFromOr`` read from the text alone, without parsing it: true exactly when an
    /// expression written this way has it (for text that parses). A start with 10,000 schedules asks
    /// it of every one, and most have a day field that is `*`, where no parse is needed to know.
    public static func dayRuleMayDifferFromOr(_ text: String) -> Bool {
        var fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        if let first = fields.first, first.hasPrefix("CRON_TZ=") || first.hasPrefix("TZ=") { fields.removeFirst() }
        // Macros and @every never do; other field counts do not parse.
        guard fields.count == 5 || fields.count == 6 else { return false }
        let days = fields[fields.count - 3]
        let weekdays = fields[fields.count - 1]
        func restricted(_ field: Substring) -> Bool { field != "*" && field != "?" }
        return restricted(days) && restricted(weekdays) && (days.hasPrefix("*") || weekdays.hasPrefix("*"))
    }

    /// `@reboot`: fires once each time the daemon starts, never on the clock.
    public var isReboot: Bool { if case .reboot = kind { true } else { false } }

    /// True when the schedule follows real time across DST changes (its hours cover the whole day, or
    /// `@every`); false when it is anchored to the wall clock.
    public var isIntervalLike: Bool {
        switch kind {
        case .calendar(let spec): spec.isIntervalLike
        case .every: true
        case .reboot: false
        }
    }

    /// Whether a wall time matches the expression's fields (ignoring DST resolution).
    public func matches(_ local: LocalDateTime) -> Bool {
        switch kind {
        case .calendar(let spec): spec.matches(local)
        case .every(let period):
            zone.instants(forWall: local.localSeconds).contains { CivilTime.floorDiv($0, period) * period == $0 }
        case .reboot: false
        }
    }

    /// Instants this type computes with: years 0001 to 9999. Outside, there are no fires.
    public static let supportedInstants: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    /// Whole seconds of `date` rounded with `rule`, clamped just outside ``supportedInstants``;
    /// `nil` for NaN.
    static func seconds(_ date: Date, _ rule: FloatingPointRoundingRule) -> Int64? {
        let t = date.timeIntervalSince1970.rounded(rule)
        if t.isNaN { return nil }
        let low = Double(supportedInstants.lowerBound - 1)
        let high = Double(supportedInstants.upperBound + 1)
        return Int64(min(max(t, low), high))
    }

    /// The first fire strictly after `date`, or `nil` for `@reboot`.
    public func nextFire(after date: Date) -> CronFire? {
        Self.seconds(date, .down).flatMap { nextFire(afterUnixSeconds: $0) }
    }

    /// The last fire strictly before `date`, or `nil` for `@reboot`.
    public func previousFire(before date: Date) -> CronFire? {
        Self.seconds(date, .up).flatMap { previousFire(beforeUnixSeconds: $0) }
    }

    /// The fires strictly after `date`, in order, without end (empty for `@reboot`).
    public func fires(after date: Date) -> some Sequence<CronFire> {
        sequence(state: Self.seconds(date, .down)) { cursor -> CronFire? in
            guard let after = cursor, let fire = nextFire(afterUnixSeconds: after) else { return nil }
            cursor = fire.unixSeconds
            return fire
        }
    }

    /// The first fire at an instant greater than `t` (Unix seconds).
    public func nextFire(afterUnixSeconds t: Int64) -> CronFire? {
        guard t < Self.supportedInstants.upperBound else { return nil }
        let t = max(t, Self.supportedInstants.lowerBound - 1)
        let fire: CronFire?
        switch kind {
        case .reboot: fire = nil
        case .every(let period): fire = everyFire((CivilTime.floorDiv(t, period) + 1) * period)
        case .calendar(let spec): fire = nextCalendarFire(spec, after: t)
        }
        guard let fire, Self.supportedInstants.contains(fire.unixSeconds) else { return nil }
        return fire
    }

    /// The last fire at an instant less than `t` (Unix seconds).
    public func previousFire(beforeUnixSeconds t: Int64) -> CronFire? {
        guard t > Self.supportedInstants.lowerBound else { return nil }
        let t = min(t, Self.supportedInstants.upperBound + 1)
        let fire: CronFire?
        switch kind {
        case .reboot: fire = nil
        case .every(let period): fire = everyFire(CivilTime.floorDiv(t - 1, period) * period)
        case .calendar(let spec): fire = previousCalendarFire(spec, before: t)
        }
        guard let fire, Self.supportedInstants.contains(fire.unixSeconds) else { return nil }
        return fire
    }

    private func everyFire(_ instant: Int64) -> CronFire {
        let offset = zone.offset(at: instant)
        return CronFire(
            unixSeconds: instant, nominalLocalSeconds: instant + offset, utcOffset: Int(offset), dst: nil,
            keyStyle: .utc)
    }
}
