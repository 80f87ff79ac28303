import Foundation

// What a script execution is given and what it reports: the runner's inputs and outputs.

/// One script to run.
public struct ScriptExecution: Sendable {
    /// The executable (a script with a `#!` line, or a binary).
    public var script: String
    public var arguments: [String]
    /// The node's state, as JSON: on stdin and in `$SCHEDULERD_INPUT`.
    public var state: Data
    /// The trigger payload, written to a read-only file named by `$SCHEDULERD_PAYLOAD`; never put in a
    /// command line or a shell string.
    public var payload: Data?
    public var policy: SandboxPolicy
    /// Where accepted artifacts are moved (the run's artifact folder in the data dir); the execution's
    /// own folder is then deleted. `nil` leaves everything in the execution's folder.
    public var artifactDestination: URL?
    /// A folder the script reads beside its own (the schedules directory, with its sample data).
    /// Under bubblewrap the view of `/` already shows it, except below `/tmp`, which the sandbox
    /// replaces: then it is bound read-only. `nil`: the script's own folder only.
    public var readableFolder: String?

    public init(
        script: String, arguments: [String] = [], state: Data = Data("{}".utf8), payload: Data? = nil,
        policy: SandboxPolicy = .default
    ) {
        self.script = script
        self.arguments = arguments
        self.state = state
        self.payload = payload
        self.policy = policy
    }
}

/// A file the script left in `$SCHEDULERD_ARTIFACTS`.
public struct Artifact: Sendable, Hashable {
    public var name: String
    public var bytes: Int
    /// Where it is now: the destination folder, or the execution directory.
    public var path: String
}

/// A file that was not accepted as an artifact, and why.
public struct RejectedArtifact: Sendable, Hashable {
    public var name: String
    public var reason: String
}

/// What happened when a script ran.
public struct ExecutionRecord: Sendable {
    /// The exit code, when the script exited by itself.
    public var exitCode: Int32?
    /// The signal that ended it, when one did.
    public var signal: Int32?
    public var timedOut: Bool
    public var duration: Duration
    public var policyName: String
    public var timeout: Duration
    public var stdout: CapturedOutput
    public var stderr: CapturedOutput
    /// Peak resident memory of the script and its waited-for descendants, KiB.
    public var maxRSSKB: Int
    /// User + system CPU time, ms.
    public var cpuMs: Int
    /// `rlimit` (resource limits only) or `bwrap`.
    public var isolation: String
    /// The state update the script returned, when it succeeded: the bytes of one JSON object (`{}` when
    /// the script wrote nothing).
    public var outputJSON: Data?
    /// Why the execution failed, in one line, when it did.
    public var failure: String?
    /// True when the caller cancelled the execution (its task was cancelled) before the script ended.
    public var cancelled = false
    public var artifacts: [Artifact] = []
    public var rejectedArtifacts: [RejectedArtifact] = []

    public var succeeded: Bool { failure == nil }

    /// ``outputJSON`` decoded with `JSONSerialization` (numbers and booleans as `Double`).
    public var output: [String: any Sendable]? {
        guard let outputJSON, let object = try? JSONSerialization.jsonObject(with: outputJSON) as? [String: Any]
        else { return nil }
        return object.mapValues { Self.sendable($0) }
    }

    private static func sendable(_ value: Any) -> any Sendable {
        switch value {
        case let dictionary as [String: Any]: return dictionary.mapValues { sendable($0) }
        case let array as [Any]: return array.map { sendable($0) }
        case let string as String: return string
        case let number as NSNumber: return number.doubleValue
        default: return String(describing: value)
        }
    }
}
