// A cron expression read out in plain English, for people (the status pages): "at 02:00 every day,
// Europe/Berlin", "every 15 minutes on Monday–Friday, UTC". Built from the parsed fields, so `H`
// and macros read as the values they stand for; a field this reading has no words for is quoted as
// written instead of guessed at.

extension CronExpression {
    /// The expression in plain English with its time zone: `at 02:00 every day, Europe/Berlin`,
    /// `every 15 minutes, UTC`, `at 09:00 and 17:30 on Monday–Friday, UTC`, `every 1h30m`,
    /// `once each time the daemon starts`.
    public var reading: String {
        switch kind {
        case .reboot: return "once each time the daemon starts"
        case .every(let seconds): return "every \(Self.interval(seconds))"
        case .calendar(let spec): return "\(CronReading(spec: spec, text: text).sentence), \(timeZone)"
        }
    }

    /// `1h30m`, `45s`, `2d`: an `@every` interval as schedule files write it.
    static func interval(_ seconds: Int64) -> String {
        var rest = seconds
        var text = ""
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text.isEmpty ? "0s" : text
    }
}

/// Reads one calendar expression's fields.
struct CronReading {
    let spec: CronSpec
    let text: String

    static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    static let months = [
        "", "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]

    /// The time of day, then the days, then the months.
    var sentence: String {
        let time = self.time
        // "every 15 minutes every day" says nothing more than "every 15 minutes".
        let days = self.days.flatMap { $0 == "every day" && !time.hasPrefix("at ") ? nil : $0 }
        return [time, days, monthsPart].compactMap { $0 }.joined(separator: " ")
    }

    // MARK: - Time of day

    var time: String {
        let seconds = spec.seconds.members
        let minutes = spec.minutes.members
        let hours = spec.hours.members
        let allMinutes = minutes.count == 60
        let allHours = hours.count == 24
        if seconds.count == 60 {
            if allMinutes && allHours { return "every second" }
            return "every second of " + clockSpan(minutes: minutes, hours: hours)
        }
        if let step = Self.step(seconds, span: 60), step > 1, allMinutes, allHours {
            return "every \(step) seconds"
        }
        let secondsText = seconds == [0] ? "" : (seconds.count == 1 ? ":\(Self.two(seconds[0]))" : nil)
        guard let secondsText else {
            return "at second \(Self.list(seconds.map(String.init))) of " + clockSpan(minutes: minutes, hours: hours)
        }
        if allMinutes {
            let every = secondsText.isEmpty ? "every minute" : "every minute at second \(seconds[0])"
            return allHours ? every : "\(every) \(hoursSpan(hours))"
        }
        if let step = Self.step(minutes, span: 60), step > 1, secondsText.isEmpty {
            let every = "every \(step) minutes" + (minutes[0] == 0 ? "" : " from minute \(minutes[0])")
            return allHours ? every : "\(every) \(hoursSpan(hours))"
        }
        if minutes.count == 1 && (allHours || Self.step(hours, span: 24).map { $0 > 1 } == true)
            && secondsText.isEmpty && hours.count > 4
        {
            let at = minutes[0] == 0 ? "on the hour" : "at minute \(minutes[0])"
            if allHours { return "every hour \(at)" }
            let step = Self.step(hours, span: 24) ?? 1
            return "every \(step) hours \(at)" + (hours[0] == 0 ? "" : " from \(Self.two(hours[0])):00")
        }
        if minutes.count * hours.count <= 6 {
            let times = hours.flatMap { h in minutes.map { m in "\(Self.two(h)):\(Self.two(m))\(secondsText)" } }
            return "at " + Self.list(times)
        }
        return "at minute \(Self.list(minutes.map(String.init))) \(hoursSpan(hours))"
    }

    /// `of every hour`, or of the hours given.
    func clockSpan(minutes: [Int], hours: [Int]) -> String {
        let minutePart = minutes.count == 60 ? "every minute" : "minute \(Self.list(minutes.map(String.init)))"
        return hours.count == 24 ? minutePart : "\(minutePart) \(hoursSpan(hours))"
    }

    /// `from 09:00 to 17:59`, `in hours 9 and 17`.
    func hoursSpan(_ hours: [Int]) -> String {
        if let first = hours.first, let last = hours.last, hours.count == last - first + 1, hours.count > 1 {
            return "from \(Self.two(first)):00 to \(Self.two(last)):59"
        }
        return hours.count == 1 ? "in hour \(hours[0])" : "in hours \(Self.list(hours.map(String.init)))"
    }

    // MARK: - Days

    var days: String? {
        let domSpecial =
            !spec.lastDayOffsets.isEmpty || !spec.nearestWeekdays.isEmpty || spec.lastWeekdayOfMonth
        let dowSpecial = !spec.lastWeekdays.isEmpty || !spec.nthWeekdays.isEmpty
        if domSpecial || dowSpecial { return "on the days of \"\(dayFields)\"" }
        let dom = spec.dayOfMonthRestricted ? spec.daysOfMonth.members : []
        let dow = spec.dayOfWeekRestricted ? spec.daysOfWeek.members : []
        let domText = dom.isEmpty || dom.count == 31 ? nil : "on day \(Self.list(dom.map(String.init))) of the month"
        let dowText = dow.isEmpty || dow.count == 7 ? nil : "on " + Self.weekdayList(dow)
        switch (domText, dowText) {
        case (nil, nil): return "every day"
        case (let d?, nil): return d
        case (nil, let w?): return w
        case (let d?, let w?): return spec.eitherDayMatches ? "\(d) or \(w)" : "\(d) if it is \(w.dropFirst(3))"
        }
    }

    /// The day-of-month and day-of-week fields as written (the last two of the five).
    var dayFields: String {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
            .filter { !$0.hasPrefix("CRON_TZ=") && !$0.hasPrefix("TZ=") }
        let count = fields.count
        guard count >= 5 else { return text }
        return "\(fields[count - 3]) \(fields[count - 1])"
    }

    var monthsPart: String? {
        let months = spec.months.members
        guard months.count < 12 else { return nil }
        return "in " + Self.list(months.map { Self.months[$0] })
    }

    // MARK: - Words

    /// `Monday–Friday` for a run of three or more days, else a list.
    static func weekdayList(_ days: [Int]) -> String {
        if let first = days.first, let last = days.last, days.count >= 3, days.count == last - first + 1 {
            return "\(weekdays[first])–\(weekdays[last])"
        }
        return list(days.map { weekdays[$0] })
    }

    /// The step of `values` when they are every n-th from the first, over the whole `span`
    /// (`0,15,30,45` over 60: 15); `nil` otherwise.
    static func step(_ values: [Int], span: Int) -> Int? {
        guard values.count >= 2, let first = values.first else { return nil }
        let step = values[1] - first
        guard step > 0, first < step else { return nil }
        for (index, value) in values.enumerated() where value != first + index * step { return nil }
        return values.last! + step >= span ? step : nil
    }

    /// `a`, `a and b`, `a, b and c`.
    static func list(_ items: [String]) -> String {
        switch items.count {
        case 0: return ""
        case 1: return items[0]
        default: return items.dropLast().joined(separator: ", ") + " and " + items.last!
        }
    }

    static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
