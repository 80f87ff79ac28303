import ArgumentParser
import Foundation
import SchedulerAPI

/// `schedule list`: every schedule with its next fire and last run.
struct ListCommand: AsyncParsableCommand, DaemonCommandRunner {
    static let commandName = "list"
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the schedules with their next fire and last run.")

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        await Self.guarded {
            let answer = try await DaemonClient().request("GET", "/api/v1/schedules", as: ScheduleList.self)
            if json {
                print(answer.jsonText)
                return
            }
            let items = answer.value.schedules
            guard !items.isEmpty else {
                print("no schedules; add one with `schedule add` or `schedule apply DIR`")
                return
            }
            let rows = items.map { item -> [String] in
                let s = item.schedule
                var trigger = [s.cron, s.webhook ? "webhook" : nil].compactMap { $0 }
                if trigger.isEmpty { trigger = ["manual"] }
                return [
                    s.name, trigger.joined(separator: " + "), s.timeZone, s.workflow,
                    s.paused ? "paused" : Table.time(s.nextFires?.first), Table.text(item.lastRun?.state),
                    item.problem ?? "",
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
            let answer = try await DaemonClient().request(
                "GET", "/api/v1/schedules/\(Path.escape(schedule))", as: ScheduleDetail.self)
            if json {
                print(answer.jsonText)
                return
            }
            let detail = answer.value
            let s = detail.schedule
            print("\(s.name)  (\(s.id))")
            for (label, value) in [
                ("cron", Table.text(s.cron)), ("time zone", s.timeZone), ("webhook", Table.text(s.webhook)),
                ("workflow", s.workflow), ("input", Table.text(s.input)), ("overlap", s.overlap),
                ("catch-up", s.catchup), ("catch-up mode", s.catchupMode), ("jitter", s.jitter),
                ("timeout", Table.text(s.timeout)), ("remaining runs", Table.text(s.remainingRuns)),
                ("source", Table.text(s.source)),
            ] {
                print("  \(label.padding(toLength: 15, withPad: " ", startingAt: 0))\(value)")
            }
            if s.paused { print("  paused         \(Table.text(s.pauseNote))") }
            if let problem = detail.problem { print("  PROBLEM        \(problem)") }
            let fires = s.nextFires ?? []
            if !fires.isEmpty {
                print("next fires:")
                for fire in fires { print("  \(fire)") }
            }
            print(detail.runs.isEmpty ? "no runs yet" : "last runs:")
            for run in detail.runs {
                let link = run.traceURL ?? Table.text(run.traceID)
                print(
                    "  \(run.id)  \(run.trigger.padding(toLength: 8, withPad: " ", startingAt: 0))"
                        + "  \(run.state.padding(toLength: 11, withPad: " ", startingAt: 0))"
                        + "  \(Table.time(run.startedAt))  \(link)")
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
