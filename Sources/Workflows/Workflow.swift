/// A workflow: a graph of nodes with a JSON state flowing through it, read from
/// `schedules/workflows/*.yaml` (see ``WorkflowFile`` for the format).
public struct Workflow: Sendable {
    /// Unique among the loaded workflows; the root span's name.
    public var name: String
    /// The `workflow` trace tag; defaults to the name.
    public var type: String
    /// The file's `description:`, for people reading the file; runs and traces do not use it. `nil` when
    /// absent.
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
    /// The node's id, its key under `nodes:`: letters, digits, `_` and `-`, starting with a letter or
    /// `_`, at most 64 characters, and never `end`. It names the node's span and its records.
    public var id: String
    /// What the node does; a file gives it with exactly one of `script`, `http`, `llm`, `workflow`,
    /// `route`, `set` or `swift`.
    public var kind: Kind
    /// Where the run goes after the node; route nodes choose at run time instead.
    public var next: Next
    /// How often a failed attempt is tried again (`retry:`); one attempt and no retry by default.
    public var retry: Retry
    /// The longest one attempt may take; `nil`: only the run's timeout applies.
    public var timeout: Duration?
    /// When true a failure is recorded on the node's span and the run goes on with an empty update.
    public var continueOnError: Bool
    /// State keys whose lists the node's update appends to instead of replacing.
    public var append: Set<String>
    /// The node's `description:`, for people reading the file; runs and traces do not use it. `nil`
    /// when absent.
    public var description: String?
    /// The JSON schema of the arguments a model gives when it calls this node as a tool of an `llm`
    /// node (`parameters:`); `nil`: an object with any properties.
    public var parameters: JSONValue? = nil
    /// The 1-based line of the node's id in its file.
    public var line: Int
    /// The 1-based column of the node's id on its ``line``.
    public var column: Int

    /// What the node does.
    public enum Kind: Sendable {
        case script(Script)
        case http(HTTPRequest)
        case llm(LLMCall)
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
        /// How many attempts the node gets at most, the first included: 1 to 100 in a file; 1 (no retry)
        /// by default. Only failures are retried, not cancellation.
        public var attempts: Int
        /// The wait before the second attempt (`backoff`), doubled before each later one; 1 s by
        /// default, 0 allowed.
        public var backoff: Duration
        /// The longest wait between two attempts (`max_backoff`); 60 s by default.
        public var maxBackoff: Duration

        /// Retry settings; each one left out takes the default its property names.
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
        /// The name of the sandbox policy the script runs under (`policy:`), a key of
        /// ``WorkflowCatalog/policies``; `default` when the file names none.
        public var policy: String
        /// Constant arguments passed to the script after its path (`args:`); they do not read the state.
        public var arguments: [String]
    }

    /// One HTTP request.
    public struct HTTPRequest: Sendable {
        /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE` or `HEAD`, upper case; `GET` when the file gives none.
        public var method: String
        /// Where the request goes. It may read the state (`{{ day }}`) and name environment variables
        /// (`${NAME}`); rendered, it must be an `http://` or `https://` URL with a host, or the attempt
        /// fails.
        public var url: Template
        /// Header values may name environment variables as `${NAME}`.
        public var headers: [(name: String, value: Template)]
        /// The body, rendered from the state and sent as JSON (with `Content-Type: application/json`
        /// unless a header sets one); `nil` sends none. `GET` and `HEAD` requests have none.
        public var body: Template?
        /// The state key for the response; `nil`: an object response is the update itself.
        public var output: String?
    }

    /// Delegation to another workflow, in the same trace.
    public struct Delegation: Sendable {
        /// The name of the workflow to run; it must be loaded in the same ``WorkflowCatalog``.
        public var workflow: String
        /// The sub-workflow's input, built from the state; `nil`: the whole state.
        public var input: [String: Template]?
        /// The update, built from the sub-workflow's final state; `nil`: `{<node id>: final state}`.
        public var output: [String: Template]?
    }

    /// Ordered conditions; the first that holds picks the next node.
    public struct Route: Sendable {
        /// Each `when:` condition with the node id (or `end`) that its `next:` names, in file order.
        public var cases: [(condition: Condition, next: String)]
        /// When no condition holds: a node id or `end`.
        public var defaultNext: String
    }

    /// The `node.kind` span attribute: script, http, llm, workflow, route, set, or a Swift node's name.
    public var kindName: String {
        switch kind {
        case .script: "script"
        case .http: "http"
        case .llm: "llm"
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
