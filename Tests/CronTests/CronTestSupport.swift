import Foundation

@testable import Cron

/// The first `count` fires of `expression` strictly after `after` (ISO 8601), as UTC strings.
func utcFires(
    _ expression: String, tz: String = "UTC", after: String, count: Int,
    options: CronExpression.Options = .init()
) throws -> [String] {
    var options = options
    options.timeZone = tz
    let cron = try CronExpression(expression, options: options)
    let start = try CronTime.parseInstant(after, timeZone: tz)
    return cron.fires(after: Date(timeIntervalSince1970: start)).prefix(count).map {
        CronFire.iso8601UTC(unixSeconds: $0.unixSeconds)
    }
}

/// The message of the error that parsing `expression` throws, or `nil` when it parses.
func parseError(_ expression: String, options: CronExpression.Options = .init()) -> String? {
    do {
        _ = try CronExpression(expression, options: options)
        return nil
    } catch {
        return error.description
    }
}
