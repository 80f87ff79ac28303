import Foundation
import Storage
import Workflows

/// How a run ended, as the store keeps it.
public struct RunOutcome: Sendable, Hashable {
    public var state: RunState
    public var outputJSON: String?
    public var error: String?
    public var nodesJSON: String?

    public init(state: RunState, outputJSON: String? = nil, error: String? = nil, nodesJSON: String? = nil) {
        self.state = state
        self.outputJSON = outputJSON
        self.error = error
        self.nodesJSON = nodesJSON
    }
}

/// What the scheduler hands runs to. The daemon uses ``WorkflowRunExecutor``; tests use executors they
/// control.
public protocol RunExecutor: Sendable {
    /// Runs `run` to its end; cancellation of the calling task cancels it.
    /// - Parameters:
    ///   - started: called once the run's root span started (its ids go to the store).
    ///   - progress: called with every node attempt that finished so far.
    func execute(
        _ run: RunRecord, schedule: ScheduleRecord?, started: @escaping @Sendable (RunStart) async -> Void,
        progress: @escaping @Sendable ([NodeRecord]) async -> Void
    ) async -> RunOutcome

    /// Closes the trace of a run the daemon found `running` at start (it died mid-run): an ERROR root
    /// with the stored ids, so that MLflow shows the trace as failed instead of in progress.
    func closeInterrupted(_ run: RunRecord) async
}
