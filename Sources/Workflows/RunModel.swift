import Foundation
import RunTracing
import Support

/// What to run, and why: the caller (the scheduler, a webhook, the CLI) fills it in.
public struct RunRequest: Sendable {
    /// The workflow's name.
    public var workflow: String
    /// Merged over the workflow's initial state (top-level keys replaced).
    public var input: [String: JSONValue]
    /// The trigger's payload (a webhook body), handed to scripts as a read-only file.
    public var payload: Data?
    /// `cron`, `webhook`, `manual`, `catchup` or `reboot`: the root span's `trigger` tag.
    public var trigger: String
    /// The schedule that fired the run, set as the root span's `schedule_id` tag; `nil` for a run that
    /// no schedule started (a manual run).
    public var scheduleID: String?
    /// The run's unique id: the root span's `run_id` tag, the folder name for the run's artifacts, and
    /// what Swift nodes see as ``NodeInvocation/runID``.
    public var runID: String
    /// More trace tags for the root span (`fire_time`, `delivery_id`, …).
    public var tags: [String: String]
    /// The run's own limit; the shorter of this and the workflow's `timeout` applies.
    public var timeout: Duration?
    /// The trace id to use (`tr-<32 hex>` or 32 hex), chosen before the run so that callers can show it
    /// at once; `nil`: a new random one.
    public var traceID: String?
    /// The root span's id (16 hex) and start, chosen and stored before the run so that a trace left
    /// open by a crash can be closed; `nil`: a new id, starting now. Used only with `traceID`.
    public var rootSpan: (id: String, startNanos: UInt64)?
    /// What groups runs together in MLflow's Session column (the root span's `session.id`): the
    /// schedule's name, so that a schedule's runs read as one session; `nil`: none.
    public var session: String?
    /// Who started the run, for MLflow's User column (the root span's `user.id`): `cron` for the
    /// timer, the hook's name for a webhook, `admin` for the admin API; `nil`: none.
    public var user: String?

    /// A request; ``traceID`` and ``rootSpan`` start as `nil`, so the run gets a new random trace.
    /// The parameters are the properties of the same names; each one left out takes its default: no
    /// input, payload, schedule, tags or timeout of its own, and the trigger `manual`.
    public init(
        workflow: String, input: [String: JSONValue] = [:], payload: Data? = nil, trigger: String = "manual",
        scheduleID: String? = nil, runID: String, tags: [String: String] = [:], timeout: Duration? = nil
    ) {
        self.workflow = workflow
        self.input = input
        self.payload = payload
        self.trigger = trigger
        self.scheduleID = scheduleID
        self.runID = runID
        self.tags = tags
        self.timeout = timeout
    }
}

/// How a run ended.
public enum RunStatus: String, Sendable, Codable, CaseIterable {
    case succeeded
    case failed
    case timedOut = "timed_out"
    case cancelled
}

/// One node execution (one attempt).
public struct NodeRecord: Sendable, Codable, Hashable {
    /// How one attempt ended, written in JSON as the case's name. An attempt that ran past its timeout
    /// is ``failed``. ``running`` is an attempt that has not ended (``RunEvent/nodeStarted(_:)``):
    /// never in a run's result or stored progress.
    public enum Status: String, Sendable, Codable {
        case succeeded, failed, cancelled, running
    }

    /// The node's id.
    public var node: String
    /// The workflow the node belongs to (a sub-workflow's name for delegated nodes).
    public var workflow: String
    /// `script`, `http`, `workflow`, `route`, `set`, or a Swift node's name.
    public var kind: String
    /// 1-based order of execution in the run.
    public var step: Int
    /// Which attempt of the node this was: 1 for the first, more when the node is retried.
    public var attempt: Int
    /// How the attempt ended.
    public var status: Status
    /// When the attempt started, by the system clock (`started_at` in JSON).
    public var startedAt: Date
    /// How long the attempt took, in milliseconds (`duration_ms` in JSON).
    public var durationMs: Double
    /// Why it failed, in one line.
    public var error: String?
    /// Prompt tokens of the attempt's model calls (`llm` nodes; `input_tokens` in JSON); `nil` for a
    /// node that made none.
    public var inputTokens: Int64? = nil
    /// Reply tokens of the attempt's model calls (`output_tokens` in JSON); `nil` like ``inputTokens``.
    public var outputTokens: Int64? = nil
    /// What the sandbox reported for a `script` node's execution; `nil` for other nodes.
    public var sandbox: SandboxSummary? = nil

