import Foundation
import HTTPClient
import Logging
import ProcessSandbox
import RunTracing
import Synchronization
import Tracing

/// Runs workflows in this process, each run one MLflow trace: a root span tagged with the trigger,
/// a span per node attempt, a TOOL span per script or HTTP request, an AGENT span per delegation with
/// the sub-workflow nested inside (docs/traces.md).
///
/// State semantics:
/// - a run starts from the workflow's `state` with the request's input merged over it;
/// - each node sees the whole state and returns an update; the update replaces top-level keys,
///   except that for keys the node lists under `append:` a list is appended to an existing list;
/// - parallel branches each start from the state at the fork; at the join their changes are
///   applied in the order the branches are listed: a changed key replaces the earlier value, and a
///   list a branch only extended keeps every branch's additions, in branch order.
///
/// Cancellation (the run's timeout, or the caller's task cancelled at shutdown) reaches the running
/// node: scripts have their process group killed, delegations stop their sub-workflow.
///
/// ```swift
/// let runner = WorkflowRunner(catalog: catalog, tracer: exporter.tracer, configuration: .init(sandbox: sandbox))
/// let result = await runner.run(RunRequest(workflow: "energy_analysis", trigger: "cron", runID: id))
/// result.status   // .succeeded
/// result.traceID  // "tr-…"
/// ```
public struct WorkflowRunner: Sendable {
    /// What runs need beyond the workflows.
    public struct Configuration: Sendable {
        /// Runs script nodes.
        public var sandbox: SandboxRunner
        /// Where `${NAME}` in HTTP node headers is looked up (the daemon's environment).
        public var environment: [String: String]
        /// Where script artifacts are kept, as `<directory>/<run id>/<node id>/`; `nil` leaves them in the
        /// sandbox's work folder.
        public var artifactsDirectory: URL?
        /// The limit for one HTTP request when the node sets no timeout.
        public var httpTimeout: Duration
        /// How `http` nodes verify HTTPS servers (the daemon's `--http-ca-bundle`); the default uses
        /// the system's CAs. Fixed when the configuration is made, since ``http`` is made with it.
        public let tls: TLSOptions
        /// Sends the `http` nodes' requests. Every runner made from this configuration shares it, so
        /// the connections it keeps alive outlive a runner swapped for new workflows (SIGHUP).
        public let http: HTTPClient

        /// A configuration; the parameters are the properties of the same names. Left out: no
        /// environment (so any `${NAME}` in a header fails its request), artifacts left in the sandbox's
        /// folders, 30 s per HTTP request, and the system's CAs. Makes the HTTP client, which opens no
        /// connection before the first request.
        public init(
            sandbox: SandboxRunner, environment: [String: String] = [:], artifactsDirectory: URL? = nil,
            httpTimeout: Duration = .seconds(30), tls: TLSOptions = TLSOptions()
        ) {
            self.sandbox = sandbox
            self.environment = environment
            self.artifactsDirectory = artifactsDirectory
            self.httpTimeout = httpTimeout
            self.tls = tls
            self.http = HTTPClient(tls: tls, label: "node")
        }
    }

    /// The workflows this runner can run, and the policies their scripts use.
    public let catalog: WorkflowCatalog
    /// Where the runs' spans go: the daemon's MLflow tracer, or a test's in-memory one. A tracer whose
    /// `isEnabled` is false runs them without traces.
    public let tracer: any RunTracer
    let configuration: Configuration
    let registry: NodeRegistry
    let logger: Logger

    /// A runner. Runners made from one configuration share its HTTP client and sandbox.
    /// - Parameters:
    ///   - catalog: the workflows it can run.
    ///   - tracer: makes each run's trace.
    ///   - configuration: the sandbox and the settings of `http` nodes.
    ///   - registry: the Swift node kinds; the catalog must have been checked against its
    ///     ``NodeRegistry/kinds``, or a `swift:` node fails its attempt at run time.
    ///   - logger: receives a line per finished run and per failed node attempt.
    public init(
        catalog: WorkflowCatalog, tracer: any RunTracer, configuration: Configuration, registry: NodeRegistry = .init(),
        logger: Logger = Logger(label: "schedulerd.workflows")
    ) {
        self.catalog = catalog
        self.tracer = tracer
        self.configuration = configuration
        self.registry = registry
        self.logger = logger
    }

