import Foundation
import GRDB
import SchedulerTesting
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real `mlflow server` for integration tests: its own SQLite backend in a temporary directory, on
/// a free port of 127.0.0.1, stopped (with its worker processes) when the test process exits.
///
/// The executable is `$SCHEDULERD_TEST_MLFLOW`, else `.venv/bin/mlflow` at the package root (which
/// `scripts/test` installs). When neither exists, ``start()`` throws with the reason: tests that need
/// MLflow fail, they never skip.
public final class MLflowTestServer: Sendable {

    /// The port the server listens on, on 127.0.0.1.
    public let port: Int
    /// The temporary directory that holds the server's SQLite database, artifacts and `server.log`.
    public let directory: URL
    private let pid = Mutex<Int32?>(nil)

    /// The tracking URI, `http://127.0.0.1:<port>`.
    public var uri: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Prepares a server; ``start()`` runs it.
    /// - Parameter port: the port to listen on; `nil` takes one the system says is free.
    /// - Throws: when no free port can be found or the temporary directory cannot be made.
    public init(port: Int? = nil) throws {
        self.port = try port ?? freeTCPPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mlflow-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// One server shared by every test in the process, started on first use.
    public static func shared() async throws -> MLflowTestServer {
        try await SharedServer.instance.get()
    }

    /// The mlflow executable tests use.
    public static func executable() throws -> String {
        if let path = ProcessInfo.processInfo.environment["SCHEDULERD_TEST_MLFLOW"], !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw TestFailure(description: "SCHEDULERD_TEST_MLFLOW=\(path) is not an executable file")
            }
            return path
        }
        let local = packageRoot.appendingPathComponent(".venv/bin/mlflow").path
        guard FileManager.default.isExecutableFile(atPath: local) else {
            throw TestFailure(
                description: "MLflow is not installed for the tests: \(local) is missing. Run scripts/test, which "
                    + "installs it, or set SCHEDULERD_TEST_MLFLOW to an mlflow executable")
        }
        return local
    }

    /// The package's root folder (where `Package.swift`, `.venv` and `Tests/Fixtures` are).
    public static var packageRoot: URL { TestFixtures.packageRoot }

    /// Starts the server and waits until `/health` answers (up to two minutes: a first start migrates
    /// its database).
    public func start() async throws {
        try Self.prepareDatabase(at: directory.appendingPathComponent("mlflow.db").path)
        let process = Process()
        // Foundation starts the child in its own process group, so stop() reaches the workers too.
        process.executableURL = URL(fileURLWithPath: try Self.executable())
        process.arguments = [
            "server", "--host", "127.0.0.1", "--port", "\(port)", "--workers", "2",
            "--backend-store-uri", "sqlite:///\(directory.path)/mlflow.db",
            "--default-artifact-root", directory.appendingPathComponent("artifacts").path,
        ]
        let log = directory.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        pid.withLock { $0 = process.processIdentifier }
        Reaper.shared.track(process.processIdentifier)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if await healthy() { return }
            if !process.isRunning {
                throw TestFailure(
                    description: "mlflow server exited with \(process.terminationStatus); see \(log.path)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        stop()
        throw TestFailure(description: "mlflow server did not answer /health within 120 s; see \(log.path)")
    }

    /// Creates MLflow's SQLite database in WAL mode (a setting kept in the file), so that its two
    /// workers' readers never wait for a writer, nor a writer for readers: in the default rollback
    /// journal, every suite writing traces at once made MLflow answer 503 "database is locked".
    static func prepareDatabase(at path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { return }
        let database = try DatabaseQueue(path: path)
        try database.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = WAL") }
        try database.close()
    }

    /// Stops the server and its workers (SIGTERM to the group, SIGKILL after 5 s) and waits for them.
    public func stop() {
        guard
            let pid = pid.withLock({ p -> Int32? in
                defer { p = nil }; return p
            })
        else { return }
        Reaper.terminateGroup(pid)
        Reaper.shared.untrack(pid)
    }

    /// True when `/health` answers 200.
    public func healthy() async -> Bool {
        var request = URLRequest(url: uri.appendingPathComponent("health"))
        request.timeoutInterval = 2
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return false }
        return (response as? HTTPURLResponse)?.statusCode == 200
    }

}

private actor SharedServer {
    static let instance = SharedServer()
    private var server: Task<MLflowTestServer, any Error>?

    func get() async throws -> MLflowTestServer {
        if let server { return try await server.value }
        let task = Task {
            let server = try MLflowTestServer()
            try await server.start()
            return server
        }
        server = task
        return try await task.value
    }
}