    /// A script execution's end, as a run keeps it: how the process ended and the artifacts it left.
    public struct SandboxSummary: Sendable, Codable, Hashable {
        /// The exit code; `nil` when a signal ended the process.
        public var exitCode: Int32?
        /// The signal that ended the process, if one did.
        public var signal: Int32?
        /// Whether the sandbox stopped the script at its policy's timeout.
        public var timedOut: Bool
        /// The names of the artifacts kept.
        public var artifacts: [String]

        enum CodingKeys: String, CodingKey {
            case signal, artifacts
            case exitCode = "exit_code"
            case timedOut = "timed_out"
        }

        /// A summary of one execution.
        public init(exitCode: Int32?, signal: Int32?, timedOut: Bool, artifacts: [String]) {
            self.exitCode = exitCode
            self.signal = signal
            self.timedOut = timedOut
            self.artifacts = artifacts
        }

        /// The summary as JSON, with the keys of its `Codable` form.
        var jsonValue: JSONValue {
            var members: [String: JSONValue] = [
                "timed_out": .bool(timedOut), "artifacts": .array(artifacts.map(JSONValue.string)),
            ]
            if let exitCode { members["exit_code"] = .integer(Int64(exitCode)) }
            if let signal { members["signal"] = .integer(Int64(signal)) }
            return .object(members)
        }
    }

    enum CodingKeys: String, CodingKey {
        case node, workflow, kind, step, attempt, status, error, sandbox
        case startedAt = "started_at"
        case durationMs = "duration_ms"
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
    }

    /// The record as the store and the API show it: the same keys as its `Codable` form, the start
    /// in ISO 8601 (UTC, with milliseconds: the status page's waterfall places nodes by it).
    public var jsonValue: JSONValue {
        var members: [String: JSONValue] = [
            "node": .string(node), "workflow": .string(workflow), "kind": .string(kind),
            "step": .integer(Int64(step)), "attempt": .integer(Int64(attempt)), "status": .string(status.rawValue),
            "started_at": .string(UTCTimestamp.milliseconds(startedAt)),
            "duration_ms": .number(durationMs),
        ]
        if let error { members["error"] = .string(error) }
        if let inputTokens { members["input_tokens"] = .integer(inputTokens) }
        if let outputTokens { members["output_tokens"] = .integer(outputTokens) }
        if let sandbox { members["sandbox"] = sandbox.jsonValue }
        return .object(members)
    }

    /// A run's records as one compact JSON array (sorted keys).
    public static func json(_ records: [NodeRecord]) -> String {
        JSONValue.array(records.map(\.jsonValue)).jsonText
    }
}

/// What the caller gets back: everything the store keeps about a run.
public struct RunResult: Sendable {
    /// How the run ended.
    public var status: RunStatus
    /// The final state (the state when the run stopped, for runs that did not succeed).
    public var state: [String: JSONValue]
    /// Every node attempt, in the order the attempts finished; empty when the workflow was not loaded.
    public var nodes: [NodeRecord]
    /// The run's trace, `tr-<32 hex>` as MLflow names it; `nil` when tracing is off.
    public var traceID: String?
    /// Why the run did not succeed, in one line.
    public var error: String?
    /// When the run started, by the system clock.
    public var startedAt: Date
    /// How long the run took, measured on a monotonic clock.
    public var duration: Duration

    /// The tokens every model call of the run used, sub-workflows included; `nil` when it made none.
    public var tokens: (input: Int64, output: Int64)? {
        let metered = nodes.filter { $0.inputTokens != nil || $0.outputTokens != nil }
        guard !metered.isEmpty else { return nil }
        return (metered.reduce(0) { $0 + ($1.inputTokens ?? 0) }, metered.reduce(0) { $0 + ($1.outputTokens ?? 0) })
    }
}

/// Progress reported while a run goes on.
public enum RunEvent: Sendable {
    /// The root span started: what a store needs to close the trace if the process dies.
    case started(RunStart)
    /// A node attempt began: its record has status ``NodeRecord/Status/running`` and no duration yet.
    case nodeStarted(NodeRecord)
    /// A node attempt finished.
    case nodeFinished(NodeRecord)
}

/// The root span's identity and start.
public struct RunStart: Sendable, Hashable {
    /// `tr-<32 hex>`; `nil` when tracing is off.
    public var traceID: String?
    /// The root span's id (16 hex); `nil` when tracing is off.
    public var rootSpanID: String?
    /// Nanoseconds since the epoch.
    public var startNanos: UInt64

    /// A start as ``WorkflowRunner/run(_:observe:)`` reports it; the parameters are the properties of
    /// the same names.
    public init(traceID: String?, rootSpanID: String?, startNanos: UInt64) {
        self.traceID = traceID
        self.rootSpanID = rootSpanID
        self.startNanos = startNanos
    }
}
