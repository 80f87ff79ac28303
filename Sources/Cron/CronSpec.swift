/// The parsed, expanded form of a calendar cron expression: one bitset per field plus the
/// day-of-month and day-of-week specials that depend on the month (`L`, `W`, `nL`, `n#k`).
struct CronSpec: Sendable, Hashable {
    var seconds = FieldSet()  // 0-59
    var minutes = FieldSet()  // 0-59
    var hours = FieldSet()  // 0-23
    var daysOfMonth = FieldSet()  // 1-31
    var months = FieldSet()  // 1-12
    var daysOfWeek = FieldSet()  // 0-6

    /// Bit n: `L-n` (bit 0 is plain `L`).
    var lastDayOffsets = FieldSet()
    /// Bit n: `nW`, the weekday nearest day n.
    var nearestWeekdays = FieldSet()
    /// `LW`, the last weekday of the month.
    var lastWeekdayOfMonth = false
    /// Bit w: `wL`, the last such weekday of the month.
    var lastWeekdays = FieldSet()
    /// Bit `w * 5 + (k - 1)`: `w#k`, the k-th such weekday of the month.
    var nthWeekdays = FieldSet()

    /// Day-of-month is something other than `*` or `?`: it narrows the days.
    var dayOfMonthRestricted = false
    /// Day-of-week is something other than `*` or `?`: it narrows the days.
    var dayOfWeekRestricted = false
    /// Day-of-month is `?` or begins with `*`: a wildcard for Vixie's day rule.
    var dayOfMonthStar = true
    /// Day-of-week is `?` or begins with `*`: a wildcard for Vixie's day rule.
    var dayOfWeekStar = true
    var dayMatch: CronExpression.DayMatch = .vixie

    /// Whether a day matches when either day field matches (rather than both), by ``dayMatch``.
    var eitherDayMatches: Bool {
        switch dayMatch {
        case .vixie: !dayOfMonthStar && !dayOfWeekStar
        case .or: dayOfMonthRestricted && dayOfWeekRestricted
        case .and: false
        }
    }

    /// Every hour of the day can fire: the schedule follows real time across DST changes.
    var isIntervalLike: Bool { hours.bits == 0xFF_FFFF }

    /// The days of `month` in `year` that match, as bits 1…31.
    @inline(__always)
    func dayMask(year: Int64, month: Int) -> UInt64 {
        let length = CivilTime.daysInMonth(year: year, month: month)
        let inMonth: UInt64 = (UInt64(1) << UInt64(length + 1)) &- 2
        if !dayOfMonthRestricted && !dayOfWeekRestricted { return inMonth }
        let firstDay = CivilTime.days(year: year, month: month, day: 1)
        let firstWeekday = CivilTime.weekday(days: firstDay)

        var dom: UInt64 = 0
        if dayOfMonthRestricted {
            dom = daysOfMonth.bits
            if !lastDayOffsets.isEmpty {
                var offsets = lastDayOffsets.bits
                while offsets != 0 {
                    let n = offsets.trailingZeroBitCount
                    offsets &= offsets &- 1
                    if n < length { dom |= UInt64(1) << UInt64(length - n) }
                }
            }
            if !nearestWeekdays.isEmpty {
                var days = nearestWeekdays.bits
                while days != 0 {
                    let n = days.trailingZeroBitCount
                    days &= days &- 1
                    if let d = Self.nearestWeekday(to: n, length: length, firstWeekday: firstWeekday) {
                        dom |= UInt64(1) << UInt64(d)
                    }
                }
            }
            if lastWeekdayOfMonth {
                let w = (firstWeekday + length - 1) % 7
                let d = w == 6 ? length - 1 : (w == 0 ? length - 2 : length)
                dom |= UInt64(1) << UInt64(d)
            }
        }

        var dow: UInt64 = 0
        if dayOfWeekRestricted {
            // Bits 1, 8, 15, 22, 29, 36 shifted to the first day with each weekday.
            let pattern: UInt64 = 0b1_0000001_0000001_0000001_0000001_0000001_0
            var weekdays = daysOfWeek.bits
            while weekdays != 0 {
                let w = weekdays.trailingZeroBitCount
                weekdays &= weekdays &- 1
                dow |= pattern << UInt64((w - firstWeekday + 7) % 7)
            }
            if !lastWeekdays.isEmpty {
                let lastWeekday = (firstWeekday + length - 1) % 7
                var weekdays = lastWeekdays.bits
                while weekdays != 0 {
                    let w = weekdays.trailingZeroBitCount
                    weekdays &= weekdays &- 1
                    dow |= UInt64(1) << UInt64(length - (lastWeekday - w + 7) % 7)
                }
            }
            if !nthWeekdays.isEmpty {
                var items = nthWeekdays.bits
                while items != 0 {
                    let bit = items.trailingZeroBitCount
                    items &= items &- 1
                    let d = 1 + (bit / 5 - firstWeekday + 7) % 7 + 7 * (bit % 5)
                    if d <= length { dow |= UInt64(1) << UInt64(d) }
                }
            }
        }

        // A field that does not narrow the days matches all of them.
        if !dayOfMonthRestricted { dom = inMonth }
        if !dayOfWeekRestricted { dow = inMonth }
        return (eitherDayMatches ? dom | dow : dom & dow) & inMonth
    }

    /// The weekday (Monday–Friday) nearest to day `n`, never leaving the month (Quartz `nW`).
    static func nearestWeekday(to n: Int, length: Int, firstWeekday: Int) -> Int? {
        guard n <= length else { return nil }
        switch (firstWeekday + n - 1) % 7 {
        case 6: return n == 1 ? 3 : n - 1  // Saturday: Friday before, or Monday after the 1st.
        case 0: return n == length ? n - 2 : n + 1  // Sunday: Monday after, or Friday before the last.
        default: return n
        }
    }

    /// Whether a wall time matches, checked field by field (no search).
    func matches(_ t: LocalDateTime) -> Bool {
        seconds.contains(t.second) && minutes.contains(t.minute) && hours.contains(t.hour)
            && months.contains(t.month)
            && dayMask(year: Int64(t.year), month: t.month) & (UInt64(1) << UInt64(t.day)) != 0
    }
}

/// A set of small integers (0…63) as a bitset, with "next at or after" and "previous at or before".
struct FieldSet: Sendable, Hashable {
    var bits: UInt64 = 0

    var isEmpty: Bool { bits == 0 }

    @inline(__always)
    func contains(_ v: Int) -> Bool { v >= 0 && v < 64 && bits & (UInt64(1) << UInt64(v)) != 0 }

    @inline(__always)
    mutating func insert(_ v: Int) { bits |= UInt64(1) << UInt64(v) }

    /// The smallest member `>= v`.
    @inline(__always)
    func next(atOrAfter v: Int) -> Int? {
        if v >= 64 { return nil }
        let masked = v <= 0 ? bits : bits & (~UInt64(0) << UInt64(v))
        return masked == 0 ? nil : masked.trailingZeroBitCount
    }

    /// The largest member `<= v`.
    @inline(__always)
    func previous(atOrBefore v: Int) -> Int? {
        if v < 0 { return nil }
        let masked = v >= 63 ? bits : bits & ((UInt64(1) << UInt64(v + 1)) &- 1)
        return masked == 0 ? nil : 63 - masked.leadingZeroBitCount
    }

    var members: [Int] { (0..<64).filter(contains) }
}
