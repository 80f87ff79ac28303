/// Calendar arithmetic on the proleptic Gregorian calendar, on plain integers.
///
/// Local wall times are handled as "local seconds": seconds since 1970-01-01T00:00:00 as if the wall
/// clock were UTC. The algorithms are the well-known days-from-civil conversions (era of 400 years,
/// March-based years), exact for every year an `Int64` can hold.
enum CivilTime {
    static let secondsPerDay: Int64 = 86_400

    /// Days since 1970-01-01 for a civil date.
    @inline(__always)
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count since 1970-01-01.
    @inline(__always)
    static func date(days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), Int(m), Int(d))
    }

    /// Day of the week, 0 = Sunday … 6 = Saturday.
    @inline(__always)
    static func weekday(days: Int64) -> Int {
        let w = (days + 4) % 7  // 1970-01-01 was a Thursday.
        return Int(w < 0 ? w + 7 : w)
    }

    @inline(__always)
    static func isLeap(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    @inline(__always)
    static func daysInMonth(year: Int64, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Floor division that rounds towards negative infinity.
    @inline(__always)
    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}

/// A wall-clock date and time without a zone, to the second.
public struct LocalDateTime: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The year of the proleptic Gregorian calendar, written as is (`2024`); ``CronExpression`` only
    /// computes with years 1 to 9999.
    public var year: Int
    /// The month, 1 (January) to 12 (December).
    public var month: Int
    /// The day of the month, 1 to the month's length (28 to 31).
    public var day: Int
    /// The hour on a 24-hour clock, 0 to 23.
    public var hour: Int
    /// The minute, 0 to 59.
    public var minute: Int
    /// The second, 0 to 59; there are no leap seconds.
    public var second: Int

    /// A wall time from its fields. Nothing is checked or normalised: pass values inside the ranges the
    /// properties give (`month` 1…12, `day` within the month, …), or comparisons and matches are
    /// meaningless.
    /// - Parameters:
    ///   - year: the Gregorian year.
    ///   - month: 1 to 12.
    ///   - day: 1 to the month's length.
    ///   - hour: 0 to 23; midnight when left out.
    ///   - minute: 0 to 59; 0 when left out.
    ///   - second: 0 to 59; 0 when left out.
    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// The wall time `localSeconds` after 1970-01-01T00:00:00 on a clock that keeps no zone (for a UTC
    /// instant, its Unix seconds).
    public init(localSeconds: Int64) {
        let days = CivilTime.floorDiv(localSeconds, CivilTime.secondsPerDay)
        let rest = Int(localSeconds - days * CivilTime.secondsPerDay)
        let (y, m, d) = CivilTime.date(days: days)
        self.init(year: Int(y), month: m, day: d, hour: rest / 3600, minute: rest / 60 % 60, second: rest % 60)
    }

    var localSeconds: Int64 {
        CivilTime.days(year: Int64(year), month: month, day: day) * CivilTime.secondsPerDay
            + Int64(hour * 3600 + minute * 60 + second)
    }

    /// Day of the week, 0 = Sunday … 6 = Saturday.
    public var weekday: Int { CivilTime.weekday(days: CivilTime.days(year: Int64(year), month: month, day: day)) }

    /// Whether `a` comes before `b` on the wall clock, ignoring any zone: calendar order, to the second.
    public static func < (a: LocalDateTime, b: LocalDateTime) -> Bool { a.localSeconds < b.localSeconds }

    /// `2024-11-03T01:30:00`.
    public var description: String { iso8601(seconds: true) }

    /// ISO 8601 without an offset; `seconds: false` drops `:SS`.
    public func iso8601(seconds: Bool = true) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(19)
        appendISO8601(seconds: seconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``iso8601(seconds:)``'s text to `bytes` (ASCII), without making a string: for writers
    /// of many fires, such as `schedule next --count 100000`.
    public func appendISO8601(seconds: Bool = true, to bytes: inout [UInt8]) {
        // The fields of any fire: written into a buffer on the stack, appended at once.
        if (0...9999).contains(year), (0...99).contains(month), (0...99).contains(day), (0...99).contains(hour),
            (0...99).contains(minute), (0...99).contains(second)
        {
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 19) { buffer in
                Self.put(year / 100, at: 0, in: buffer)
                Self.put(year % 100, at: 2, in: buffer)
                buffer[4] = UInt8(ascii: "-")
                Self.put(month, at: 5, in: buffer)
                buffer[7] = UInt8(ascii: "-")
                Self.put(day, at: 8, in: buffer)
                buffer[10] = UInt8(ascii: "T")
                Self.put(hour, at: 11, in: buffer)
                buffer[13] = UInt8(ascii: ":")
                Self.put(minute, at: 14, in: buffer)
                buffer[16] = UInt8(ascii: ":")
                Self.put(second, at: 17, in: buffer)
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<(seconds ? 19 : 16)]))
            }
            return
        }
        Self.append(year, width: 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.append(month, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        Self.append(day, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        Self.append(hour, width: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        Self.append(minute, width: 2, to: &bytes)
        if seconds {
            bytes.append(UInt8(ascii: ":"))
            Self.append(second, width: 2, to: &bytes)
        }
    }

    /// Writes `value` (0 to 99) as two digits at `index` of `buffer`.
    @inline(__always)
    static func put(_ value: Int, at index: Int, in buffer: UnsafeMutableBufferPointer<UInt8>) {
        buffer[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value / 10)
        buffer[index + 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value % 10)
    }

    /// Appends `value` in decimal, zero-padded to `width` digits, a `-` before it when negative.
    static func append(_ value: Int, width: Int, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        // Up to 20 digits, least significant first.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for _ in count..<max(count, width) { bytes.append(UInt8(ascii: "0")) }
            for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[index]) }
        }
    }
}
