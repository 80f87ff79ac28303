import ArgumentParser
import Foundation
import Scheduling
import Support
import Workflows

/// `schedule`: the command-line client of schedulerd.
@main
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Manage schedulerd schedules and preview cron expressions.",
        discussion: """
            Cron expressions have 5 fields (minute hour day-of-month month day-of-week) or 6 with \
            seconds first. Each field takes *, numbers, names (JAN-DEC, SUN-SAT), lists (1,15), ranges \
            (MON-FRI; 22-2 wraps), steps (*/15, 10-50/20), and in day fields ? (any), L (last day), \
            L-3, 15W (nearest weekday), LW, 5L (last Friday), FRI#3 (third Friday). H spreads load by \
            hashing the schedule id: H, H(0-29), H/15. Macros: @yearly @monthly @weekly @daily \
            @hourly @every 1h30m @reboot. A prefix CRON_TZ=Europe/Berlin sets the zone.

            The commands that manage schedules talk to the daemon at SCHEDULERD_URL (default \
            http://127.0.0.1:8088) with the token in SCHEDULERD_TOKEN or <data-dir>/admin.token, the \
            data dir being SCHEDULERD_DATA_DIR, else $XDG_STATE_HOME/schedulerd, else \
            ~/.local/state/schedulerd; next and validate work offline. Every command takes --json.

            Examples:
              schedule next "0 2 * * *" --tz America/New_York --count 3
              schedule next "*/15 9-17 * * MON-FRI" --json
              schedule next "0 0 L * *" --after 2024-02-01
              schedule validate schedules
              schedule add nightly --cron "0 2 * * *" --workflow energy_analysis
              schedule run nightly --wait
            """,
        version: ProductVersion.current,
        subcommands: [
            AddCommand.self, ListCommand.self, ShowCommand.self, RemoveCommand.self, PauseCommand.self,
            ResumeCommand.self, RunCommand.self, CancelCommand.self, RunsCommand.self, ApplyCommand.self,
            ValidateCommand.self,
            NextCommand.self, SecretCommand.self, InstancesCommand.self, AlertsCommand.self,
        ]
    )

    /// Parses and runs the command; a first word that is no command gets the closest ones as a
    /// suggestion (`schedule lst` → did you mean "list"?) instead of a bare "unexpected argument".
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        if let first = arguments.first, !first.hasPrefix("-"), !names.contains(first) {
            let hint = Suggestion.phrase(first, among: names).map { "; " + $0 } ?? ""
            FileHandle.standardError.write(
                Data(
                    "error: \"\(first)\" is not a schedule command\(hint)\nthe commands: \(names.dropLast().joined(separator: ", ")); see schedule --help\n"
                        .utf8))
            Foundation.exit(64)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
