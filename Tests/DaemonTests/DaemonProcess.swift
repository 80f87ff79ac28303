import Crypto
import Foundation
import Logging
import MLflowTesting
import PostgresStorage
import SchedulerTesting
import Storage
import StorageTesting
import Workflows

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The built `schedulerd` run as a process on a free port, with its own data directory.
///
/// Its store is the SQLite file in the data directory, or, with `SCHEDULERD_TEST_DAEMON_STORE=postgres`
/// (`scripts/test` runs the daemon suite once more so), a PostgreSQL database of its own on the test
/// server: the same data directory always gets the same database, so a daemon started again finds
/// what it stored. A test that gives `--database` itself keeps it.
final class DaemonProcess: @unchecked Sendable {
    /// The engine the daemons of this test run keep their schedules and runs in.
    enum Engine: String {
        case sqlite, postgres
    }

    /// The environment variable that picks the ``Engine``.
    static let engineVariable = "SCHEDULERD_TEST_DAEMON_STORE"

    /// The engine `SCHEDULERD_TEST_DAEMON_STORE` names: `sqlite` (the default) or `postgres`.
    static var engine: Engine {
        get throws {
            let value = ProcessInfo.processInfo.environment[engineVariable] ?? ""
            if value.isEmpty { return .sqlite }
            guard let engine = Engine(rawValue: value) else {
                throw TestFailure(description: "\(engineVariable) is \"\(value)\"; it must be sqlite or postgres")
            }
            return engine
        }
    }

    /// The port the daemon listens on; a new one when another process took it before the daemon
    /// could (``start(extraArguments:)``).
    private(set) var port: Int
    let dataDirectory: URL
    let schedules: URL
    let token = "test-token-\(UUID().uuidString.prefix(8))"
    let log: URL
    let environment: [String: String]
    private var process: Process?
    /// The PostgreSQL database the daemon was given by ``start(extraArguments:)`` on the `postgres`
    /// engine; `nil` while it keeps its SQLite file.
    private(set) var database: PostgresConfiguration?

