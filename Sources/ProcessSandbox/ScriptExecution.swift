import Foundation

// What a script execution is given and what it reports: the runner's inputs and outputs.

/// One script to run.
public struct ScriptExecution: Sendable {
    /// The executable (a script with a `#!` line, or a binary).
    public var script: String
    /// Passed to the script after its path, each as one argument; no shell reads them.
    public var arguments: [String]
    /// The node's state, as JSON: on stdin and in `$SCHEDULERD_INPUT`.
    public var state: Data
    /// The trigger payload, written to a read-only file named by `$SCHEDULERD_PAYLOAD`; never put in a
    /// command line or a shell string.
    public var payload: Data?
    /// The limits and permissions the script runs under.
    public var policy: SandboxPolicy
    /// Where accepted artifacts are moved (the run's artifact folder in the data dir); the execution's
    /// own folder is then deleted. `nil` leaves everything in the execution's folder.
    public var artifactDestination: URL?
    /// A folder the script reads beside its own (the schedules directory, with its sample data).
    /// Under bubblewrap the view of `/` already shows it, except below `/tmp`, which the sandbox
    /// replaces: then it is bound read-only. `nil`: the script's own folder only.
    public var readableFolder: String?
    /// More environment variables for this execution, set over those the policy lets through (but
    /// never over the `SCHEDULERD_*` variables the sandbox sets): what the caller tells the script
    /// about its context, such as a trace's `TRACEPARENT`.
    public var environment: [String: String] = [:]
    /// Files the script may write beside its state update, each in its execution folder, named to it
    /// by an environment variable, and read back into ``ExecutionRecord/sideFiles`` once it has ended
    /// (the spans a script records, in `$SCHEDULERD_SPANS_FILE`).
    public var sideFiles: [SideFile] = []

    /// A file the script may write, read back after it ends.
    public struct SideFile: Sendable, Hashable {
        /// The environment variable that gives the script the file's path (`SCHEDULERD_SPANS_FILE`).
        public var variable: String
        /// The file's name in the execution folder (`spans.jsonl`).
        public var name: String
        /// How much of it is read back; the rest is counted in ``SideFileContent/totalBytes`` only.
        public var maxBytes: Int

        /// A side file; the parameters are the properties of the same names.
        public init(variable: String, name: String, maxBytes: Int) {
            self.variable = variable
            self.name = name
            self.maxBytes = maxBytes
        }
    }

    /// A script to run; ``artifactDestination`` and ``readableFolder`` start as `nil`.
    /// - Parameters:
    ///   - script: the path of the executable.
    ///   - arguments: passed after the path; none by default.
    ///   - state: a JSON object's bytes; `{}` by default.
    ///   - payload: the trigger's payload; `nil` gives the script an empty payload file.
    ///   - policy: ``SandboxPolicy/default`` unless given.
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
    /// The file's name, which it keeps when it is moved.
    public var name: String
    /// Its size in bytes, counted against ``SandboxPolicy/Artifacts/maxBytes``.
    public var bytes: Int
    /// Where it is now: the destination folder, or the execution directory.
    public var path: String
}

/// A file that was not accepted as an artifact, and why.
public struct RejectedArtifact: Sendable, Hashable {
    /// The file's name in `$SCHEDULERD_ARTIFACTS`. It is not moved, so it goes with the execution's
    /// folder when there is an ``ScriptExecution/artifactDestination``.
    public var name: String
    /// Why it was refused, in words: a symbolic link or other non-regular file, an extension the
    /// policy does not allow, too many files or bytes, or a move that failed.
    public var reason: String
}

/// What happened when a script ran.
public struct ExecutionRecord: Sendable {
    /// The exit code, when the script exited by itself.
    public var exitCode: Int32?
    /// The signal that ended it, when one did.
    public var signal: Int32?
    /// True when the policy's timeout ran out before the script ended; its process group was killed.
    public var timedOut: Bool
    /// Wall-clock time from the start of ``SandboxRunner/run(_:)`` until the script ended and its
    /// output was read.
    public var duration: Duration
    /// The name of the policy the script ran under.
    public var policyName: String
    /// The policy's timeout, for reports beside ``duration``.
    public var timeout: Duration
    /// What the script wrote to stdout: the head, kept up to the policy's `maxOutputBytes`, a tail and
    /// the byte count. Empty when the script never started.
    public var stdout: CapturedOutput
    /// What the script wrote to stderr, kept like ``stdout``.
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
    /// The files accepted from `$SCHEDULERD_ARTIFACTS`, in name order; they are checked once the script
    /// has ended, whether or not it succeeded.
    public var artifacts: [Artifact] = []
    /// The files in `$SCHEDULERD_ARTIFACTS` that were refused, in name order, each with its reason.
    public var rejectedArtifacts: [RejectedArtifact] = []
    /// What the script left in each of the execution's ``ScriptExecution/sideFiles``, by variable;
    /// a file the script did not write, or replaced with something other than a regular file of its
    /// own, reads as empty.
    public var sideFiles: [String: SideFileContent] = [:]

    /// True when ``failure`` is `nil`: the script exited with status 0 and its state update (from
    /// `$SCHEDULERD_OUTPUT`, else stdout) was a JSON object or empty.
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

/// What a script wrote to a side file: its head, up to the file's `maxBytes`, and its whole size.
public struct SideFileContent: Sendable, Hashable {
    /// The file's first bytes, at most the side file's `maxBytes`.
    public var data: Data
    /// The file's size when it was read; more than `data.count` when it was cut.
    public var totalBytes: Int

    /// Content read from a side file.
    public init(data: Data, totalBytes: Int) {
        self.data = data
        self.totalBytes = totalBytes
    }
}
