import Foundation
import Logging
import SchedulerTesting
import Testing

@testable import MLflowTracing

/// An exporter running against a real MLflow server, with its own experiment and spool.
struct RunningExporter {
    let exporter: TraceExporter
    let task: Task<Void, any Error>
    let experiment: String
    let logs: LogCapture
    let spoolPath: String

    var tracer: MLflowTracer { exporter.tracer }

    static func start(
        uri: URL, experiment: String = "test-\(UUID().uuidString.prefix(8))", spoolPath: String? = nil,
        configure: (inout MLflowTracingConfiguration) -> Void = { _ in }
    ) throws -> RunningExporter {
        let logs = LogCapture()
        let spool =
            spoolPath
            ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("spool-\(UUID().uuidString)/trace-spool.sqlite").path
        var configuration = MLflowTracingConfiguration(
            trackingURI: uri, spoolPath: spool, experimentName: experiment, maxBackoff: .seconds(1))
        configure(&configuration)
        let exporter = try TraceExporter(configuration: configuration, logger: logs.logger(label: "exporter"))
        let task = Task { try await exporter.run() }
        return RunningExporter(exporter: exporter, task: task, experiment: experiment, logs: logs, spoolPath: spool)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    /// Waits until everything is delivered; fails the test if that takes longer than `timeout`.
    func flush(timeout: Duration = .seconds(60)) async throws {
        let done = await exporter.flush(timeout: timeout)
        #expect(done, "spans still pending after \(timeout): \(exporter.statistics)")
    }
}

/// Waits for `condition` with a deadline (no fixed sleeps as synchronisation).
func eventually(
    timeout: Duration = .seconds(30), _ what: String, _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out after \(timeout) waiting for: \(what)")
}
