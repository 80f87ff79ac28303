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
            if json {
                print(answer.jsonText)
            } else if answer["resumed"] == false {
                print("\(Table.text(answer["name"])) was not paused; nothing changed\(next)")
            } else {
                print("resumed \(Table.text(answer["name"]))\(next)")
            }
        }
    }
}

/// `schedule secret`: the webhook secret of a schedule.
struct SecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret", abstract: "Manage a schedule's webhook secret.", subcommands: [RotateSecretCommand.self])
}

/// `schedule secret rotate`.
struct RotateSecretCommand: AsyncParsableCommand, DaemonCommandRunner {
    static let commandName = "secret rotate"
    static let configuration = CommandConfiguration(
        commandName: "rotate",
        abstract: "Make a new webhook secret and print it once; the old one stays valid for the grace period.",
        discussion: """
            Give the new secret to the sender within the grace period: until then requests signed with \
            either secret are accepted. A secret set with webhook_secret_env in a schedule file is \
            changed in the daemon's environment instead.

              schedule secret rotate github_push --grace 1h
            """)

    @Argument(help: "The schedule's name or id.")
    var schedule: String

    @Option(help: "How long the old secret keeps working (default 24h; 0s: not at all).")
    var grace: String?

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        await Self.guarded {
            let body: JSONValue = grace.map { ["grace": .string($0)] } ?? .object([:])
            let answer = try await DaemonClient().request(
                "POST", "/api/v1/schedules/\(Path.escape(schedule))/secret/rotate", body: body)
            if json {
                print(answer.jsonText)
                return
            }
            print(
                "secret:  \(Table.text(answer["webhook_secret"]))  (shown once; the \(Table.text(answer["webhook_scheme"])) scheme)"
            )
            if case .string(let until)? = answer["webhook_previous_secret_until"] {
                print("the old secret is accepted until \(until)")
            } else {
                print("the old secret is no longer accepted")
            }
        }
    }
}
