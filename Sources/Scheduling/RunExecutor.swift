import Foundation
import Storage
import Workflows

/// How a run ended, as the store keeps it.
public struct RunOutcome: Sendable, Hashable {
    /// The state the run ended in: `succeeded`, `failed`, `timed_out` or `cancelled`.
    public var state: RunState
    /// The workflow's final state as a JSON object; `nil` when the run failed before its workflow started.
    public var outputJSON: String?
    /// Why the run did not succeed, in one message for people; `nil` when it succeeded.
    public var error: String?
    /// Every node attempt, as the JSON array ``NodeRecord`` writes; `nil` when the workflow never started.
    public var nodesJSON: String?

    /// An outcome; a run that failed before its workflow started gives only `state` and `error`.
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

    /// Closes the trace of a run the daemon found `running` at start (it died mid-run), or that another
    /// instance took over: an ERROR root with the stored ids and the run's `error` as its reason, so
    /// that MLflow shows the trace as failed instead of in progress, or instead of how the instance
    /// that lost the run ended it.
    func closeInterrupted(_ run: RunRecord) async

    /// The node attempts of a run this executor is running that are going on now, in the order they
    /// began: what the status pages show as its current node. Not stored: a run's stored progress
    /// has its ended attempts only.
    func nodesGoing(runID: String) -> [NodeRecord]
}

extension RunExecutor {
    /// None: an executor that does not follow its runs' nodes.
    public func nodesGoing(runID: String) -> [NodeRecord] { [] }
}
