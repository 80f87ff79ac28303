import Foundation
import Logging
import MLflowTesting
import PostgresNIO
import PostgresStorage
import SchedulerTesting
import Storage
import StorageTesting
import Testing
import Workflows

/// The daemon with `--database`: schedules and runs in PostgreSQL instead of the data directory.
@Suite("schedulerd keeps its schedules in PostgreSQL with --database")
struct DaemonPostgresTests {
    /// The URL the daemon is given for `database`, its password (if any) left to `PGPASSWORD`.
    static func url(_ database: PostgresConfiguration) -> String {
        "postgres://\(database.user)@\(database.target)?sslmode=\(database.sslMode.rawValue)"
    }

    /// The environment a daemon on `database` needs: its password, when it has one, in `PGPASSWORD`.
    static func environment(_ database: PostgresConfiguration) -> [String: String] {
        database.password.map { ["PGPASSWORD": $0] } ?? [:]
    }

    /// `database` as reached through a port on 127.0.0.1 where nothing listens yet, and the
    /// arguments of a `tcp_forward.py` that passes that port on to the server.
    static func throughForwarder(_ database: PostgresConfiguration) throws -> (PostgresConfiguration, [String]) {
        let port = try freeTCPPort()
        var through = database
        through.host = "127.0.0.1"
        through.port = port
        return (through, [String(port), database.host, String(database.port)])
    }

    /// A daemon with a data directory of its own on `database`, started.
    static func started(on database: PostgresConfiguration, schedules: URL) async throws -> DaemonProcess {
        let daemon = try DaemonProcess(schedules: schedules, mlflow: nil, environment: environment(database))
        try await daemon.start(extraArguments: ["--database", url(database)])
        return daemon
    }

