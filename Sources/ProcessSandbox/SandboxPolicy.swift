/// What one script execution may do: time, memory, CPU, files, processes, output, network,
/// environment and artifacts. Policies are named; `default` exists without any file.
public struct SandboxPolicy: Sendable, Hashable {
    /// How strictly isolation is required.
    public enum Isolation: String, Sendable, Hashable {
        /// bubblewrap when it works here, resource limits alone otherwise.
        case auto
        /// Fail the execution when bubblewrap cannot be used.
        case required
    }

    /// What a script may leave in `$SCHEDULERD_ARTIFACTS`.
    public struct Artifacts: Sendable, Hashable {
        /// Most files accepted (`max_count`); the files after them, in name order, are rejected.
        /// Default 20.
        public var maxCount: Int
        /// Most bytes accepted in all (`max_bytes`); a file that would go past it is rejected. Default
        /// 10 MiB.
        public var maxBytes: Int
        /// Lowercase extensions without the dot.
        public var extensions: Set<String>

        /// Artifact rules; each one left out takes the default its property names.
        public init(
            maxCount: Int = 20, maxBytes: Int = 10 << 20,
            extensions: Set<String> = ["csv", "md", "svg", "json", "txt", "png", "html"]
        ) {
            self.maxCount = maxCount
            self.maxBytes = maxBytes
            self.extensions = extensions
        }
    }

    /// The policy's name, which a workflow's script node gives as `policy:` and execution records
    /// report. A policies file allows lowercase letters, digits, `-` and `_`, starting with a letter;
    /// this type checks nothing.
    public var name: String
    /// Wall-clock limit; then SIGTERM to the whole process group. Default 60 s.
    public var timeout: Duration
    /// Between SIGTERM and SIGKILL. Default 5 s.
    public var grace: Duration
    /// Address space (RLIMIT_AS), bytes. Default 1 GiB.
    public var memoryBytes: Int?
    /// CPU time (RLIMIT_CPU), seconds. Default none.
    public var cpuSeconds: Int?
    /// Open files (RLIMIT_NOFILE). Default 256.
    public var openFiles: Int?
    /// Processes of the script's user (RLIMIT_NPROC), counted across that user's processes system-wide,
    /// zombies awaiting their reaper included; not enforced for root (see ``SandboxRunner/runAs``).
    /// With ``SandboxRunner/users`` each script has a user of its own, and the count is its own.
    /// Default none.
    public var processes: Int?
    /// Largest file the script may write (RLIMIT_FSIZE), bytes. Default 256 MiB.
    public var fileSizeBytes: Int?
    /// Bytes kept from the start of each output stream (``CapturedOutput/head``), beside a tail of at
    /// most 64 KiB; every byte is still read and counted. Default 1 MiB.
    public var maxOutputBytes: Int
    /// Whether the script may use the network (only enforceable under bubblewrap). Default false.
    public var network: Bool
    /// Names of the daemon's environment variables the script may see. Default PATH, LANG, LC_ALL, TZ.
    public var environment: [String]
    /// What the script may leave in `$SCHEDULERD_ARTIFACTS` (`artifacts:`). Default 20 files, 10 MiB
    /// in all, with the extensions csv, md, svg, json, txt, png and html.
    public var artifacts: Artifacts
    /// Whether bubblewrap is required (`isolation:`). Default ``Isolation/auto``.
    public var isolation: Isolation

    /// A policy named `name`; every setting left out takes the default its property names.
    public init(
        name: String, timeout: Duration = .seconds(60), grace: Duration = .seconds(5), memoryBytes: Int? = 1 << 30,
        cpuSeconds: Int? = nil, openFiles: Int? = 256, processes: Int? = nil, fileSizeBytes: Int? = 256 << 20,
        maxOutputBytes: Int = 1 << 20, network: Bool = false, environment: [String] = ["PATH", "LANG", "LC_ALL", "TZ"],
        artifacts: Artifacts = Artifacts(), isolation: Isolation = .auto
    ) {
        self.name = name
        self.timeout = timeout
        self.grace = grace
        self.memoryBytes = memoryBytes
        self.cpuSeconds = cpuSeconds
        self.openFiles = openFiles
        self.processes = processes
        self.fileSizeBytes = fileSizeBytes
        self.maxOutputBytes = maxOutputBytes
        self.network = network
        self.environment = environment
        self.artifacts = artifacts
        self.isolation = isolation
    }

    /// 60 s, 1 GiB, no network.
    public static let `default` = SandboxPolicy(name: "default")
}
