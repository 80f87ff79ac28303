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
    /// Runs `run` to its end; cancellation of the calling task cancels it. The run's root span uses the
    /// trace id, root span id and start stored in `run`.
    /// - Parameters:
    ///   - started: called once the run's root span started; must return at once.
    ///   - progress: called, in order, with every node attempt that finished so far; must return at once.
    func execute(
        _ run: RunRecord, schedule: ScheduleRecord?, started: @escaping @Sendable (RunStart) -> Void,
        progress: @escaping @Sendable ([NodeRecord]) -> Void
    ) async -> RunOutcome

    /// Closes the trace of a run the daemon found `running` at start (it died mid-run): an ERROR root
    /// with the stored ids, so that MLflow shows the trace as failed instead of in progress.
    func closeInterrupted(_ run: RunRecord) async
}
