import Foundation

/// One node attempt of a run, as the runner recorded it. Every field is optional on reading, so a
/// record written by another version still reads.
public struct RunNode: Codable, Sendable, Hashable {
    /// The node's id in its workflow.
    public var node: String?
    /// The workflow the node belongs to (a sub-workflow's name for delegated nodes).
    public var workflow: String?
    /// `script`, `http`, `workflow`, `route`, `set`, or a Swift node's name.
    public var kind: String?
    /// 1-based order of execution in the run.
    public var step: Int?
    /// 1 for the first attempt, more for retries.
    public var attempt: Int?
    /// `succeeded`, `failed` or `cancelled`; `running` on the status pages for an attempt going on.
    public var status: String?
    /// When the attempt started, ISO 8601 in UTC (whole seconds).
    public var startedAt: String?
    /// How long it took, in milliseconds.
    public var durationMs: Double?
    /// Why it failed, in one line.
    public var error: String?
    /// Prompt tokens of the attempt's model calls (`llm` nodes); absent for other nodes.
    public var inputTokens: Int64?
    /// Reply tokens of the attempt's model calls; absent for other nodes.
    public var outputTokens: Int64?
    /// How a `script` node's sandboxed process ended; absent for other nodes.
    public var sandbox: Sandbox?

    /// A script execution's end: its exit code or signal, whether the sandbox's timeout stopped it,
    /// and the artifacts it left.
    public struct Sandbox: Codable, Sendable, Hashable {
        /// The exit code; absent when a signal ended the process.
        public var exitCode: Int32?
        /// The signal that ended the process, if one did.
        public var signal: Int32?
        /// Whether the sandbox stopped the script at its timeout.
        public var timedOut: Bool?
        /// The names of the artifacts kept.
        public var artifacts: [String]?

        enum CodingKeys: String, CodingKey {
            case signal, artifacts
            case exitCode = "exit_code"
            case timedOut = "timed_out"
        }
    }

    enum CodingKeys: String, CodingKey {
        case node, workflow, kind, step, attempt, status, error, sandbox
        case startedAt = "started_at"
        case durationMs = "duration_ms"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
    }

    /// A node attempt.
    public init(
        node: String?, workflow: String?, kind: String?, step: Int?, attempt: Int?, status: String?,
        startedAt: String?, durationMs: Double?, error: String?, inputTokens: Int64? = nil, outputTokens: Int64? = nil
    ) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.node = node
        self.workflow = workflow
        self.kind = kind
        self.step = step
        self.attempt = attempt
        self.status = status
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.error = error
    }
}
