import Foundation
import MLflowTracing
import SchedulerTesting

/// A ``TraceExporter`` running against a real MLflow server, with its own experiment and spool, its
/// logs captured.
public struct RunningExporter: Stoppable {
    /// The exporter, for its statistics and its flush.
    public let exporter: TraceExporter
    /// The task running the exporter's `run()`; ``stop()`` cancels it.
    public let task: Task<Void, any Error>
    /// The name of the MLflow experiment traces go to.
    public let experiment: String
    /// What the exporter logged.
    public let logs: LogCapture
    /// The path of the exporter's spool database.
    public let spoolPath: String

    /// A tracer whose ended spans this exporter sends.
    public var tracer: MLflowTracer { exporter.tracer }

    /// Starts an exporter to `uri`, exporting into `experiment` (created by the exporter if missing).
    public static func start(
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

    /// Cancels the exporter and waits until it has stopped; spans not yet delivered stay in the spool.
    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    /// Waits until everything is delivered. The default is generous: it returns as soon as the spool
    /// is empty, and the shared test server is slow while every suite writes to it at once.
    /// - Throws: ``TestFailure`` when spans are still pending after `timeout`.
    public func flush(timeout: Duration = .seconds(180)) async throws {
        guard await exporter.flush(timeout: timeout) else {
            throw TestFailure(description: "spans still pending after \(timeout): \(exporter.statistics)")
        }
    }
}
