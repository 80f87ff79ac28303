import Cron
import Foundation
import RunTracing
import Storage
import Synchronization
import Workflows

/// Runs stored runs with a ``WorkflowRunner``: the run's input and payload go in, its trace gets the
/// trigger, schedule id, run id and fire time, and the result comes back as the store keeps it.
public final class WorkflowRunExecutor: RunExecutor {
    private let current: Mutex<WorkflowRunner>
    private let clock: any WallClock
    /// The node attempts going on now, by run id and step.
    private let going = Mutex<[String: [Int: NodeRecord]]>([:])

    /// An executor that runs runs with `runner` until ``replace(_:)`` swaps it.
    /// - Parameters:
    ///   - runner: the runner, with the loaded workflows and the tracer.
    ///   - clock: what an interrupted run's trace is closed at (the scheduler's clock).
    public init(runner: WorkflowRunner, clock: any WallClock = SystemWallClock()) {
        self.current = Mutex(runner)
        self.clock = clock
    }

    /// The node attempts of run `runID` going on now in this process, in the order they began (status
    /// ``NodeRecord/Status/running``); none for a run not running here.
    public func nodesGoing(runID: String) -> [NodeRecord] {
        going.withLock { ($0[runID] ?? [:]).values.sorted { $0.step < $1.step } }
    }

    /// The runner new runs use.
    public var runner: WorkflowRunner { current.withLock { $0 } }

    /// Swaps in a runner with newly loaded workflows (SIGHUP); runs already going keep theirs.
    public func replace(_ runner: WorkflowRunner) {
        current.withLock { $0 = runner }
    }

    /// Runs `run`'s workflow with the current ``runner``: decodes its input, tags its trace with the
    /// trigger, schedule name, fire time (cron and catch-up) or delivery id (webhook), and applies the
    /// schedule's timeout. An input that is not a JSON object fails the run without starting it.
    public func execute(
        _ run: RunRecord, schedule: ScheduleRecord?, started: @escaping @Sendable (RunStart) -> Void,
        progress: @escaping @Sendable ([NodeRecord]) -> Void
    ) async -> RunOutcome {
        var input: [String: JSONValue] = [:]
        do {
            if run.inputJSON != "{}" { input = try JSONValue(json: Data(run.inputJSON.utf8)).objectValue ?? [:] }
        } catch {
            return RunOutcome(state: .failed, error: "the run's input is not a JSON object: \(error)")
        }
        var tags: [String: String] = [:]
        if let nominal = run.nominalTime, run.trigger == "cron" || run.trigger == "catchup" {
            tags["fire_time"] = CronFire.iso8601UTC(unixSeconds: nominal.unixSeconds())
        }
        if let schedule { tags["schedule_name"] = schedule.name }
        if run.trigger == "webhook" {
            // The sender's delivery id, or the first attempt's run id when the sender gave none.
            let key = run.fireKey
            tags["delivery_id"] =
                key.hasPrefix("hook:")
                ? String(key.dropFirst(5)) : key.hasPrefix("run:") ? String(key.dropFirst(4)) : key
        }
        tags.merge(Self.attemptTags(run)) { _, new in new }
        var request = RunRequest(
            workflow: run.workflow, input: input, payload: run.payload, trigger: run.trigger,
            scheduleID: run.scheduleID, runID: run.id, tags: tags,
            timeout: schedule?.timeoutSeconds.map { .seconds($0) })
        request.session = schedule?.name ?? run.workflow
        switch run.trigger {
        case "webhook": request.user = schedule?.name ?? "webhook"
        case "manual": request.user = "admin"
        default: request.user = "cron"
        }
        request.traceID = run.traceID
        if let span = run.rootSpanID, let start = run.rootStartNanos {
            request.rootSpan = (span, UInt64(max(start, 0)))
        }
        // Parallel branches report from their own tasks: the lock keeps the records and the progress
        // calls in one order. The attempts going on are kept in memory only (``nodesGoing(runID:)``):
        // most end within milliseconds, and storing each start too made a burst of runs slower.
        let finished = Mutex<[NodeRecord]>([])
        let result = await self.runner.run(request) { [self] event in
            switch event {
            case .started(let start): started(start)
            case .nodeStarted(let record):
                going.withLock { $0[run.id, default: [:]][record.step] = record }
            case .nodeFinished(let record):
                going.withLock { _ = $0[run.id]?.removeValue(forKey: record.step) }
                finished.withLock { nodes in
                    nodes.append(record)
                    progress(nodes)
                }
            }
        }
        going.withLock { _ = $0.removeValue(forKey: run.id) }
        let state: RunState
        switch result.status {
        case .succeeded: state = .succeeded
        case .failed: state = .failed
        case .timedOut: state = .timedOut
        case .cancelled: state = .cancelled
        }
        return RunOutcome(
            state: state, outputJSON: JSONValue.object(result.state).jsonText, error: result.error,
            nodesJSON: NodeRecord.json(result.nodes))
    }

    /// Ends the open root span of a run that was going when the daemon died, with an error and at the
    /// clock's now: the run's stored error (what found it interrupted), or the daemon's stop when it has
    /// none. A run without a stored trace id, root span id and start has nothing to close.
    public func closeInterrupted(_ run: RunRecord) async {
        guard let trace = run.traceID,
            let traceID = TraceID(hex: trace.hasPrefix("tr-") ? trace.dropFirst(3) : trace[...]),
            let span = run.rootSpanID.flatMap({ SpanID(hex: $0) }), let start = run.rootStartNanos
        else { return }
        var tags = ["trigger": run.trigger, "run_id": run.id, "mlflow.traceName": run.workflow]
        if let scheduleID = run.scheduleID { tags["schedule_id"] = scheduleID }
        tags.merge(Self.attemptTags(run)) { _, new in new }
        if let workflow = runner.catalog.workflows[run.workflow] { tags["workflow"] = workflow.type }
        runner.tracer.closeAbandonedRoot(
            traceID: traceID, spanID: span, name: run.workflow, startNanos: UInt64(max(start, 0)),
            endNanos: UInt64(max(clock.now().unixNanoseconds, 0)), error: RunInterrupted(reason: run.error),
            traceTags: tags)
    }
}

extension WorkflowRunExecutor {
    /// The trace tags that place a run among the attempts at its fire: `attempt` (1 for the first
    /// run), and for a retry the run and the trace it retries (`retry_of`, `retry_of_trace_id`), so
    /// that MLflow leads from each attempt to the one before.
    static func attemptTags(_ run: RunRecord) -> [String: String] {
        var tags = ["attempt": String(run.fireAttempt)]
        if let previous = run.retryOf { tags["retry_of"] = previous }
        if let trace = run.retryOfTrace { tags["retry_of_trace_id"] = trace }
        return tags
    }
}

/// The error an interrupted run's trace shows.
struct RunInterrupted: Error, CustomStringConvertible {
    /// Why, as stored with the run; `nil`: the daemon stopped.
    var reason: String?

    var description: String {
        reason ?? "the daemon stopped while this run was going (found interrupted at the next start)"
    }
}