    static var productsDirectory: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("schedulerd").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir
    }

    init(
        schedules: URL, dataDirectory: URL? = nil, mlflow: URL?, experiment: String? = nil,
        environment extra: [String: String] = [:]
    ) throws {
        self.port = try freeTCPPort()
        self.schedules = schedules
        self.dataDirectory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("daemon-\(UUID().uuidString.prefix(8))")
        self.log = self.dataDirectory.deletingLastPathComponent().appendingPathComponent(
            "\(self.dataDirectory.lastPathComponent).log")
        var environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        if let mlflow { environment["MLFLOW_TRACKING_URI"] = mlflow.absoluteString }
        if let experiment { environment["MLFLOW_EXPERIMENT_NAME"] = experiment }
        self.environment = environment.merging(extra) { _, new in new }
    }

    /// Starts the daemon and waits until it answers `/healthz` on its port. The port was free when
    /// it was chosen, but another test's process may take it before the daemon listens: the daemon
    /// then exits, and is started again on a new port.
    func start(extraArguments: [String] = []) async throws {
        for _ in 0..<3 {
            if try await launch(extraArguments: extraArguments) { return }
            port = try freeTCPPort()
        }
        throw TestFailure(description: "schedulerd found its port taken three times (log: \(log.path))")
    }

    /// Starts the daemon once and waits until it answers `/healthz` on its port.
    /// - Returns: false when it exited because another process had taken the port.
    private func launch(extraArguments: [String]) async throws -> Bool {
        let process = Process()
        process.executableURL = Self.productsDirectory.appendingPathComponent("schedulerd")
        var arguments =
            [
                "--data-dir", dataDirectory.path, "--listen", "127.0.0.1:\(port)", "--schedules", schedules.path,
                "--shutdown-grace", "20s",
            ] + extraArguments
        var environment = self.environment
        environment["SCHEDULERD_TOKEN"] = token
        if try Self.engine == .postgres, !extraArguments.contains("--database"),
            environment["SCHEDULERD_DATABASE_URL"] == nil
        {
            let database = try await PostgresTestDatabase.database(named: databaseName)
            self.database = database
            arguments += ["--database", DaemonPostgresTests.url(database)]
            environment.merge(DaemonPostgresTests.environment(database)) { _, new in new }
            // A daemon started again on the same data directory is a new instance: the lease of
            // the killed one must run out before its runs are taken over.
            if environment["SCHEDULERD_LEASE"] == nil { environment["SCHEDULERD_LEASE"] = "5s" }
        }
        process.arguments = arguments
        process.environment = environment
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: log)
        let logged = handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        var taken = false
        try await eventually(timeout: .seconds(60), "schedulerd answers /healthz (log: \(log.path))") {
            if !process.isRunning {
                let since = String(logText().utf8.dropFirst(Int(logged))) ?? ""
                if since.contains("Address already in use") {
                    taken = true
                    return true
                }
                throw TestFailure(description: "schedulerd exited: \(logText())")
            }
            // Whoever answers must be this process: another test's server may have the port.
            guard Self.listens(pid: process.processIdentifier, port: port) else { return false }
            return (try? await self.request("GET", "/healthz", authorized: false).status) == 200
        }
        if taken { return false }
        if database != nil, !logText().contains("using PostgreSQL") {
            throw TestFailure(description: "schedulerd was given --database but did not say it uses PostgreSQL")
        }
        return true
    }

    /// Whether process `pid` has a socket listening on TCP `port` (from `/proc/net/tcp` and the
    /// process's open files).
    static func listens(pid: Int32, port: Int) -> Bool {
        var inodes: Set<String> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                // local_address is ADDRESS:PORT in hex; state 0A is LISTEN; the inode is the tenth field.
                guard fields.count > 9, fields[3] == "0A", let colon = fields[1].lastIndex(of: ":"),
                    Int(fields[1][fields[1].index(after: colon)...], radix: 16) == port
                else { continue }
                inodes.insert("socket:[\(fields[9])]")
            }
        }
        guard !inodes.isEmpty else { return false }
        let folder = "/proc/\(pid)/fd"
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return descriptors.contains { descriptor in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\(descriptor)"))
                .map(inodes.contains) ?? false
        }
    }

    /// The name of this data directory's database on the `postgres` engine.
    private var databaseName: String {
        "daemon_"
            + SHA256.hash(data: Data(dataDirectory.path.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// Runs `body` with the store this daemon keeps its schedules and runs in, opened by the test
    /// itself: its SQLite file, or its PostgreSQL database (with a client of its own, stopped after).
    /// The daemon may be running or stopped; it must have been started once.
    func withStore<T: Sendable>(_ body: (any SchedulerStore) async throws -> T) async throws -> T {
        if let database {
            let store = PostgresStore(
                configuration: database, maximumConnections: 2, logger: Logger(label: "test.daemon-store"))
            return try await store.withRunningClient { try await body(store) }
        }
        return try await body(try SQLiteStore(path: dataDirectory.appendingPathComponent("schedulerd.sqlite").path))
    }

    func logText() -> String {
        (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    }

    /// Sends a signal without waiting for anything.
    func signal(_ number: Int32) {
        if let process { kill(process.processIdentifier, number) }
    }

    /// Sends a signal and waits for the exit; returns the exit status.
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(60)) async throws -> Int32 {
        guard let process else { return -1 }
        kill(process.processIdentifier, signal)
        try await eventually(timeout: timeout, "schedulerd exits after signal \(signal)") { !process.isRunning }
        self.process = nil
        return process.terminationStatus
    }

    struct Answer {
        var status: Int
        var json: JSONValue
        var retryAfter: String?
    }

    /// One HTTP request to the daemon.
    func request(
        _ method: String, _ path: String, body: String? = nil, authorized: Bool = true, token: String? = nil
    ) async throws -> Answer {
        try await send(
            method, path, body: body.map { Data($0.utf8) },
            headers: (body == nil ? [:] : ["Content-Type": "application/json"])
                .merging(authorized ? ["Authorization": "Bearer \(token ?? self.token)"] : [:]) { a, _ in a })
    }

    /// Adds a manual schedule `name` of `workflow`, runs it, and returns the run's id once it runs.
    func startManualRun(_ name: String, workflow: String) async throws -> String {
        let created = try await request(
            "POST", "/api/v1/schedules", body: #"{"name":"\#(name)","manual":true,"workflow":"\#(workflow)"}"#)
        guard created.status == 201 else { throw TestFailure(description: "\(name) not created: \(created.json)") }
        let started = try await request("POST", "/api/v1/schedules/\(name)/run", body: "{}")
        guard let id = started.json["run_id"]?.stringValue else {
            throw TestFailure(description: "\(name) did not start: \(started.json)")
        }
        try await eventually("run \(id) is running") {
            try await self.request("GET", "/api/v1/runs/\(id)").json["state"] == "running"
        }
        return id
    }

    /// One HTTP request with exactly these headers and body bytes; also the answer's headers.
    func send(_ method: String, _ path: String, body: Data?, headers: [String: String]) async throws -> Answer {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 60
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var answer = Answer(
            status: http?.statusCode ?? 0,
            json: (try? JSONValue(json: data)) ?? .string(String(decoding: data, as: UTF8.self)))
        answer.retryAfter = http?.value(forHTTPHeaderField: "Retry-After")
        return answer
    }

    deinit {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// A schedules directory for the daemon: workflows, scripts, and optional schedule files.
func schedulesDirectory(workflows: [String: String], scripts: [String: String] = [:], schedules: [String: String] = [:])
    throws -> URL
{
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("schedules-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(
        at: root.appendingPathComponent("workflows"), withIntermediateDirectories: true)
    for (name, text) in workflows {
        try text.write(to: root.appendingPathComponent("workflows/\(name).yaml"), atomically: true, encoding: .utf8)
    }
    for (path, text) in scripts {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }
    for (name, text) in schedules {
        try text.write(to: root.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
    }
    return root
}
