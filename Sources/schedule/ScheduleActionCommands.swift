import ArgumentParser
import Foundation
import Workflows

/// `schedule rm`.
struct RemoveCommand: AsyncParsableCommand, DaemonCommandRunner {
    static let commandName = "rm"
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Delete a schedule (its runs stay in the history).")

    @Argument(help: "The schedule's name or id.")
    var schedule: String

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        await Self.guarded {
            let answer = try await DaemonClient().request("DELETE", "/api/v1/schedules/\(Path.escape(schedule))")
            print(json ? answer.jsonText : "deleted \(Table.text(answer["name"])) (\(Table.text(answer["deleted"])))")
        }
    }
}

/// `schedule pause`.
struct PauseCommand: AsyncParsableCommand, DaemonCommandRunner {
    static let commandName = "pause"
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Stop a schedule from firing until it is resumed.")

    @Argument(help: "The schedule's name or id.")
    var schedule: String

    @Option(help: "Why, for whoever looks next.")
    var note: String?

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        await Self.guarded {
            let body: JSONValue = note.map { ["note": .string($0)] } ?? .object([:])
            let answer = try await DaemonClient().request(
                "POST", "/api/v1/schedules/\(Path.escape(schedule))/pause", body: body)
            print(json ? answer.jsonText : "paused \(Table.text(answer["name"]))")
        }
    }
}

/// `schedule resume`.
struct ResumeCommand: AsyncParsableCommand, DaemonCommandRunner {
    static let commandName = "resume"
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Let a paused schedule fire again (fires missed while paused are not caught up).")

    @Argument(help: "The schedule's name or id.")
    var schedule: String

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        await Self.guarded {
            let answer = try await DaemonClient().request(
                "POST", "/api/v1/schedules/\(Path.escape(schedule))/resume", body: .object([:]))
            let next = answer["next_fires"]?.arrayValue?.first.map { "; next fire \(Table.text($0))" } ?? ""
            print(json ? answer.jsonText : "resumed \(Table.text(answer["name"]))\(next)")
        }
    }
}
