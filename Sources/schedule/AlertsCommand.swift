import ArgumentParser
import Foundation
import SchedulerAPI

/// `schedule alerts`: the latest alerts and how their deliveries went.
struct AlertsCommand: AsyncParsableCommand, DaemonCommandRunner {
    static let commandName = "alerts"
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List the latest alerts (failures, recoveries, missed and overdue runs) and their delivery.",
        discussion: """
            Each alert goes to one target of a schedule's notify (or of the defaults in policies.yaml). \
            STATE is pending (waiting for its first try, or for the next after the receiver failed), \
            delivered, or failed (refused, or given up after its last try); ERROR is the last failure.

              schedule alerts
              schedule alerts nightly_energy --limit 50 --json
            """)

    @Argument(help: "A schedule's name or id (default: all).")
    var schedule: String?

    @Option(help: "How many (1-1000).")
    var limit = 20

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        await Self.guarded {
            var path = "/api/v1/alerts?limit=\(limit)"
            if let schedule { path += "&schedule=\(Path.escape(schedule))" }
            let answer = try await DaemonClient().request("GET", path, as: AlertList.self)
            if json {
                print(answer.jsonText)
                return
            }
            let alerts = answer.value.alerts
            guard !alerts.isEmpty else {
                print("no alerts yet")
                return
            }
            let rows = alerts.map { a -> [String] in
                [
                    a.id, a.schedule, a.event, Table.text(a.runID), "\(a.target) \(a.destination)", a.state,
                    String(a.attempts), Table.time(a.createdAt), Table.text(a.lastError.map { String($0.prefix(60)) }),
                ]
            }
            print(
                Table.render(
                    ["ALERT", "SCHEDULE", "EVENT", "RUN", "TARGET", "STATE", "TRIES", "MADE", "ERROR"], rows))
        }
    }
}
