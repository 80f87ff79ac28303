import ArgumentParser
import Foundation
import SchedulerAPI

/// `schedule run`: starts a schedule's workflow now (trigger `manual`).
struct RunCommand: AsyncParsableCommand, DaemonCommandRunner {
    static let commandName = "run"
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a schedule's workflow now (trigger manual).",
        discussion: """
            Prints the run id and trace id. With --wait, follows the run: one line per node as it \
            finishes, then the run's state, and exits with it: 0 succeeded, 1 failed, 5 timed_out, \
            6 cancelled, 7 interrupted.
            """)

    @Argument(help: "The schedule's name or id.")
    var schedule: String

    @Option(help: "key=value merged into the state for this run (repeatable).")
    var input: [String] = []

    @Flag(help: "Follow the run until it ends and exit with its state.")
    var wait = false

    @Flag(help: "Print JSON for scripts (with --wait: the finished run).")
    var json = false

    func run() async throws {
        await Self.guarded {
            let client = DaemonClient()
            let body = ManualRunRequest(input: input.isEmpty ? nil : try parseInputs(input))
            let answer = try await client.request(
                "POST", "/api/v1/schedules/\(Path.escape(schedule))/run", body: body, as: StartedRun.self)
            let started = answer.value
            let id = started.runID
            guard wait else {
                print(json ? answer.jsonText : "run \(id)  trace \(Table.text(started.traceURL ?? started.traceID))")
                return
            }
            if !json { print("run \(id)  trace \(Table.text(started.traceURL ?? started.traceID))") }
            var shown = 0
            while true {
                let reply = try await client.request("GET", "/api/v1/runs/\(id)", as: Run.self)
                let run = reply.value
                if !json {
                    for node in run.nodes.dropFirst(shown) {
                        let mark = node.status == "succeeded" ? "ok  " : "FAIL"
                        let ms = node.durationMs.map { String(format: "%.0f ms", $0) } ?? ""
                        let error = node.error.map { "  \($0)" } ?? ""
                        print("  \(mark) \(Table.text(node.node)) \(ms)\(error)")
                    }
                }
                shown = run.nodes.count
                let state = run.state
                if !["queued", "running"].contains(state) {
                    if json {
                        print(reply.jsonText)
                    } else {
                        let error = run.error.map { ": \($0)" } ?? ""
                        print("\(state)\(error)")
                    }
                    let codes: [String: Int32] = [
                        "succeeded": 0, "failed": 1, "timed_out": 5, "cancelled": 6, "interrupted": 7, "skipped": 1,
                    ]
                    if let code = codes[state], code != 0 { throw ExitCode(code) }
                    return
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}

/// `schedule runs`: the latest runs.
struct RunsCommand: AsyncParsableCommand, DaemonCommandRunner {
    static let commandName = "runs"
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List the latest runs, of all schedules or of one.")

    @Argument(help: "A schedule's name or id (default: all).")
    var schedule: String?

    @Option(help: "How many (1-1000).")
    var limit = 20

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        await Self.guarded {
            var path = "/api/v1/runs?limit=\(limit)"
            if let schedule { path += "&schedule=\(Path.escape(schedule))" }
            let answer = try await DaemonClient().request("GET", path, as: RunList.self)
            if json {
                print(answer.jsonText)
                return
            }
            let runs = answer.value.runs
            guard !runs.isEmpty else {
                print("no runs yet")
                return
            }
            let rows = Self.groupedByFire(runs).map { (r, earlier) -> [String] in
                [
                    (earlier ? "  └ " : "") + r.id, r.workflow, r.trigger, String(r.attempt), r.state,
                    Table.time(r.startedAt), r.durationMs.map { String(format: "%.0f ms", Double($0)) } ?? "-",
                    r.tokens.map { "\($0.total)" } ?? "-", Table.text(r.traceID),
                ]
            }
            print(
                Table.render(
                    ["RUN", "WORKFLOW", "TRIGGER", "ATTEMPT", "STATE", "STARTED", "DURATION", "TOKENS", "TRACE"], rows))
        }
    }
}

extension RunsCommand {
    /// `runs` (newest first) with the attempts at each fire together: a fire's latest attempt where
    /// it falls, the earlier attempts on the page right below it, newest first, marked `true`.
    static func groupedByFire(_ runs: [Run]) -> [(Run, Bool)] {
        let byID = Dictionary(runs.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let retried = Set(runs.compactMap(\.retryOf))
        var shown: Set<String> = []
        var rows: [(Run, Bool)] = []
        for run in runs where !shown.contains(run.id) {
            rows.append((run, retried.contains(run.id)))
            shown.insert(run.id)
            guard !retried.contains(run.id) else { continue }
            var previous = run.retryOf
            while let id = previous, let earlier = byID[id], !shown.contains(id) {
                rows.append((earlier, true))
                shown.insert(id)
                previous = earlier.retryOf
            }
        }
        return rows
    }
}

/// `schedule cancel`: stops a running run, or drops a queued one.
struct CancelCommand: AsyncParsableCommand, DaemonCommandRunner {
    static let commandName = "cancel"
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a running or queued run.",
        discussion: """
            A running run's scripts are killed with their whole process group and its trace ends as \
            cancelled; a queued run is stored as cancelled and never starts. Either way the schedule's \
            overlap slot frees up. Cancelling a run that already ended says so and exits 1. With \
            --wait, waits until a running run has stopped.

              schedule cancel run_01J9Z3K7E8V2Q4W6Y8A0B2C4D6 --reason "wrong input"
            """)

    @Argument(help: "The run's id (from schedule runs, or the answer of schedule run).")
    var run: String

    @Option(help: "Why, kept in the run's error.")
    var reason: String?

    @Flag(help: "Wait until the run has stopped.")
    var wait = false

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        await Self.guarded {
            let client = DaemonClient()
            let cancel = try await client.request(
                "POST", "/api/v1/runs/\(Path.escape(run))/cancel", body: CancelRunRequest(reason: reason),
                as: CancelledRun.self)
            var state = cancel.value.state
            var jsonText = cancel.jsonText
            if wait && state == "cancelling" {
                while true {
                    let stopped = try await client.request("GET", "/api/v1/runs/\(Path.escape(run))", as: Run.self)
                    (state, jsonText) = (stopped.value.state, stopped.jsonText)
                    if !["queued", "running"].contains(state) { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            if json {
                print(jsonText)
            } else if state == "cancelling" {
                print("cancelling \(run): its scripts are being stopped")
            } else {
                print("cancelled \(run)")
            }
        }
    }
}
