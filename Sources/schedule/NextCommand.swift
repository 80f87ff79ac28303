import ArgumentParser
import Cron
import Foundation

/// `schedule next`: when an expression fires, computed locally without a daemon.
struct NextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "next",
        abstract: "Print the next fire times of a cron expression (works without a daemon).",
        discussion: """
            Prints one fire per line as ISO 8601 with the zone's offset, strictly after --after:

              $ schedule next "30 2 * * *" --tz America/New_York --after 2024-03-09T12:00:00-05:00 --count 2
              2024-03-10T03:00:00-04:00
              2024-03-11T02:30:00-04:00

            Time zones and daylight saving: a schedule whose hours cover the whole day (*/15 * * * *, \
            @every 10m) follows real time: wall times skipped by spring-forward do not fire and a \
            repeated hour fires twice. Any other schedule is anchored to the wall clock: a time skipped \
            by spring-forward fires once right after the gap (--dst-gap shift keeps the minutes, skip \
            drops it) and a repeated time fires once, at its first occurrence (--dst-fold last|both).

            Days follow Vixie cron and cronie: a day field that is * or ? or begins with * (*/2, *,15) \
            is a wildcard; when neither day field is one, a day matches if either field matches, \
            otherwise both must match (0 0 */2 * MON: odd days that are Mondays). --day-match or \
            reads a restricted field that begins with * as restricted (either matches), and requires \
            both. --json prints each fire with its UTC instant, nominal \
            wall time, dedupe key and DST marker.
            """
    )

    @Argument(help: "The cron expression, quoted: \"*/5 * * * *\", \"0 30 9 * * MON-FRI\", \"@daily\".")
    var expression: String

    @Option(name: .customLong("tz"), help: "IANA time zone the expression is evaluated in.")
    var timeZone = "UTC"

    @Option(help: "Start instant (ISO 8601; without an offset it is wall time in --tz). Default: now.")
    var after: String?

    @Option(help: "How many fires to print (1-100000).")
    var count = 1

    @Option(help: "Seed for H values (a schedule's id). Default: the expression text.")
    var seed: String?

    @Option(help: "How day-of-month and day-of-week combine: vixie (the default, as cronie), or, and.")
    var dayMatch = "vixie"

    @Option(help: "Wall times skipped by spring-forward: coalesce (fire once after the gap), shift, skip.")
    var dstGap = "coalesce"

    @Option(help: "Wall times repeated by fall-back: first, last, both.")
    var dstFold = "first"

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() throws {
        do {
            try print(render())
        } catch let error as CronError {
            Self.fail(error.description)
        } catch let error as UsageError {
            Self.fail(error.message)
        }
    }

    struct UsageError: Error { var message: String }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data(("schedule next: " + message + "\n").utf8))
        Foundation.exit(2)
    }

    func choice<T: RawRepresentable & CaseIterable>(_ value: String, _ flag: String, _: T.Type) throws -> T
    where T.RawValue == String {
        if let parsed = T(rawValue: value.lowercased()) { return parsed }
        let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
        throw UsageError(message: "invalid \(flag) \"\(value)\"; allowed: \(allowed)")
    }

    func render() throws -> String {
        guard (1...100_000).contains(count) else {
            throw UsageError(message: "invalid --count \(count); allowed: 1-100000")
        }
        let options = CronExpression.Options(
            timeZone: timeZone, seed: seed,
            dayMatch: try choice(dayMatch, "--day-match", CronExpression.DayMatch.self),
            dstGap: try choice(dstGap, "--dst-gap", CronExpression.GapPolicy.self),
            dstFold: try choice(dstFold, "--dst-fold", CronExpression.FoldPolicy.self))
        let cron = try CronExpression(expression, options: options)
        let start =
            try after.map { try CronTime.parseInstant($0, timeZone: cron.timeZone) }
            ?? Date().timeIntervalSince1970
        if cron.isReboot {
            throw UsageError(
                message: "\"\(expression)\" (@reboot) fires only when schedulerd starts, never on the clock")
        }
        let fires = Array(cron.fires(after: Date(timeIntervalSince1970: start)).prefix(count))
        guard json else { return fires.map(\.iso8601).joined(separator: "\n") }
        let document = NextDocument(
            expression: cron.text, timeZone: cron.timeZone, intervalLike: cron.isIntervalLike,
            fires: fires.map {
                .init(
                    time: $0.iso8601, utc: CronFire.iso8601UTC(unixSeconds: $0.unixSeconds),
                    nominal: $0.nominal.iso8601(), dedupeKey: $0.dedupeKey, dst: $0.dst?.rawValue)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}

/// The `--json` output of `schedule next`.
struct NextDocument: Encodable {
    struct Fire: Encodable {
        var time: String
        var utc: String
        var nominal: String
        var dedupeKey: String
        var dst: String?

        enum CodingKeys: String, CodingKey { case time, utc, nominal, dedupeKey, dst }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(time, forKey: .time)
            try c.encode(utc, forKey: .utc)
            try c.encode(nominal, forKey: .nominal)
            try c.encode(dedupeKey, forKey: .dedupeKey)
            try c.encode(dst, forKey: .dst)  // explicit null when untouched by DST
        }
    }

    var expression: String
    var timeZone: String
    var intervalLike: Bool
    var fires: [Fire]
}