    /// Runs a workflow to its end and reports how it went. Never throws: failures, timeouts and
    /// cancellation are in the result's status.
    /// - Parameter observe: called when the root span starts and after every node attempt.
    public func run(_ request: RunRequest, observe: (@Sendable (RunEvent) -> Void)? = nil) async -> RunResult {
        let startedAt = Date()
        let clock = ContinuousClock()
        let began = clock.now
        guard let workflow = catalog.workflows[request.workflow] else {
            return RunResult(
                status: .failed, state: request.input, nodes: [], traceID: nil,
                error:
                    "workflow \"\(request.workflow)\" is not loaded; known: \(catalog.workflows.keys.sorted().joined(separator: ", "))",
                startedAt: startedAt, duration: clock.now - began)
        }
        let execution = Execution(runID: request.runID, payload: request.payload, observe: observe)
        var initial = workflow.state
        for (key, value) in request.input { initial[key] = value }
        execution.setState(initial)

        let chosen = request.traceID.flatMap { TraceID(hex: $0.hasPrefix("tr-") ? $0.dropFirst(3) : $0[...]) }
        let root =
            chosen.map {
                tracer.startRootSpan(
                    workflow.name, traceID: $0, spanID: request.rootSpan.flatMap { SpanID(hex: $0.id) },
                    startNanos: request.rootSpan?.startNanos)
            }
            ?? tracer.startSpan(workflow.name, context: .topLevel)
        root.setSpanType(.chain)
        root.setTraceName(workflow.name)
        root.setTraceTag("trigger", request.trigger)
        if let scheduleID = request.scheduleID { root.setTraceTag("schedule_id", scheduleID) }
        root.setTraceTag("workflow", workflow.type)
        root.setTraceTag("run_id", request.runID)
        if root.isRecording { root.setTraceTag("mlflow.source.name", catalog.relativePath(of: workflow)) }
        if let session = request.session { root.setAttribute("session.id", .string(session)) }
        if let user = request.user { root.setAttribute("user.id", .string(user)) }
        for (key, value) in request.tags.sorted(by: { $0.key < $1.key }) { root.setTraceTag(key, value) }
        if root.isRecording { root.setInputs(json: Self.rootInputs(initial)) }
        observe?(
            .started(
                RunStart(
                    traceID: root.traceID?.mlflowTraceID, rootSpanID: root.spanID?.hex,
                    startNanos: root.startNanosecondsSinceEpoch)))

        let limit = [request.timeout, workflow.timeout].compactMap { $0 }.min()
        let start = initial
        let (outcome, timedOut) = await Self.withDeadline(limit) {
            try await ServiceContext.withValue(root.context) {
                try await self.runGraph(workflow, state: start, execution: execution, top: true)
            }
        }
        var status = RunStatus.succeeded
        var error: String?
        var finalState = execution.state
        switch outcome {
        case .success(let state):
            finalState = state
        case .failure(let failure):
            let cause: any Error
            if timedOut, let limit {
                status = .timedOut
                cause = RunTimedOut(timeout: limit)
            } else if Task.isCancelled || failure is CancellationError || failure is NodeCancelled {
                status = .cancelled
                cause = RunCancelled()
            } else {
                status = .failed
                cause = failure
            }
            error = String(describing: cause)
            root.recordError(cause)
        }
        if root.isRecording { root.setOutputs(json: JSONValue.object(finalState).jsonText) }
        root.end()
        let duration = clock.now - began
        logger.info(
            "run finished",
            metadata: [
                "run_id": .string(request.runID), "workflow": .string(workflow.name),
                "status": .string(status.rawValue),
                "duration_ms": .stringConvertible(Self.milliseconds(duration)),
            ])
        return RunResult(
            status: status, state: finalState, nodes: execution.records, traceID: root.traceID?.mlflowTraceID,
            error: error, startedAt: startedAt, duration: duration)
    }