    @Test(
        "a schedule added through the CLI is there after a restart with another data directory",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func keepsSchedulesAcrossRestart() async throws {
        try await PostgresTestDatabase.withDatabase(prefix: "daemon") { database in
            let schedules = try schedulesDirectory(workflows: ["tick": DaemonTests.tick])
            let first = try await Self.started(on: database, schedules: schedules)
            let added = try ScheduleCLIDaemonTests.schedule(
                ["add", "nightly", "--cron", "0 2 * * *", "--workflow", "tick"], daemon: first)
            #expect(added.status == 0, "\(added.stderr)")
            let run = try ScheduleCLIDaemonTests.schedule(["run", "nightly", "--wait"], daemon: first)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try await first.stop() == 0)
            #expect(first.logText().contains("using PostgreSQL"))
            #expect(
                !FileManager.default.fileExists(
                    atPath: first.dataDirectory.appendingPathComponent("schedulerd.sqlite").path),
                "no SQLite file is made")

            // A second daemon with a data directory of its own: what it lists can only come from PostgreSQL.
            let second = try await Self.started(on: database, schedules: schedules)
            let list = try ScheduleCLIDaemonTests.schedule(["list"], daemon: second)
            #expect(list.stdout.contains("nightly") && list.stdout.contains("0 2 * * *"), "\(list.stdout)")
            let runs = try ScheduleCLIDaemonTests.schedule(["runs", "nightly", "--json"], daemon: second)
            let listed = try JSONValue(json: Data(runs.stdout.utf8))["runs"]?.arrayValue ?? []
            #expect(listed.count == 1 && listed.first?["state"] == "succeeded", "\(runs.stdout)")
            #expect(try await second.stop() == 0)
        }
    }

    @Test(
        "two daemons on one database list each other in schedule instances; one that stops cleanly leaves the list",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func instances() async throws {
        try await PostgresTestDatabase.withDatabase(prefix: "instances") { database in
            let schedules = try schedulesDirectory(workflows: ["tick": DaemonTests.tick])
            let first = try await Self.started(on: database, schedules: schedules)
            let second = try await Self.started(on: database, schedules: schedules)

            var listed: [JSONValue] = []
            // The first heartbeat measures the clock offset, the next (5 s later) stores it.
            try await eventually(timeout: .seconds(60), "both daemons have stored a heartbeat with their offset") {
                let answer = try ScheduleCLIDaemonTests.schedule(["instances", "--json"], daemon: first)
                listed = try JSONValue(json: Data(answer.stdout.utf8))["instances"]?.arrayValue ?? []
                return listed.count == 2 && listed.allSatisfy { $0["clock_offset_ms"]?.doubleValue != nil }
            }
            #expect(listed.allSatisfy { $0["alive"] == true && $0["version"]?.stringValue?.isEmpty == false })
            #expect(listed.filter { $0["this"] == true }.count == 1, "the answering daemon marks itself")
            // Both share this machine's clock with the database: measured, and never warned about.
            #expect(!first.logText().contains("clock is more than 1 s"), "\(first.logText())")
            let table = try ScheduleCLIDaemonTests.schedule(["instances"], daemon: second)
            #expect(table.stdout.contains("(this)") && table.stdout.contains("alive"), "\(table.stdout)")

            #expect(try await second.stop() == 0)
            let answer = try ScheduleCLIDaemonTests.schedule(["instances", "--json"], daemon: first)
            let left = try JSONValue(json: Data(answer.stdout.utf8))["instances"]?.arrayValue ?? []
            #expect(left.count == 1 && left.first?["this"] == true, "\(answer.stdout)")
            #expect(try await first.stop() == 0)
        }
    }

    @Test(
        "a schedule added through one daemon is fired by another on the same database once the first has stopped",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func peersSeeScheduleChanges() async throws {
        try await PostgresTestDatabase.withDatabase(prefix: "peers") { database in
            let schedules = try schedulesDirectory(workflows: ["tick": DaemonTests.tick])
            let first = try await Self.started(on: database, schedules: schedules)
            let second = try await Self.started(on: database, schedules: schedules)

            _ = try await first.request(
                "POST", "/api/v1/schedules",
                body: #"{"name":"every_second","cron":"* * * * * *","workflow":"tick","overlap":"allow"}"#)
            #expect(try await first.stop() == 0)
            let stopped = Date()
            // Only the second daemon is left: runs queued after the stop are its own fires of a schedule
            // it learned of from the store.
            try await eventually(timeout: .seconds(30), "the second daemon fires the new schedule") {
                let answer = try await second.request("GET", "/api/v1/runs?schedule=every_second&limit=50").json
                let runs = answer["runs"]?.arrayValue ?? []
                let later = runs.filter { run in
                    guard let text = run["queued_at"]?.stringValue,
                        let queued = try? Date(
                            text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
                    else { return false }
                    return queued > stopped.addingTimeInterval(1)
                }
                return later.count >= 2
            }
            #expect(try await second.stop() == 0)
        }
    }

    @Test(
        "three daemons starting at once on one database apply the same schedule files once, without errors",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func concurrentStarts() async throws {
        try await PostgresTestDatabase.withDatabase(prefix: "starts") { database in
            var files: [String: String] = [:]
            for i in 0..<20 { files["every_\(i)"] = "name: every_\(i)\ncron: \"0 \(i % 24) * * *\"\nworkflow: tick\n" }
            files["hook"] = "name: hook\nwebhook: true\nwebhook_scheme: token\nworkflow: tick\n"
            let schedules = try schedulesDirectory(workflows: ["tick": DaemonTests.tick], schedules: files)
            let environment = Self.environment(database)
            let daemons = try (0..<3).map { _ in
                try DaemonProcess(schedules: schedules, mlflow: nil, environment: environment)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for daemon in daemons {
                    group.addTask { try await daemon.start(extraArguments: ["--database", Self.url(database)]) }
                }
                try await group.waitForAll()
            }
            let listed = try ScheduleCLIDaemonTests.schedule(["list", "--json"], daemon: daemons[0])
            let names = (try JSONValue(json: Data(listed.stdout.utf8))["schedules"]?.arrayValue ?? []).compactMap {
                $0["name"]?.stringValue
            }
            #expect(names.count == 21 && Set(names).count == 21, "\(listed.stdout)")
            for daemon in daemons {
                #expect(try await daemon.stop() == 0, "\(daemon.logText())")
                #expect(!daemon.logText().contains("error"), "\(daemon.logText())")
            }
        }
    }

    @Test(
        "migrate-store moves a daemon's SQLite file into PostgreSQL; a second run finds the target full",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func migrateStore() async throws {
        try await PostgresTestDatabase.withDatabase(prefix: "move") { database in
            let schedules = try schedulesDirectory(workflows: ["tick": DaemonTests.tick])
            let environment = Self.environment(database)
            let before = try DaemonProcess(schedules: schedules, mlflow: nil, environment: environment)
            try await before.start()
            _ = try ScheduleCLIDaemonTests.schedule(
                ["add", "nightly", "--cron", "0 2 * * *", "--workflow", "tick"], daemon: before)
            let ran = try ScheduleCLIDaemonTests.schedule(["run", "nightly", "--wait", "--json"], daemon: before)
            let runID = try #require(try JSONValue(json: Data(ran.stdout.utf8))["id"]?.stringValue, "\(ran.stdout)")
            #expect(try await before.stop() == 0)

            let binary = DaemonProcess.productsDirectory.appendingPathComponent("schedulerd")
            let file = before.dataDirectory.appendingPathComponent("schedulerd.sqlite").path
            var processEnvironment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
            processEnvironment.merge(environment) { $1 }
            let moved = try runProcess(
                binary, ["migrate-store", "--from", file, "--to", Self.url(database), "--json"],
                environment: processEnvironment)
            #expect(moved.status == 0, "\(moved.stderr)")
            let summary = try JSONValue(json: Data(moved.stdout.utf8))
            #expect(summary["schedules"] == 1 && summary["runs"] == 1, "\(moved.stdout)")

            let after = try await Self.started(on: database, schedules: schedules)
            let run = try ScheduleCLIDaemonTests.schedule(["runs", "nightly", "--json"], daemon: after)
            let listed = try JSONValue(json: Data(run.stdout.utf8))["runs"]?.arrayValue ?? []
            #expect(listed.first?["id"]?.stringValue == runID && listed.first?["state"] == "succeeded", "\(run.stdout)")
            #expect(try await after.stop() == 0)

            let again = try runProcess(
                binary, ["migrate-store", "--from", file, "--to", Self.url(database)], environment: processEnvironment)
            #expect(again.status == 1)
            #expect(again.stderr.contains("the target is not empty (it holds 1 schedule and runs)"), "\(again.stderr)")
            let missing = try runProcess(
                binary, ["migrate-store", "--from", file + ".nope", "--to", Self.url(database)],
                environment: processEnvironment)
            #expect(missing.status == 2 && missing.stderr.contains("no SQLite file at"), "\(missing.stderr)")
        }
    }

    @Test(
        "a wrong password is an error naming the server and the refusal, not the password, and the daemon writes nothing",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func wrongPassword() async throws {
        try await PostgresTestDatabase.withStore(prefix: "password") { store in
            // A role that must give its password (scripts/lib.sh lets it in by scram-sha-256 only).
            try await store.execute(
                """
                DO $$ BEGIN CREATE ROLE schedulerd_password LOGIN PASSWORD 'the-right-one';
                EXCEPTION WHEN duplicate_object THEN NULL; END $$
                """)
            let server = try PostgresTestDatabase.server()
            let data = FileManager.default.temporaryDirectory.appendingPathComponent(
                "pg-password-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(at: data) }
            let result = try runProcess(
                DaemonProcess.productsDirectory.appendingPathComponent("schedulerd"),
                [
                    "--data-dir", data.path, "--schedules",
                    try schedulesDirectory(workflows: ["tick": DaemonTests.tick]).path, "--listen",
                    "127.0.0.1:\(try freeTCPPort())", "--database",
                    "postgres://schedulerd_password:not-the-one@\(server.target)?sslmode=disable&connect_timeout=1",
                ],
                environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()])
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stderr.contains("schedulerd: cannot use the database"), "\(result.stderr)")
            #expect(result.stderr.contains("password authentication failed"), "\(result.stderr)")
            #expect(!result.stderr.contains("not-the-one"))
            #expect(
                !FileManager.default.fileExists(atPath: data.appendingPathComponent("schedulerd.sqlite").path),
                "nothing written in its place")
        }
    }

    @Test(
        "a database that comes up after the daemon started: the daemon waits, then starts and serves",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func databaseComesUp() async throws {
        try await PostgresTestDatabase.withDatabase(prefix: "later") { database in
            let (late, forward) = try Self.throughForwarder(database)
            let daemon = try DaemonProcess(
                schedules: try schedulesDirectory(workflows: ["tick": DaemonTests.tick]), mlflow: nil,
                environment: Self.environment(database))
            try await daemon.start(extraArguments: ["--database", Self.url(late) + "&connect_timeout=1"])
            #expect(try await daemon.request("GET", "/readyz", authorized: false).status == 503)
            // The server appears at the address the daemon was given.
            let forwarder = try await FixtureProcess.start(script: "tcp_forward.py", arguments: forward)
            // The listener that answered 503 makes way for the daemon's own: refused meanwhile.
            try await eventually(timeout: .seconds(60), "the daemon is ready once the database answers") {
                (try? await daemon.request("GET", "/readyz", authorized: false).status) == 200
            }
            let added = try ScheduleCLIDaemonTests.schedule(
                ["add", "nightly", "--cron", "0 2 * * *", "--workflow", "tick"], daemon: daemon)
            #expect(added.status == 0, "\(added.stderr)")
            #expect(daemon.logText().contains("PostgreSQL answers; starting"), "\(daemon.logText())")
            #expect(try await daemon.stop() == 0)
            _ = forwarder
        }
    }

    @Test(
        "the database lost while a run runs, past the lease: the run finishes and its end is written once the database is back; every-second fires of the outage run once each",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func databaseLostMidRun() async throws {
        try await PostgresTestDatabase.withDatabase(prefix: "lost") { database in
            // The daemon reaches the server through a forwarder that the test stops and starts again.
            let (through, forward) = try Self.throughForwarder(database)
            var forwarder = try await FixtureProcess.start(
                script: "tcp_forward.py", arguments: forward)
            // A run that goes on until the test creates scripts/release: seen running however loaded the
            // machine, still going when the database goes away, and ending right after.
            let gated = """
                #!/bin/sh
                cat > /dev/null
                while [ ! -e "$(dirname "$0")/release" ]; do sleep 0.1; done
                echo '{}'

                """
            let schedules = try schedulesDirectory(
                workflows: ["tick": DaemonTests.tick, "slow": DaemonTests.slow],
                scripts: ["scripts/slow.sh": gated],
                schedules: [
                    "ticker": "cron: \"* * * * * *\"\nworkflow: tick\noverlap: allow\ncatchup: 1h\ncatchup_mode: all\n",
                    "yearly": "cron: \"0 0 1 1 *\"\nworkflow: slow\n",
                ])
            let daemon = try DaemonProcess(schedules: schedules, mlflow: nil, environment: Self.environment(database))
            try await daemon.start(extraArguments: [
                "--database", Self.url(through) + "&connect_timeout=1", "--lease", "3s",
            ])
            let store = PostgresStore(configuration: database, logger: Logger(label: "test.lost"))
            try await store.withRunningClient {
                let started = try await daemon.request("POST", "/api/v1/schedules/yearly/run", body: "{}")
                #expect(started.status == 202, "\(started.json)")
                let runID = try #require(started.json["run_id"]?.stringValue)
                try await eventually(timeout: .seconds(30), "the slow run is running") {
                    try await store.run(id: runID)?.state == .running
                }

                let ticker = try #require(try await store.schedule(named: "ticker"))
                try await eventually(timeout: .seconds(30), "the ticker has run before the outage") {
                    try await store.runs(scheduleID: ticker.id, limit: 10, before: nil).filter { $0.state.isFinal }
                        .count >= 2
                }

                // The server goes away for longer than the lease; the run ends meanwhile.
                let lost = Date()
                await forwarder.stop()
                #expect(
                    FileManager.default.createFile(
                        atPath: schedules.appendingPathComponent("scripts/release").path, contents: Data()))
                try await eventually(timeout: .seconds(30), "the slow run ends while the database is away") {
                    daemon.logText().contains("status=succeeded workflow=slow")
                }
                try await Task.sleep(for: .seconds(4))
                forwarder = try await FixtureProcess.start(script: "tcp_forward.py", arguments: forward)
                let back = Date()

                // The connection pool comes back on its own schedule: postgres-nio retries a server that
                // refused it after a pause that grows by a quarter per failure up to a minute, and the
                // outage above made it fail many times (a clean-clone CI run once took over 60 s).
                try await eventually(timeout: .seconds(240), "the run's end is written") {
                    try await store.run(id: runID)?.state.isFinal == true
                }
                let run = try #require(try await store.run(id: runID))
                #expect(run.state == .succeeded, "\(run.state): \(run.error ?? "")")
                #expect(run.attempt == 1)

                // Every second from before the outage to after it has one tick run, each ended once.
                let first = Int64(lost.timeIntervalSince1970) - 1
                let last = Int64(back.timeIntervalSince1970) + 2
                try await eventually(timeout: .seconds(240), "the ticker's fires of the outage have run") {
                    let runs = try await store.runs(scheduleID: ticker.id, limit: 1000, before: nil)
                    let ended = Set(
                        runs.filter { $0.state.isFinal }.compactMap {
                            $0.nominalTime.map { Int64($0.timeIntervalSince1970) }
                        })
                    return (first...last).allSatisfy { ended.contains($0) }
                }
                let runs = try await store.runs(scheduleID: ticker.id, limit: 1000, before: nil)
                var bySecond: [Int64: Int] = [:]
                for run in runs {
                    if let nominal = run.nominalTime { bySecond[Int64(nominal.timeIntervalSince1970), default: 0] += 1 }
                }
                for second in first...last {
                    #expect(bySecond[second] == 1, "the fire at \(second) ran \(bySecond[second] ?? 0) times")
                }
                let window = runs.filter {
                    guard let nominal = $0.nominalTime?.timeIntervalSince1970 else { return false }
                    return Int64(nominal) >= first && Int64(nominal) <= last
                }
                #expect(window.allSatisfy { $0.state == .succeeded }, "\(window.map(\.state))")
                // The heartbeat that was under way when the connection went ended too, and the next
                // ones are stored (a call on a connection lost midway once waited for ever).
                try await eventually(timeout: .seconds(60), "the heartbeats are stored again") {
                    daemon.logText().contains("this instance's heartbeats are stored again")
                }
            }
            // Killed, not stopped: a graceful stop waits for the store calls still queued for a
            // connection, and the pool may be in one of its pauses (up to a minute) after the outage;
            // a clean-clone CI run once waited past 60 s. What this test is about was checked above.
            #expect(try await daemon.stop(signal: SIGKILL) == SIGKILL)
            let log = daemon.logText()
            #expect(!log.contains("run interrupted"), "\(log)")
            // An operator sees the outage and its end in the log.
            #expect(log.contains("cannot store this instance's heartbeat"), "\(log)")
            #expect(log.contains("this instance's heartbeats are stored again"), "\(log)")
            _ = forwarder
        }
    }

    @Test(
        "a server that cannot be reached at start: the daemon waits, /healthz 200, /readyz 503 naming the server and why, the API 503, one log line, no password; SIGTERM ends the wait"
    )
    func unreachableServer() async throws {
        let port = try freeTCPPort()
        let daemon = try DaemonProcess(
            schedules: try schedulesDirectory(workflows: ["tick": DaemonTests.tick]), mlflow: nil)
        try await daemon.start(extraArguments: [
            "--database", "postgres://scheduler:hunter2@127.0.0.1:\(port)/jobs?sslmode=disable&connect_timeout=1",
        ])
        let ready = try await daemon.request("GET", "/readyz", authorized: false)
        #expect(ready.status == 503)
        let detail = ready.json["detail"]?.stringValue ?? ""
        #expect(detail.contains("PostgreSQL at 127.0.0.1:\(port)/jobs did not answer"), "\(detail)")
        #expect(detail.contains("Connection refused"), "\(detail)")
        let api = try await daemon.request("GET", "/api/v1/schedules")
        #expect(api.status == 503 && api.retryAfter == "5", "\(api.json)")
        #expect(api.json["error"]?["message"]?.stringValue?.hasPrefix("schedulerd is starting: ") == true)
        // Another attempt or two, each refused the same way: still one line.
        try await Task.sleep(for: .seconds(5))
        let log = daemon.logText()
        #expect(log.components(separatedBy: "PostgreSQL cannot be reached").count == 2, "\(log)")
        #expect(!log.contains("hunter2"), "\(log)")
        #expect(try await daemon.stop(signal: SIGTERM, timeout: .seconds(20)) == 0, "\(daemon.logText())")
        #expect(daemon.logText().contains("stopped while waiting for the database"))
    }

}
