import ArgumentParser
import Foundation
import SchedulerAPI

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
            let answer = try await DaemonClient().request(
                "DELETE", "/api/v1/schedules/\(Path.escape(schedule))", as: DeletedSchedule.self)
            print(json ? answer.jsonText : "deleted \(answer.value.name) (\(answer.value.deleted))")
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
            let answer = try await DaemonClient().request(
                "POST", "/api/v1/schedules/\(Path.escape(schedule))/pause", body: PauseRequest(note: note),
                as: Schedule.self)
            print(json ? answer.jsonText : "paused \(answer.value.name)")
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
                "POST", "/api/v1/schedules/\(Path.escape(schedule))/resume", body: [String: String](),
                as: ResumedSchedule.self)
            let resumed = answer.value
            let next = resumed.schedule.nextFires?.first.map { "; next fire \($0)" } ?? ""
            if json {
                print(answer.jsonText)
            } else if !resumed.resumed {
                print("\(resumed.schedule.name) was not paused; nothing changed\(next)")
            } else {
                print("resumed \(resumed.schedule.name)\(next)")
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
            let answer = try await DaemonClient().request(
                "POST", "/api/v1/schedules/\(Path.escape(schedule))/secret/rotate",
                body: RotateSecretRequest(grace: grace),
                as: ScheduleWithSecret.self)
            if json {
                print(answer.jsonText)
                return
            }
            let rotated = answer.value
            let trigger = rotated.schedule.webhookTrigger
            print(
                "secret:  \(Table.text(rotated.webhookSecret))  (shown once; the \(Table.text(trigger?.scheme)) scheme)"
            )
            if let until = trigger?.previousSecretUntil {
                print("the old secret is accepted until \(APITimestamp.format(until))")
            } else {
                print("the old secret is no longer accepted")
            }
        }
    }
}
