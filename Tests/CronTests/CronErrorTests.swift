import Foundation
import Testing

@testable import Cron

@Suite("Cron errors: bad input never crashes and always says what is wrong and what is allowed")
struct CronErrorTests {
    static let cases: [(String, String)] = [
        ("61 * * * *", #"minute field "61" is out of range 0-59"#),
        ("* 24 * * *", #"hour field "24" is out of range 0-23"#),
        ("* * 0 * *", #"day-of-month field "0" is out of range 1-31"#),
        ("* * 32 * *", #"day-of-month field "32" is out of range 1-31"#),
        ("* * * 13 *", #"month field "13" is out of range 1-12"#),
        ("* * * 0 *", #"month field "0" is out of range 1-12"#),
        ("* * * * 8", #"day-of-week field "8" is out of range 0-7"#),
        ("60 * * * * *", #"second field "60" is out of range 0-59"#),
        ("1,61 * * * *", #"minute field "1,61": "61" is out of range 0-59"#),
        ("5-70 * * * *", #"minute field "5-70": "70" is out of range 0-59"#),
        ("99999999999 * * * *", #"minute field "99999999999" is out of range 0-59"#),
        ("*/0 * * * *", #"minute field "*/0" has step 0; steps must be at least 1"#),
        ("*/100 * * * *", #"minute field "*/100" has step 100; steps in this field allow 1-60"#),
        ("*/x * * * *", #"minute field "*/x" has step "X"; a step is a number"#),
        ("1,,2 * * * *", #"minute field "1,,2" has an empty list item"#),
        ("1, * * * *", #"minute field "1," has an empty list item"#),
        ("-5 * * * *", #"minute field "-5" has a missing value"#),
        ("a * * * *", #"minute field "a" is not a known value; allowed: numbers 0-59"#),
        ("* * * foo *", #"month field "foo" is not a known value; allowed: 1-12 or JAN-DEC"#),
        ("* * * JAN-foo *", #"month field "JAN-foo": "foo" is not a known value; allowed: 1-12 or JAN-DEC"#),
        ("* * * * FUN", #"day-of-week field "FUN" is not a known value; allowed: 0-7 (0 and 7 are Sunday) or SUN-SAT"#),
        ("* * * MON *", #"month field "MON" is not a known value; allowed: 1-12 or JAN-DEC"#),
        (
            "L * * * *",
            #"minute field "L" uses L or W, which are allowed only in day-of-month (L, L-n, LW, nW) and day-of-week (nL)"#
        ),
        (
            "* * * L *",
            #"month field "L" uses L or W, which are allowed only in day-of-month (L, L-n, LW, nW) and day-of-week (nL)"#
        ),
        (
            "* 5W * * *",
            #"hour field "5W" uses L or W, which are allowed only in day-of-month (L, L-n, LW, nW) and day-of-week (nL)"#
        ),
        ("* * * * L", #"day-of-week field "L" needs a weekday before L, like 5L for the last Friday"#),
        (
            "* * 5L * *",
            #"day-of-month field "5L" uses nL, which is allowed only in day-of-week; day-of-month takes L, L-n, LW or nW"#
        ),
        (
            "* * * * 5W",
            #"day-of-week field "5W" uses L-n, LW or nW, which are allowed only in day-of-month; day-of-week takes nL or n#k"#
        ),
        ("* * L-31 * *", #"day-of-month field "L-31" has offset 31; L-n allows 0-30"#),
        ("* * L-x * *", #"day-of-month field "L-x" is not L-n with a number of days n"#),
        ("* * 32W * *", #"day-of-month field "32W" has day 32; nW allows 1-31"#),
        ("* * 0W * *", #"day-of-month field "0W" has day 0; nW allows 1-31"#),
        ("* * * * 5#6", #"day-of-week field "5#6" has occurrence 6; n#k allows 1-5"#),
        ("* * * * 5#0", #"day-of-week field "5#0" has occurrence 0; n#k allows 1-5"#),
        ("* * * * MON#x", #"day-of-week field "MON#x" is not n#k with an occurrence number k"#),
        ("* * * * 9#2", #"day-of-week field "9#2": "9" is out of range 0-7"#),
        ("* * 1#2 * *", #"day-of-month field "1#2" uses #, which is allowed only in day-of-week (n#k)"#),
        ("? * * * *", #"minute field "?" uses ?, which is allowed only in day-of-month and day-of-week"#),
        ("* * 1,? * *", #"day-of-month field "1,?": "?" uses ? in a list; ? must be the whole field"#),
        ("H(30-10) * * * *", #"minute field "H(30-10)" has H range 30-10; H(a-b) needs a <= b"#),
        ("H(0-70) * * * *", #"minute field "H(0-70)": "70" is out of range 0-59"#),
        ("H5 * * * *", #"minute field "H5" is not H, H(a-b), H/n or H(a-b)/n"#),
        ("* * *", "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found 3"),
        (
            "* * * * * * *",
            "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found 7"
        ),
        ("0 0 30 2 *", "it never fires: no date matches its day-of-month, month and day-of-week together"),
        ("0 0 31 4,6,9,11 *", "it never fires: no date matches its day-of-month, month and day-of-week together"),
        (
            "@fortnightly",
            #"unknown macro "@fortnightly"; allowed: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every DURATION, @reboot"#
        ),
        ("@daily 5", #"@daily takes no fields, found "5""#),
        ("@every", "@every takes one duration, like @every 90s, @every 15m or @every 1h30m"),
        ("@every 0s", #"@every duration "0s" must be at least 1s"#),
        (
            "@every 5x",
            #"@every duration "5x" is invalid; use whole numbers with units d, h, m, s, like 90s, 15m or 1h30m"#
        ),
        (
            "@every 10",
            #"@every duration "10" is invalid; use whole numbers with units d, h, m, s, like 90s, 15m or 1h30m"#
        ),
        (
            "@every 1.5h",
            #"@every duration "1.5h" is invalid; use whole numbers with units d, h, m, s, like 90s, 15m or 1h30m"#
        ),
        (
            "TZ=Mars/Base 0 0 * * *",
            #"unknown time zone "Mars/Base"; use an IANA name like America/New_York, Europe/Berlin or UTC"#
        ),
        ("CRON_TZ=UTC", "nothing follows CRON_TZ=UTC"),
    ]

    @Test("each bad expression gets its exact message", arguments: cases)
    func message(_ expression: String, _ detail: String) {
        #expect(parseError(expression) == "invalid cron expression \"\(expression)\": \(detail)")
    }

    @Test("an empty or blank expression says what is expected", arguments: ["", "   ", "\t"])
    func empty(_ expression: String) {
        #expect(
            parseError(expression)
                == "invalid cron expression \"\": it is empty; expected 5 fields (minute hour day-of-month month "
                + "day-of-week), 6 with seconds first, or a macro like @daily")
    }

    @Test("an unknown zone in the options is named", arguments: ["Mars/Base", "utc", "America/NewYork", ""])
    func unknownZone(_ zone: String) {
        #expect(
            parseError("0 0 * * *", options: .init(timeZone: zone))
                == "unknown time zone \"\(zone)\"; use an IANA name like America/New_York, Europe/Berlin or UTC")
    }

    @Test("errors carry the field and its column")
    func position() throws {
        do {
            _ = try CronExpression("0  0 * 13 *")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .outOfRange)
            #expect(error.field == "month")
            #expect(error.column == 8)
        }
        do {
            _ = try CronExpression("TZ=UTC 0 0 * * 9")
            Issue.record("expected an error")
        } catch {
            #expect(error.field == "day-of-week")
            #expect(error.column == 16)
        }
    }

    @Test("every message is one line", arguments: cases.map(\.0))
    func oneLine(_ expression: String) throws {
        let message = try #require(parseError(expression))
        #expect(!message.contains("\n"))
    }
}

@Suite("Reading instants for --after")
struct CronTimeTests {
    @Test(
        "ISO 8601 forms",
        arguments: [
            ("2024-03-09T12:00:00-05:00", "UTC", 1_710_003_600.0),
            ("2024-03-09T17:00:00Z", "UTC", 1_710_003_600.0),
            ("2024-03-09T17:00:00+0000", "UTC", 1_710_003_600.0),
            ("2024-03-09 12:00", "America/New_York", 1_710_003_600.0),
            ("2024-03-09", "UTC", 1_709_942_400.0),
            ("2024-03-09T17:00:00.25Z", "UTC", 1_710_003_600.25),
            // 02:30 does not exist on 2024-03-10 in New York: read as the end of the gap (03:00 EDT).
            ("2024-03-10T02:30", "America/New_York", 1_710_054_000.0),
            // 01:30 occurs twice on 2024-11-03 in New York: read as the first (EDT).
            ("2024-11-03T01:30", "America/New_York", 1_730_611_800.0),
        ])
    func parses(_ text: String, _ zone: String, _ expected: Double) throws {
        #expect(try CronTime.parseInstant(text, timeZone: zone) == expected)
    }

    @Test(
        "bad times are refused with the forms that work",
        arguments: ["2024-02-30", "yesterday", "2024-03-09T25:00", "2024-3-9", "2024-03-09T12:00+5", ""])
    func refuses(_ text: String) {
        #expect(throws: CronError.self) { try CronTime.parseInstant(text) }
    }
}

@Suite("Edges that once crashed or hung")
struct CronEdgeTests {
    @Test("instants at and past the ends of time give no fire instead of trapping")
    func extremeInstants() throws {
        let cron = try CronExpression("*/5 * * * *", options: .init(timeZone: "America/New_York"))
        #expect(cron.nextFire(afterUnixSeconds: .max) == nil)
        #expect(cron.previousFire(beforeUnixSeconds: .min) == nil)
        #expect(cron.nextFire(afterUnixSeconds: .min) != nil)
        for t in [Double.nan, .infinity, 1e19] {
            #expect(cron.nextFire(after: Date(timeIntervalSince1970: t)) == nil)
        }
        #expect(cron.nextFire(after: .distantPast) != nil)
        #expect(cron.previousFire(before: .distantFuture) != nil)
        let every = try CronExpression("@every 90s")
        #expect(every.nextFire(afterUnixSeconds: .max) == nil)
        #expect(every.previousFire(beforeUnixSeconds: .min) == nil)
    }

    @Test(
        "malformed GMT offsets are unknown zones, not crashes",
        arguments: ["GMT+10:-1", "UTC+01:a5", "GMT-05./0", "GMT+", "Etc/GMT+99", "../../etc/passwd"])
    func gmtForms(_ zone: String) {
        #expect(parseError("0 0 * * *", options: .init(timeZone: zone))?.hasPrefix("unknown time zone") == true)
        #expect(parseError("CRON_TZ=\(zone) 0 0 * * *")?.contains("unknown time zone") == true)
    }

    @Test(
        "a strict GMT offset and tz aliases are accepted", arguments: ["GMT+5", "UTC-03", "Etc/GMT+5", "Asia/Calcutta"])
    func accepted(_ zone: String) {
        #expect(parseError("0 0 * * *", options: .init(timeZone: zone)) == nil)
    }

    @Test("huge inputs are refused quickly with a short one-line message")
    func huge() {
        let clock = ContinuousClock()
        let started = clock.now
        let fields = parseError(String(repeating: "1 ", count: 50_000))
        let every = parseError("@every " + String(repeating: "999999999d", count: 50_000))
        #expect(clock.now - started < .seconds(2))
        #expect(fields?.hasSuffix("found more than 7") == true)
        #expect(every?.contains("is over 100 years") == true)
        #expect((fields?.count ?? .max) < 400 && (every?.count ?? .max) < 400)
    }

    @Test("control characters in the input are escaped in the message")
    func escaped() {
        #expect(
            parseError("0 0\n* * *")
                == "invalid cron expression \"0 0\\n* * *\": expected 5 fields (minute hour day-of-month month "
                + "day-of-week) or 6 (second first), found 4")
    }

    @Test(
        "day-of-week a/n runs to 7, which is Sunday",
        arguments: [("7/2", [0]), ("1/2", [0, 1, 3, 5]), ("*/2", [0, 2, 4, 6])])
    func weekdaySteps(_ field: String, _ days: [Int]) throws {
        let cron = try CronExpression("0 0 * * \(field)")
        guard case .calendar(let spec) = cron.kind else { throw CronError(.syntax, "not a calendar expression") }
        #expect(spec.daysOfWeek.members == days)
    }
}
