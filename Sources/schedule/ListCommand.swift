import ArgumentParser
import Foundation
import Workflows

/// `schedule list`: every schedule with its next fire and last run.
struct ListCommand: AsyncParsableCommand, DaemonCommandRunner {
    static let commandName = "list"
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the schedules with their next fire and last run.")

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        await Self.guarded {
            let answer = try await DaemonClient().request("GET", "/api/v1/schedules")
            if json {
                print(answer.jsonText)
                return
            }
            let schedules = answer["schedules"]?.arrayValue ?? []
            guard !schedules.isEmpty else {
                print("no schedules; add one with `schedule add` or `schedule apply DIR`")
                return
            }
            let rows = schedules.map { s -> [String] in
                var trigger = [s["cron"]?.stringValue, s["webhook"] == true ? "webhook" : nil].compactMap { $0 }
                if trigger.isEmpty { trigger = ["manual"] }
                return [
                    Table.text(s["name"]), trigger.joined(separator: " + "), Table.text(s["time_zone"]),
                    Table.text(s["workflow"]),
                    s["paused"] == true ? "paused" : Table.time(s["next_fires"]?.arrayValue?.first),
                    s["last_run"].map { Table.text($0["state"]) } ?? "-",
                    s["problem"]?.stringValue ?? "",
                ]
            }
            print(Table.render(["NAME", "TRIGGER", "ZONE", "WORKFLOW", "NEXT FIRE", "LAST", "PROBLEM"], rows))
        }
    }
}

/// `schedule show`: one schedule, its next five fires and its latest runs with trace links.
struct ShowCommand: AsyncParsableCommand, DaemonCommandRunner {
    static let commandName = "show"
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show a schedule, its next 5 fires and its last runs with trace links.")

    @Argument(help: "The schedule's name or id.")
    var schedule: String

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        await Self.guarded {
            let s = try await DaemonClient().request("GET", "/api/v1/schedules/\(Path.escape(schedule))")
            if json {
                print(s.jsonText)
                return
            }
            print("\(Table.text(s["name"]))  (\(Table.text(s["id"])))")
            for (label, key) in [
                ("cron", "cron"), ("time zone", "time_zone"), ("webhook", "webhook"), ("workflow", "workflow"),
                ("input", "input"), ("overlap", "overlap"), ("catch-up", "catchup"), ("catch-up mode", "catchup_mode"),
                ("jitter", "jitter"), ("timeout", "timeout"), ("remaining runs", "remaining_runs"),
                ("source", "source"),
            ] {
                print("  \(label.padding(toLength: 15, withPad: " ", startingAt: 0))\(Table.text(s[key]))")
            }
            if s["paused"] == true { print("  paused         \(Table.text(s["pause_note"]))") }
            if let problem = s["problem"]?.stringValue { print("  PROBLEM        \(problem)") }
            let fires = s["next_fires"]?.arrayValue ?? []
            if !fires.isEmpty {
                print("next fires:")
                for fire in fires { print("  \(Table.text(fire))") }
            }
            let runs = s["runs"]?.arrayValue ?? []
            print(runs.isEmpty ? "no runs yet" : "last runs:")
            for run in runs {
                let link = run["trace_url"]?.stringValue ?? Table.text(run["trace_id"])
                print(
                    "  \(Table.text(run["id"]))  \(Table.text(run["trigger"]).padding(toLength: 8, withPad: " ", startingAt: 0))"
                        + "  \(Table.text(run["state"]).padding(toLength: 11, withPad: " ", startingAt: 0))"
                        + "  \(Table.time(run["started_at"]))  \(link)")
            }
        }
    }
}

/// Path segments in URLs.
enum Path {
    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(
            withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/")))
            ?? segment
    }
}