    /// The run's whole initial state as its root span's inputs, with `trigger` (a webhook's payload,
    /// headers and delivery id) written first: MLflow's trace list previews a trace by the start of
    /// its root's inputs, so it shows what started the run rather than a workflow default.
    static func rootInputs(_ state: [String: JSONValue]) -> String {
        guard let trigger = state["trigger"] else { return JSONValue.object(state).jsonText }
        var rest = state
        rest.removeValue(forKey: "trigger")
        let head = #"{"trigger":"# + trigger.jsonText
        return rest.isEmpty ? head + "}" : head + "," + JSONValue.object(rest).jsonText.dropFirst()
    }

    // MARK: - The graph

    /// Runs a workflow from its entry to the end; returns the final state.
    func runGraph(_ workflow: Workflow, state: [String: JSONValue], execution: Execution, top: Bool) async throws
        -> [String: JSONValue]
    {
        var state = state
        let budget = StepBudget(limit: workflow.maxSteps)
        try await runSegment(
            workflow, from: workflow.entry, until: nil, state: &state, budget: budget, execution: execution, top: top)
        return state
    }

    /// Runs nodes from `start` until `join` (not run) or the end.
    func runSegment(
        _ workflow: Workflow, from start: String, until join: String?, state: inout [String: JSONValue],
        budget: StepBudget, execution: Execution, top: Bool
    ) async throws {
        var current: String? = start
        while let id = current, id != join {
            if Task.isCancelled { throw NodeCancelled(node: id) }
            guard let node = workflow.nodes[id] else { throw RouteFailed(description: "node \"\(id)\" does not exist") }
            guard budget.take() else {
                throw StepLimitExceeded(workflow: workflow.name, maxSteps: workflow.maxSteps, node: id)
            }
            let outcome = try await runNode(node, in: workflow, state: state, execution: execution)
            state = Self.merge(state, outcome.update, append: node.append)
            if top { execution.setState(state) }
            switch outcome.next {
            case .end:
                current = nil
            case .node(let next):
                current = next
            case .parallel(let branches):
                let joinNode = WorkflowGraph.join(of: branches, in: workflow)
                let fork = state
                let results = try await withThrowingTaskGroup(of: (Int, [String: JSONValue]).self) { group in
                    for (index, branch) in branches.enumerated() {
                        group.addTask {
                            var branchState = fork
                            try await self.runSegment(
                                workflow, from: branch, until: joinNode, state: &branchState, budget: budget,
                                execution: execution, top: false)
                            return (index, branchState)
                        }
                    }
                    var results = [[String: JSONValue]](repeating: [:], count: branches.count)
                    for try await (index, branchState) in group { results[index] = branchState }
                    return results
                }
                state = Self.join(fork: fork, branches: results)
                if top { execution.setState(state) }
                current = joinNode
            }
        }
    }

    /// The update replaces top-level keys; keys in `append` concatenate lists.
    static func merge(_ state: [String: JSONValue], _ update: [String: JSONValue], append: Set<String>)
        -> [String: JSONValue]
    {
        var merged = state
        for (key, value) in update {
            if append.contains(key), case .array(let old)? = state[key], case .array(let new) = value {
                merged[key] = .array(old + new)
            } else {
                merged[key] = value
            }
        }
        return merged
    }

    /// Joins parallel branches: changes applied in branch order; lists the branches only extended
    /// keep every branch's additions.
    static func join(fork: [String: JSONValue], branches: [[String: JSONValue]]) -> [String: JSONValue] {
        var state = fork
        for branch in branches {
            for (key, value) in branch where fork[key] != value {
                if case .array(let base)? = fork[key], case .array(let grown) = value, grown.count > base.count,
                    Array(grown.prefix(base.count)) == base, case .array(let current)? = state[key]
                {
                    state[key] = .array(current + grown.dropFirst(base.count))
                } else {
                    state[key] = value
                }
            }
        }
        return state
    }
}
