import ProcessSandbox
import Support

/// Why a node attempt failed. MLflow shows the type name before the message
/// (`ScriptFailed: exited with status 3: no data for 2024-03-10`), so each cause has its own type.
struct ScriptFailed: Error, CustomStringConvertible {
    var description: String
    /// How the script's process ended, for the node's record.
    var sandbox: NodeRecord.SandboxSummary? = nil
}

struct HTTPRequestFailed: Error, CustomStringConvertible {
    var description: String
}

/// A model call of an `llm` node failed. 429, 408 and 5xx answers and transport failures are
/// `retryable` (the node's `retry:` tries again, waiting at least the provider's `Retry-After`);
/// other answers (a wrong key, a bad request) are not, since the same request would fail the same way.
struct LLMRequestFailed: Error, CustomStringConvertible {
    var description: String
    var retryable: Bool
    /// The provider's `Retry-After`, in seconds.
    var retryAfter: Duration?
}

struct RouteFailed: Error, CustomStringConvertible {
    var description: String
}

struct SwiftNodeFailed: Error, CustomStringConvertible {
    var description: String
}

struct NodeTimedOut: Error, CustomStringConvertible {
    var node: String
    var timeout: Duration
    var description: String {
        "node \"\(node)\" ran longer than its timeout \(DurationText.format(timeout)) and was cancelled"
    }
}

struct NodeCancelled: Error, CustomStringConvertible {
    var node: String
    var description: String { "node \"\(node)\" was cancelled before it finished (the run timed out or was stopped)" }
}

struct StepLimitExceeded: Error, CustomStringConvertible {
    var workflow: String
    var maxSteps: Int
    var node: String
    var description: String {
        "workflow \"\(workflow)\" reached max_steps \(maxSteps) at node \"\(node)\"; a route probably loops, or raise max_steps"
    }
}

struct RunTimedOut: Error, CustomStringConvertible {
    var timeout: Duration
    var description: String { "the run took longer than its timeout \(DurationText.format(timeout)) and was cancelled" }
}

struct SubWorkflowTimedOut: Error, CustomStringConvertible {
    var workflow: String
    var timeout: Duration
    var description: String {
        "workflow \"\(workflow)\" ran longer than its timeout \(DurationText.format(timeout)) and was cancelled"
    }
}

struct RunCancelled: Error, CustomStringConvertible {
    var description: String { "the run was cancelled (the daemon is stopping, or another run replaced it)" }
}

/// A node failed and the run stops: what the ancestors' spans and the run's error show.
struct NodeFailed: Error, CustomStringConvertible {
    /// Node ids from the outermost delegation to the node that failed.
    var path: [String]
    var cause: any Error

    init(node: String, cause: any Error) {
        if let inner = cause as? NodeFailed {
            self.path = [node] + inner.path
            self.cause = inner.cause
        } else {
            self.path = [node]
            self.cause = cause
        }
    }

    var description: String {
        let nodes = path.map { "\"\($0)\"" }.joined(separator: " → ")
        return "node \(nodes) failed: \(String(describing: type(of: cause))): \(cause)"
    }
}
