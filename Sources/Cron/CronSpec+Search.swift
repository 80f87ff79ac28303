extension CronSpec {
    /// The first matching wall time at or after `start` and before `limit` (local seconds).
    ///
    /// Walks the fields from the largest down with bitset look-ups, carrying into the next larger
    /// field when a field has no value left; each month's day set is computed once.
    func nextMatch(atOrAfter start: Int64, before limit: Int64) -> Int64? {
        let from = LocalDateTime(localSeconds: start)
        let end = LocalDateTime(localSeconds: limit)
        let endYear = Int64(end.year)
        var y = Int64(from.year)
        var mo = from.month
        var d = from.day
        var h = from.hour
        var mi = from.minute
        var s = from.second
        var maskKey = (Int64.min, 0)
        var mask = FieldSet()
        while y < endYear || (y == endYear && mo <= end.month) {
            guard let month = months.next(atOrAfter: mo) else {
                (y, mo, d, h, mi, s) = (y + 1, 1, 1, 0, 0, 0)
                continue
            }
            if month != mo { (mo, d, h, mi, s) = (month, 1, 0, 0, 0) }
            if maskKey != (y, mo) {
                maskKey = (y, mo)
                mask = FieldSet(bits: dayMask(year: y, month: mo))
            }
            guard let day = mask.next(atOrAfter: d) else {
                (mo, d, h, mi, s) = (mo + 1, 1, 0, 0, 0)
                continue
            }
            if day != d { (d, h, mi, s) = (day, 0, 0, 0) }
            guard let hour = hours.next(atOrAfter: h) else {
                (d, h, mi, s) = (d + 1, 0, 0, 0)
                continue
            }
            if hour != h { (h, mi, s) = (hour, 0, 0) }
            guard let minute = minutes.next(atOrAfter: mi) else {
                (h, mi, s) = (h + 1, 0, 0)
                continue
            }
            if minute != mi { (mi, s) = (minute, 0) }
            guard let second = seconds.next(atOrAfter: s) else {
                (mi, s) = (mi + 1, 0)
                continue
            }
            let found =
                CivilTime.days(year: y, month: mo, day: d) * CivilTime.secondsPerDay
                + Int64(h * 3600 + mi * 60 + second)
            return found < limit ? found : nil
        }
        return nil
    }

    /// The last matching wall time at or before `start` and at or after `floor` (local seconds).
    func previousMatch(atOrBefore start: Int64, notBefore floor: Int64) -> Int64? {
        let from = LocalDateTime(localSeconds: start)
        let end = LocalDateTime(localSeconds: floor)
        let endYear = Int64(end.year)
        var y = Int64(from.year)
        var mo = from.month
        var d = from.day
        var h = from.hour
        var mi = from.minute
        var s = from.second
        var maskKey = (Int64.min, 0)
        var mask = FieldSet()
        while y > endYear || (y == endYear && mo >= end.month) {
            guard let month = months.previous(atOrBefore: mo) else {
                (y, mo, d, h, mi, s) = (y - 1, 12, 31, 23, 59, 59)
                continue
            }
            if month != mo { (mo, d, h, mi, s) = (month, 31, 23, 59, 59) }
            if maskKey != (y, mo) {
                maskKey = (y, mo)
                mask = FieldSet(bits: dayMask(year: y, month: mo))
            }
            guard let day = mask.previous(atOrBefore: d) else {
                (mo, d, h, mi, s) = (mo - 1, 31, 23, 59, 59)
                continue
            }
            if day != d { (d, h, mi, s) = (day, 23, 59, 59) }
            guard let hour = hours.previous(atOrBefore: h) else {
                (d, h, mi, s) = (d - 1, 23, 59, 59)
                continue
            }
            if hour != h { (h, mi, s) = (hour, 59, 59) }
            guard let minute = minutes.previous(atOrBefore: mi) else {
                (h, mi, s) = (h - 1, 59, 59)
                continue
            }
            if minute != mi { (mi, s) = (minute, 59) }
            guard let second = seconds.previous(atOrBefore: s) else {
                (mi, s) = (mi - 1, 59)
                continue
            }
            let found =
                CivilTime.days(year: y, month: mo, day: d) * CivilTime.secondsPerDay
                + Int64(h * 3600 + mi * 60 + second)
            return found >= floor ? found : nil
        }
        return nil
    }
}
