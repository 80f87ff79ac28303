/// A workflow: a graph of nodes with a JSON state flowing through it, read from
/// `schedules/workflows/*.yaml` (see ``WorkflowFile`` for the format).
public struct Workflow: Sendable {
    /// Unique among the loaded workflows; the root span's name.
    public var name: String
    /// The `workflow` trace tag; defaults to the name.
    public var type: String
    public var description: String?
    /// The first node.
    public var entry: String
    /// The initial state; a run's input is merged over it.
    public var state: [String: JSONValue]
    /// The longest a run may take; `nil`: no limit of its own.
    public var timeout: Duration?
    /// How many node executions a run may make before it fails (a guard against loops).
    public var maxSteps: Int
    /// The nodes by id.
    public var nodes: [String: WorkflowNode]
    /// Node ids in the order the file lists them.
    public var nodeOrder: [String]
    /// The file it was read from.
    public var file: String

    /// The default for ``maxSteps``.
    public static let defaultMaxSteps = 100
}

/// One node of a workflow.
public struct WorkflowNode: Sendable {
    public var id: String
    public var kind: Kind
    /// Where the run goes after the node; route nodes choose at run time instead.
    public var next: Next
    public var retry: Retry
    /// The longest one attempt may take; `nil`: only the run's timeout applies.
    public var timeout: Duration?
    /// When true a failure is recorded on the node's span and the run goes on with an empty update.
    public var continueOnError: Bool
    /// State keys whose lists the node's update appends to instead of replacing.
    public var append: Set<String>
    public var description: String?
    /// Line and column of the node's id in its file.
    public var line: Int
    public var column: Int

    /// What the node does.
    public enum Kind: Sendable {
        case script(Script)
        case http(HTTPRequest)
        case workflow(Delegation)
        case route(Route)
        case set([(path: StatePath, value: Template)])
        case swift(name: String, configuration: JSONValue)
    }

    /// The successor(s) of a node.
    public enum Next: Sendable, Hashable {
        case end
        case node(String)
        /// Fan-out: the branches run concurrently and join at the first node they all reach.
        case parallel([String])
    }

    /// Attempts and the wait between them (doubling from `backoff` up to `maxBackoff`).
    public struct Retry: Sendable, Hashable {
        public var attempts: Int
        public var backoff: Duration
        public var maxBackoff: Duration

        public init(attempts: Int = 1, backoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(60)) {
            self.attempts = attempts
            self.backoff = backoff
            self.maxBackoff = maxBackoff
        }

        /// The wait before attempt `attempt` (2, 3, …).
        public func delay(before attempt: Int) -> Duration {
            var delay = backoff
            for _ in 2..<max(attempt, 2) {
                delay = delay * 2
                if delay >= maxBackoff { return maxBackoff }
            }
            return min(delay, maxBackoff)
        }
    }

    /// A script run in the process sandbox.
    public struct Script: Sendable {
        /// As written in the file, relative to the schedules directory.
        public var path: String
        /// Absolute.
        public var resolvedPath: String
        public var policy: String
        public var arguments: [String]
    }

    /// One HTTP request.
    public struct HTTPRequest: Sendable {
        public var method: String
        public var url: Template
        /// Header values may name environment variables as `${NAME}`.
        public var headers: [(name: String, value: Template)]
        public var body: Template?
        /// The state key for the response; `nil`: an object response is the update itself.
        public var output: String?
    }

    /// Delegation to another workflow, in the same trace.
    public struct Delegation: Sendable {
        public var workflow: String
        /// The sub-workflow's input, built from the state; `nil`: the whole state.
        public var input: [String: Template]?
        /// The update, built from the sub-workflow's final state; `nil`: `{<node id>: final state}`.
        public var output: [String: Template]?
    }

    /// Ordered conditions; the first that holds picks the next node.
    public struct Route: Sendable {
        public var cases: [(condition: Condition, next: String)]
        /// When no condition holds: a node id or `end`.
        public var defaultNext: String
    }

    /// The `node.kind` span attribute: script, http, workflow, route, set, or a Swift node's name.
    public var kindName: String {
        switch kind {
        case .script: "script"
        case .http: "http"
        case .workflow: "workflow"
        case .route: "route"
        case .set: "set"
        case .swift(let name, _): name
        }
    }

    /// Every node this one can lead to.
    public var successors: [String] {
        if case .route(let route) = kind {
            return (route.cases.map(\.next) + [route.defaultNext]).filter { $0 != "end" }
        }
        switch next {
        case .end: return []
        case .node(let id): return [id]
        case .parallel(let ids): return ids
        }
    }
}
