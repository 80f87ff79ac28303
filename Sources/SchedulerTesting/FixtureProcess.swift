import Foundation
import Synchronization

/// Where the package's test fixtures are.
public enum TestFixtures {
    /// The package's root folder (where `Package.swift`, `.venv` and `Tests/Fixtures` are).
    public static var packageRoot: URL {
        // Sources/SchedulerTesting/FixtureProcess.swift → the package root.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }
}

/// Runs blocking work (waiting for processes, reading pipes) on a Dispatch thread, so that tests never
/// hold one of the few cooperative threads while they wait.
public func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

/// Reads until the first newline (or the end), blocking: call it inside ``offload(_:)``.
public func readLine(_ handle: FileHandle) -> Data {
    var line = Data()
    while !line.contains(UInt8(ascii: "\n")) {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        line.append(chunk)
    }
    return line
}

/// A Python helper server from `Tests/Fixtures` that prints its port on its first line; stopped when
/// released.
public final class FixtureProcess: Sendable {
    /// The port the fixture printed on its first line and listens on.
    public let port: Int
    let process: Process
    /// The fixture's stdin: it ends when this closes, so it never outlives the test process.
    let lifeline = Pipe()

    /// Starts `Tests/Fixtures/<script>` with `arguments` (off the cooperative pool).
    public static func start(script: String, arguments: [String] = []) async throws -> FixtureProcess {
        try await offload { try FixtureProcess(script: script, arguments: arguments) }
    }

    /// Starts the fixture, blocking until it prints its port; call ``start(script:arguments:)`` from async code.
    package init(script: String, arguments: [String]) throws {
        let root = TestFixtures.packageRoot
        let python = root.appendingPathComponent(".venv/bin/python")
        process = Process()
        process.executableURL =
            FileManager.default.isExecutableFile(atPath: python.path)
            ? python : URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [root.appendingPathComponent("Tests/Fixtures/\(script)").path] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = lifeline
        try process.run()
        // Stopped at exit too: a test that keeps its fixture to the end never releases it.
        Reaper.shared.track(process.processIdentifier)
        let line = readLine(out.fileHandleForReading)
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            process.terminate()
            throw TestFailure(description: "\(script) did not start")
        }
        self.port = port
    }

    /// Stops the fixture now and waits until it has exited, its connections closed with it (a test
    /// that cuts a connection on purpose should not rely on the release of its last reference).
    /// The fixture exits when its stdin ends: a signal may not reach it, since it inherits the signal
    /// mask of the test process's thread that started it.
    public func stop() async {
        let process = self.process
        let lifeline = self.lifeline
        _ = try? await offload {
            try? lifeline.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    deinit {
        Reaper.shared.untrack(process.processIdentifier)
        // Its stdin ending is what stops it (see ``stop()``); the signal is for a fixture that does not read it.
        try? lifeline.fileHandleForWriting.close()
        process.terminate()
    }
}

/// Kills the process groups of servers still running when the test process exits.
package final class Reaper: Sendable {
    package static let shared = Reaper()
    private let pids = Mutex<Set<Int32>>([])

    private init() {
        atexit {
            for pid in Reaper.shared.pids.withLock({ $0 }) { Reaper.terminateGroup(pid) }
        }
    }

    package func track(_ pid: Int32) { _ = pids.withLock { $0.insert(pid) } }
    package func untrack(_ pid: Int32) { _ = pids.withLock { $0.remove(pid) } }

    package static func terminateGroup(_ pid: Int32) {
        kill(-pid, SIGTERM)
        for _ in 0..<50 {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { break }
            usleep(100_000)
        }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
    }
}
