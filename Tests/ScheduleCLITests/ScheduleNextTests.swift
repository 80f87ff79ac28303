import Foundation
import SchedulerTesting
import Testing

/// Runs the built `schedule` binary as a process, like a user or a script would.
struct ScheduleBinary {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var url: URL {
        // The test bundle sits in the build products directory, beside the executables.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("schedule").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("schedule")
    }

    static func run(_ arguments: [String]) throws -> Result {
        let output = try runProcess(url, arguments)
        return Result(status: output.status, stdout: output.stdout, stderr: output.stderr)
    }
}

@Suite("schedule next, run as a process")
struct ScheduleNextTests {
    @Test("the README example prints exactly two ISO 8601 lines")
    func designExample() throws {
        let r = try ScheduleBinary.run([
            "next", "30 2 * * *", "--tz", "America/New_York", "--after", "2024-03-09T12:00:00-05:00", "--count", "2",
        ])
        #expect(r.status == 0)
        #expect(r.stdout == "2024-03-10T03:00:00-04:00\n2024-03-11T02:30:00-04:00\n")
        #expect(r.stderr.isEmpty)
    }

    @Test(
        "a day field that begins with * is a wildcard (Vixie cron, cronie): the vectors in UTC and New York",
        arguments: [
            ("0 0 */2 * 1", "2024-12-31T23:59", "2025-01-13T00:00", "2025-01-01T00:00"),
            ("0 0 15 * */3", "2024-12-31T23:59", "2025-01-15T00:00", "2025-01-01T00:00"),
            ("30 2 L */3 */2", "2024-10-25T20:47", "2024-10-31T02:30", "2024-10-26T02:30"),
        ])
    func vixieDayRule(_ expression: String, _ after: String, _ vixie: String, _ or: String) throws {
        for zone in ["UTC", "America/New_York"] {
            let r = try ScheduleBinary.run(["next", expression, "--tz", zone, "--after", after])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.hasPrefix(vixie + ":00"), "\(zone): \(r.stdout)")
            let old = try ScheduleBinary.run(["next", expression, "--tz", zone, "--after", after, "--day-match", "or"])
            #expect(old.stdout.hasPrefix(or + ":00"), "\(zone): \(old.stdout)")
        }
    }

    @Test("UTC fires print with +00:00, and the default is one fire after now")
    func defaults() throws {
        let r = try ScheduleBinary.run(["next", "* * * * *"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasSuffix(":00+00:00") == true)
    }

    @Test("--json gives each fire with UTC instant, nominal time, dedupe key and DST marker")
    func json() throws {
        let r = try ScheduleBinary.run([
            "next", "30 2 * * *", "--tz", "America/New_York", "--after", "2024-03-09T12:00", "--count", "2", "--json",
        ])
        #expect(r.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(object["time_zone"] as? String == "America/New_York")
        #expect(object["interval_like"] as? Bool == false)
        let fires = try #require(object["fires"] as? [[String: Any]])
        #expect(fires.count == 2)
        #expect(fires[0]["time"] as? String == "2024-03-10T03:00:00-04:00")
        #expect(fires[0]["utc"] as? String == "2024-03-10T07:00:00Z")
        #expect(fires[0]["nominal"] as? String == "2024-03-10T02:30:00")
        #expect(fires[0]["dedupe_key"] as? String == "2024-03-10T02:30")
        #expect(fires[0]["dst"] as? String == "gap_shifted")
        #expect(fires[1]["dst"] is NSNull)
    }

    /// One fire of `--json`, read back and written again as JSONEncoder writes it.
    struct EncodedFire: Codable {
        var time: String
        var utc: String
        var nominal: String
        var dedupe_key: String
        var dst: String?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(time, forKey: .time)
            try c.encode(utc, forKey: .utc)
            try c.encode(nominal, forKey: .nominal)
            try c.encode(dedupe_key, forKey: .dedupe_key)
            try c.encode(dst, forKey: .dst)
        }
    }

    /// The `--json` document, read back.
    struct EncodedDocument: Codable {
        var expression: String
        var time_zone: String
        var interval_like: Bool
        var fires: [EncodedFire]
    }

    @Test(
        "--json is, byte for byte, what JSONEncoder writes pretty-printed with sorted keys",
        arguments: [
            ["30 2 * * *", "--tz", "America/New_York", "--after", "2024-03-01T00:00"],
            ["30 1 * * *", "--tz", "America/New_York", "--after", "2024-10-30T00:00", "--dst-fold", "both"],
            ["*/15 * * * *", "--tz", "Asia/Kolkata"],
            ["0 9 * * MON-FRI", "--tz", "Europe/Amsterdam", "--after", "1890-01-01T00:00"],
            ["H H(0-5) * * *", "--seed", "sch_x"],
        ])
    func jsonBytes(_ arguments: [String]) throws {
        let r = try ScheduleBinary.run(["next"] + arguments + ["--count", "50", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let document = try JSONDecoder().decode(EncodedDocument.self, from: Data(r.stdout.utf8))
        #expect(document.fires.count == 50)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let expected = String(decoding: try encoder.encode(document), as: UTF8.self) + "\n"
        #expect(r.stdout == expected)
    }

    @Test(
        "bad input exits non-zero with one line on stderr that quotes it",
        arguments: [
            (["next", "61 * * * *"], #"invalid cron expression "61 * * * *": minute field "61" is out of range 0-59"#),
            (["next", "0 0 * * *", "--tz", "Mars/Base"], #"unknown time zone "Mars/Base""#),
            (["next", "0 0 * * *", "--after", "yesterday"], #"invalid time "yesterday""#),
            (["next", "0 0 * * *", "--count", "0"], "invalid --count 0; allowed: 1-100000"),
            (
                ["next", "0 0 * * *", "--dst-gap", "later"],
                #"invalid --dst-gap "later"; allowed: coalesce, shift, skip"#
            ),
            (["next", "@reboot"], "fires only when schedulerd starts"),
            (["next", "0 0 30 2 *"], "it never fires"),
        ])
    func badInput(_ arguments: [String], _ fragment: String) throws {
        let r = try ScheduleBinary.run(arguments)
        #expect(r.status != 0)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.split(separator: "\n").count == 1)
        #expect(r.stderr.contains(fragment))
    }

    @Test("--help explains the dialect with examples")
    func help() throws {
        let root = try ScheduleBinary.run(["--help"])
        #expect(root.status == 0)
        #expect(root.stdout.contains("FRI#3") && root.stdout.contains("schedule next"))
        let next = try ScheduleBinary.run(["next", "--help"])
        #expect(next.status == 0)
        #expect(next.stdout.contains("2024-03-10T03:00:00-04:00") && next.stdout.contains("--dst-fold"))
    }

    @Test("--seed moves H values; the same seed gives the same fires")
    func seed() throws {
        let a = try ScheduleBinary.run(["next", "H H * * *", "--seed", "a", "--after", "2024-01-01", "--count", "3"])
        let a2 = try ScheduleBinary.run(["next", "H H * * *", "--seed", "a", "--after", "2024-01-01", "--count", "3"])
        #expect(a.status == 0 && a.stdout == a2.stdout)
        var differs = false
        for s in ["b", "c", "d", "e"] {
            let other = try ScheduleBinary.run([
                "next", "H H * * *", "--seed", s, "--after", "2024-01-01", "--count", "3",
            ])
            differs = differs || other.stdout != a.stdout
        }
        #expect(differs)
    }
}
