import Cron
import Testing

/// Cron expressions read out in plain English, as the status pages show them.
@Suite("cron expressions in words")
struct CronReadingTests {
    @Test(
        "reads common expressions",
        arguments: [
            ("0 2 * * *", "Europe/Berlin", "at 02:00 every day, Europe/Berlin"),
            ("*/15 * * * *", "UTC", "every 15 minutes, UTC"),
            ("* * * * *", "UTC", "every minute, UTC"),
            ("0 * * * *", "UTC", "every hour on the hour, UTC"),
            ("30 */2 * * *", "UTC", "every 2 hours at minute 30, UTC"),
            ("0 9 * * 1-5", "UTC", "at 09:00 on Monday–Friday, UTC"),
            ("0 9,17 * * 1,3", "UTC", "at 09:00 and 17:00 on Monday and Wednesday, UTC"),
            ("30 6 1 * *", "UTC", "at 06:30 on day 1 of the month, UTC"),
            ("0 0 1 1,7 *", "UTC", "at 00:00 on day 1 of the month in January and July, UTC"),
            ("*/10 9-17 * * *", "UTC", "every 10 minutes from 09:00 to 17:59, UTC"),
            ("*/5 * * * * *", "UTC", "every 5 seconds, UTC"),
            ("15 30 3 * * *", "UTC", "at 03:30:15 every day, UTC"),
            ("@daily", "America/New_York", "at 00:00 every day, America/New_York"),
            ("CRON_TZ=Asia/Tokyo 0 8 * * *", "UTC", "at 08:00 every day, Asia/Tokyo"),
            ("0 12 1 * 1", "UTC", "at 12:00 on day 1 of the month or on Monday, UTC"),
            ("0 0 L * *", "UTC", #"at 00:00 on the days of "L *", UTC"#),
            ("@every 1h30m", "UTC", "every 1h30m"),
            ("@reboot", "UTC", "once each time the daemon starts"),
        ])
    func reads(_ text: String, _ zone: String, _ expected: String) throws {
        let expression = try CronExpression(text, options: .init(timeZone: zone))
        #expect(expression.reading == expected)
    }
}
