import ArgumentParser
import Foundation
import SchedulerAPI

/// `schedule instances`: the daemons using the store, from their heartbeats.
struct InstancesCommand: AsyncParsableCommand, DaemonCommandRunner {
    static let commandName = "instances"
    static let configuration = CommandConfiguration(
        commandName: "instances",
        abstract: "List the daemons that share the store, with their heartbeats and clock offsets.",
        discussion: """
            Every daemon stores a heartbeat every 5 s; one silent for 15 s is shown as silent, one \
            silent for a day is forgotten, and one that stops cleanly leaves the list. With SQLite there \
            is one daemon; with PostgreSQL (--database) every daemon on the same database is listed. The \
            clock offset is the daemon's clock minus the database's; past 1 s (beyond half the heartbeat's \
            round trip) the daemon warns.
            """)

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        await Self.guarded {
            let answer = try await DaemonClient().request("GET", "/api/v1/instances", as: InstanceList.self)
            if json {
                print(answer.jsonText)
                return
            }
            let rows = answer.value.instances.map { i -> [String] in
                [
                    i.id + (i.this ? " (this)" : ""), i.host, i.version, Table.time(i.startedAt),
                    Table.time(i.lastHeartbeat), i.alive ? "alive" : "silent", "\(i.runsRunning)",
                    i.clockOffsetMs.map { "\($0) ms" } ?? "-",
                ]
            }
            print(
                Table.render(
                    ["INSTANCE", "HOST", "VERSION", "STARTED", "LAST HEARTBEAT", "STATE", "RUNNING", "CLOCK OFFSET"],
                    rows))
        }
    }
}
