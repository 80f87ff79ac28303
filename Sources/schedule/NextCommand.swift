import ArgumentParser
import Cron
import Foundation
import Workflows

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
            var output = try render()
            output.append(UInt8(ascii: "\n"))
            Self.writeToStandardOutput(output)
        } catch let error as CronError {
            Self.fail(error.description)
        } catch let error as UsageError {
            Self.fail(error.message)
        }
    }

    struct UsageError: Error { var message: String }

    /// Writes `bytes` to standard output as they are, without copying them first.
    static func writeToStandardOutput(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(1, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    fail("cannot write to standard output: \(String(cString: strerror(errno)))")
                }
            }
        }
    }

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

    /// The output, without its final newline.
    func render() throws -> [UInt8] {
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
        // Written as bytes, not strings: formatting a fire costs about what finding it does.
        var out: [UInt8] = []
        out.reserveCapacity(fires.count * (json ? 200 : 26) + 200)
        guard json else {
            for (index, fire) in fires.enumerated() {
                if index > 0 { out.append(UInt8(ascii: "\n")) }
                CronFire.appendISO8601(unixSeconds: fire.unixSeconds, offset: fire.utcOffset, to: &out)
            }
            return out
        }
        NextJSON(
            expression: cron.text, timeZone: cron.timeZone, intervalLike: cron.isIntervalLike, fires: fires
        ).write(to: &out)
        return out
    }
}

/// The `--json` output of `schedule next`, written as JSONEncoder writes it pretty-printed with
/// sorted keys (two-space indents, `"key" : value`), with `dst` an explicit `null` when daylight
/// saving did not touch the fire:
///
/// ```json
/// {
///   "expression" : "30 1 * * *",
///   "fires" : [
///     {
///       "dedupe_key" : "2024-11-03T01:30",
///       "dst" : "fold_first",
///       "nominal" : "2024-11-03T01:30:00",
///       "time" : "2024-11-03T01:30:00-04:00",
///       "utc" : "2024-11-03T05:30:00Z"
///     }
///   ],
///   "interval_like" : false,
///   "time_zone" : "America/New_York"
/// }
/// ```
struct NextJSON {
    var expression: String
    var timeZone: String
    var intervalLike: Bool
    var fires: [CronFire]

    /// Appends the document, without a final newline.
    func write(to out: inout [UInt8]) {
        out.append(literal: "{\n  \"expression\" : ")
        JSONValue.string(expression).write(to: &out)
        out.append(literal: ",\n  \"fires\" : [\n")
        for (index, fire) in fires.enumerated() {
            if index > 0 { out.append(literal: ",\n") }
            out.append(literal: "    {\n      \"dedupe_key\" : \"")
            fire.appendDedupeKey(to: &out)
            out.append(literal: "\",\n      \"dst\" : ")
            if let dst = fire.dst {
                JSONValue.string(dst.rawValue).write(to: &out)
            } else {
                out.append(literal: "null")
            }
            out.append(literal: ",\n      \"nominal\" : \"")
            fire.nominal.appendISO8601(to: &out)
            out.append(literal: "\",\n      \"time\" : \"")
            CronFire.appendISO8601(unixSeconds: fire.unixSeconds, offset: fire.utcOffset, to: &out)
            out.append(literal: "\",\n      \"utc\" : \"")
            CronFire.appendISO8601UTC(unixSeconds: fire.unixSeconds, to: &out)
            out.append(literal: "\"\n    }")
        }
        out.append(literal: "\n  ],\n")
        out.append(literal: intervalLike ? "  \"interval_like\" : true,\n" : "  \"interval_like\" : false,\n")
        out.append(literal: "  \"time_zone\" : ")
        JSONValue.string(timeZone).write(to: &out)
        out.append(literal: "\n}")
    }
}

extension [UInt8] {
    /// Appends a string literal's UTF-8 bytes with one copy, without going through `String`.
    @inline(__always)
    mutating func append(literal: StaticString) {
        literal.withUTF8Buffer { append(contentsOf: $0) }
    }
}
