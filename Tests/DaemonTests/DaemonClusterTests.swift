import Foundation
import Logging
import MLflowTesting
import PostgresStorage
import SchedulerTesting
import Storage
import StorageTesting
import Testing
import Workflows

/// Several daemons on one PostgreSQL database behaving as one scheduler, while one of them is killed
/// and another is paused past its lease.
@Suite("several schedulerd daemons on one PostgreSQL database", .serialized)
struct DaemonClusterTests {
    /// The lease the daemons run with: short, so that a takeover happens within the test.
    static let lease = "4s"

    @Test(
        "three daemons, one SIGKILLed and one SIGSTOPped past its lease: every fire runs once, skip never overlaps, every run ends with a closed trace, the paused daemon's writes are refused",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func killAndPause() async throws {
        let server = try await MLflowTestServer.shared()
        let experiment = "cluster-\(UUID().uuidString.prefix(8))"
        try await PostgresTestDatabase.withDatabase(prefix: "cluster") { database in
            var files: [String: String] = [:]
            for i in 0..<16 {
                files["tick_\(i)"] = "name: tick_\(i)\ncron: \"* * * * * *\"\nworkflow: tick\noverlap: allow\n"
            }
            for i in 0..<4 {
                files["slow_\(i)"] = "name: slow_\(i)\ncron: \"* * * * * *\"\nworkflow: slow\noverlap: skip\n"
            }
            let schedules = try schedulesDirectory(
                workflows: ["tick": DaemonTests.tick, "slow": DaemonTests.slow],
                scripts: ["scripts/slow.sh": DaemonTests.slowScript], schedules: files)
            let environment = DaemonPostgresTests.environment(database)
            let arguments = ["--database", DaemonPostgresTests.url(database), "--lease", Self.lease, "--max-runs", "6"]
            let daemons = try (0..<3).map { _ in
                try DaemonProcess(
                    schedules: schedules, mlflow: server.uri, experiment: experiment, environment: environment)
            }
            let (killed, paused, steady) = (daemons[0], daemons[1], daemons[2])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for daemon in daemons { group.addTask { try await daemon.start(extraArguments: arguments) } }
                try await group.waitForAll()
            }
            let store = PostgresStore(configuration: database, logger: Logger(label: "test.cluster"))
            try await store.withRunningClient {
                // Every fire from here to the end of the window must have exactly one run.
                let windowStart = Date().addingTimeInterval(2).timeIntervalSince1970.rounded(.up)
                // About two minutes in all: 40 s of three, the kill and the pause, 45 s after.
                try await Task.sleep(for: .seconds(40))
                // Killed while it runs a run: the others interrupt it once its lease has expired.
                // A slow run that has just started, so that it is still going when the signal lands.
                let dead = try await Self.runningRun(of: killed, in: store, justStarted: "slow")
                #expect(try await killed.stop(signal: SIGKILL) == SIGKILL)

                // Paused while it runs a run, past its lease: the others take the run over.
                // A run of a slow workflow that has just started: this daemon writes nothing of it until
                // its script ends three seconds in, so no transaction of its own holds the run's row
                // while it is paused.
                let lost = try await Self.runningRun(of: paused, in: store, justStarted: "slow")
                paused.signal(SIGSTOP)
                try await eventually(timeout: .seconds(30), "another instance interrupts the paused one's run") {
                    try await store.run(id: lost)?.state == .interrupted
                }
                try await Task.sleep(for: .seconds(2))
                paused.signal(SIGCONT)
                try await Task.sleep(for: .seconds(45))
                let windowEnd = Date().addingTimeInterval(-2).timeIntervalSince1970.rounded(.down)

                // No new fires; every run reaches a final state.
                for name in files.keys {
                    let answer = try await steady.request("POST", "/api/v1/schedules/\(name)/pause", body: "{}")
                    #expect(answer.status == 200, "\(name): \(answer.json)")
                }
                var left: [RunRecord] = []
                do {
                    try await eventually(timeout: .seconds(60), "every run has ended") {
                        left = try await store.runs(in: [.queued, .running])
                        return left.isEmpty
                    }
                } catch {
                    let described = left.map { "\($0.id) \($0.state.rawValue) held by \($0.owner ?? "no one")" }
                    throw TestFailure(description: "\(error); left: \(described.joined(separator: ", "))")
                }
                let runs = try await store.runs(scheduleID: nil, limit: 100_000, before: nil)
                let byID = Dictionary(uniqueKeysWithValues: try await store.schedules().map { ($0.id, $0.name) })

                // Every nominal second of the window has exactly one run of every schedule.
                for (id, name) in byID {
                    let seconds = runs.filter { $0.scheduleID == id }.compactMap {
                        $0.nominalTime?.timeIntervalSince1970
                    }
                    .filter { $0 >= windowStart && $0 <= windowEnd }
                    let expected = Int(windowEnd - windowStart) + 1
                    #expect(seconds.count == expected && Set(seconds).count == expected, "\(name): \(seconds.sorted())")
                }
                // A skip schedule never had two runs going at once.
                for (id, name) in byID where name.hasPrefix("slow") {
                    let going = runs.filter { $0.scheduleID == id && $0.startedAt != nil }
                        .sorted { ($0.startedAt ?? .distantPast) < ($1.startedAt ?? .distantPast) }
                    for (earlier, later) in zip(going, going.dropFirst()) {
                        #expect(
                            (earlier.finishedAt ?? .distantFuture) <= (later.startedAt ?? .distantPast),
                            "\(name): \(earlier.id) and \(later.id) overlap")
                    }
                }
                let interrupted = try #require(try await store.run(id: dead))
                #expect(
                    interrupted.state == .interrupted && interrupted.error?.contains("another instance took") == true)
                // The paused daemon's end of the run it lost was refused: the run stays as the takeover left it.
                let taken = try #require(try await store.run(id: lost))
                #expect(taken.state == .interrupted && taken.error?.contains("another instance took") == true)
                try await eventually(timeout: .seconds(30), "the paused daemon notices it lost the run") {
                    let log = paused.logText()
                    return log.contains("lost a running run") || log.contains("refused this instance's write")
                }

                // The killed daemon's spool delivers when it starts again; then every run that started
                // has one closed trace.
                try await killed.start(extraArguments: arguments)
                let reader = MLflowReader(uri: server.uri)
                let experimentID = try await reader.experimentID(named: experiment)
                let started = runs.filter { $0.startedAt != nil }.compactMap(\.traceID)
                var states: [String: String] = [:]
                try await eventually(timeout: .seconds(90), "every started run's trace is in MLflow, closed") {
                    states = try await reader.traceStates(experimentID: experimentID)
                    return started.allSatisfy { states[$0] == "OK" || states[$0] == "ERROR" }
                }
                #expect(states[taken.traceID ?? ""] == "ERROR")
            }
            for daemon in [killed, paused, steady] {
                #expect(try await daemon.stop() == 0, "\(daemon.logText().suffix(3000))")
            }
        }
    }

    @Test(
        "webhook deliveries spread over three daemons, each sent twice to different daemons: one run per delivery",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func webhookBurst() async throws {
        try await PostgresTestDatabase.withDatabase(prefix: "hooks") { database in
            let schedules = try schedulesDirectory(workflows: ["tick": DaemonTests.tick])
            let token = "cluster-token-\(UUID().uuidString.prefix(8))"
            let environment = DaemonPostgresTests.environment(database).merging(["SCHEDULERD_TOKEN": token]) {
                _, new in new
            }
            let daemons = try (0..<3).map { _ in
                try DaemonProcess(schedules: schedules, mlflow: nil, environment: environment)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for daemon in daemons {
                    group.addTask {
                        try await daemon.start(extraArguments: ["--database", DaemonPostgresTests.url(database)])
                    }
                }
                try await group.waitForAll()
            }
            let created = try await daemons[0].request(
                "POST", "/api/v1/schedules",
                body: #"{"name":"hook","webhook":true,"webhook_scheme":"token","workflow":"tick","overlap":"allow"}"#)
            let secret = try #require(created.json["webhook_secret"]?.stringValue, "\(created.json)")
            // Every daemon takes deliveries for it within a second: a wrong token is refused, not unknown.
            for daemon in daemons {
                try await eventually("each daemon knows the new hook") {
                    let probe = try await daemon.send(
                        "POST", "/hooks/hook", body: Data("{}".utf8),
                        headers: ["Authorization": "Bearer wrong", "Content-Type": "application/json"])
                    return probe.status == 401
                }
            }
            let deliveries = 60
            let answers = try await withThrowingTaskGroup(of: (Int, DaemonProcess.Answer).self) { group in
                for i in 0..<(deliveries * 2) {
                    group.addTask {
                        // Delivery i % 60 goes to daemon i % 3 the first time, and to the next one again.
                        let daemon = daemons[(i + i / deliveries) % 3]
                        let answer = try await daemon.send(
                            "POST", "/hooks/hook", body: Data(#"{"n":\#(i % deliveries)}"#.utf8),
                            headers: [
                                "Authorization": "Bearer \(secret)", "Content-Type": "application/json",
                                "Idempotency-Key": "delivery-\(i % deliveries)",
                            ])
                        return (i % deliveries, answer)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(
                answers.allSatisfy { $0.1.status == 202 || $0.1.status == 200 },
                "\(answers.filter { $0.1.status != 202 && $0.1.status != 200 }.prefix(3).map(\.1.json))")
            var runsByDelivery: [Int: Set<String>] = [:]
            for (delivery, answer) in answers {
                if let run = answer.json["run_id"]?.stringValue { runsByDelivery[delivery, default: []].insert(run) }
            }
            #expect(runsByDelivery.count == deliveries)
            #expect(runsByDelivery.values.allSatisfy { $0.count == 1 }, "both sends of a delivery name one run")
            #expect(answers.filter { $0.1.status == 202 }.count == deliveries, "one accepted send per delivery")

            let store = PostgresStore(configuration: database, logger: Logger(label: "test.hooks"))
            try await store.withRunningClient {
                try await eventually(timeout: .seconds(60), "every delivery's run has ended") {
                    try await store.runs(in: [.queued, .running]).isEmpty
                }
                let runs = try await store.runs(scheduleID: nil, limit: 1000, before: nil)
                #expect(runs.count == deliveries)
                #expect(runs.allSatisfy { $0.state == .succeeded }, "\(runs.map(\.state))")
                // Each daemon ran the deliveries it accepted, and the API names it.
                #expect(Set(runs.compactMap(\.owner)).count == 3)
                let shown = try await daemons[0].request("GET", "/api/v1/runs/\(runs[0].id)").json
                #expect(shown["instance"]?.stringValue == runs[0].owner)
            }
            for daemon in daemons { #expect(try await daemon.stop() == 0) }
        }
    }

    @Test(
        "a daemon whose clock is 30 s ahead fires by the database's clock: no fire early, none late, and it warns",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func skewedClock() async throws {
        try await PostgresTestDatabase.withDatabase(prefix: "skew") { database in
            let schedules = try schedulesDirectory(
                workflows: ["tick": DaemonTests.tick],
                schedules: ["every": "name: every\ncron: \"* * * * * *\"\nworkflow: tick\noverlap: allow\n"])
            let daemon = try DaemonProcess(
                schedules: schedules, mlflow: nil,
                environment: DaemonPostgresTests.environment(database).merging(["SCHEDULERD_TEST_CLOCK_SKEW": "30s"]) {
                    _, new in new
                })
            try await daemon.start(extraArguments: ["--database", DaemonPostgresTests.url(database)])
            let store = PostgresStore(configuration: database, logger: Logger(label: "test.skew"))
            // When this test first saw each run, against the fire it is for.
            var seen: [String: (at: Date, nominal: Date?)] = [:]
            try await store.withRunningClient {
                let until = Date().addingTimeInterval(6)
                while Date() < until {
                    for run in try await store.runs(scheduleID: nil, limit: 100, before: nil) where seen[run.id] == nil
                    {
                        seen[run.id] = (Date(), run.nominalTime)
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(seen.count >= 4, "\(seen)")
            for (id, sighting) in seen {
                let nominal = try #require(sighting.nominal)
                #expect(nominal <= sighting.at.addingTimeInterval(0.2), "\(id) was stored before its time \(nominal)")
                #expect(sighting.at.timeIntervalSince(nominal) < 3, "\(id) was stored late for \(nominal)")
            }
            #expect(daemon.logText().contains("clock is more than 1 s from the database's"), "\(daemon.logText())")
            #expect(try await daemon.stop() == 0)
        }
    }

    /// A run `daemon` is running now, once it runs one; of `workflow` and started within the last
    /// two seconds when it is given.
    static func runningRun(
        of daemon: DaemonProcess, in store: PostgresStore, justStarted workflow: String? = nil
    ) async throws -> String {
        let owner = try await instanceID(of: daemon)
        var id = ""
        try await eventually(timeout: .seconds(60), "the daemon runs a run") {
            for (candidate, state) in try await store.heldRuns(owner: owner) where state == .running {
                guard let workflow else {
                    id = candidate
                    return true
                }
                if let run = try await store.run(id: candidate), run.workflow == workflow,
                    let started = run.startedAt, Date().timeIntervalSince(started) < 2
                {
                    id = candidate
                    return true
                }
            }
            return false
        }
        return id
    }

    /// The instance id a daemon gives itself, from its own instance list.
    static func instanceID(of daemon: DaemonProcess) async throws -> String {
        var id: String?
        try await eventually(timeout: .seconds(30), "the daemon lists itself") {
            let listed = try await daemon.request("GET", "/api/v1/instances").json["instances"]?.arrayValue ?? []
            id = listed.first { $0["this"] == true }?["id"]?.stringValue
            return id != nil
        }
        return id ?? ""
    }
}
