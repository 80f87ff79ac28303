import Foundation

// bubblewrap: whether it works here, and the command line a script runs under it with.

extension SandboxRunner {
    /// Whether bubblewrap can isolate a process here (it may be missing, or blocked by seccomp or a
    /// lack of user namespaces in a container). Returns the path, or why not, in one line.
    /// - Parameter workRoot: where the probe's directory is made; scripts' user (`nobody` under root)
    ///   must be able to reach it, so give the runner's own work root (default: the temporary folder).
    public static func probeBubblewrap(at path: String = "/usr/bin/bwrap", workRoot: URL? = nil) async -> Result<
        String, SandboxError
    > {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return .failure(SandboxError(bubblewrapUnusable: "\(path) is not installed (Debian package bubblewrap)"))
        }
        let probeRoot = (workRoot ?? FileManager.default.temporaryDirectory).appendingPathComponent(
            "bwrap-probe-\(UUID().uuidString)")
        // Passable (not listable) by the scripts' user whatever the process's umask.
        try? FileManager.default.createDirectory(
            at: probeRoot, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        let runner = SandboxRunner(environment: [:], workRoot: probeRoot, bubblewrap: path)
        var policy = SandboxPolicy(name: "probe", timeout: .seconds(10), grace: .seconds(1))
        policy.isolation = .required
        let record = await runner.run(ScriptExecution(script: "/bin/true", policy: policy))
        try? FileManager.default.removeItem(at: runner.workRoot)
        if record.exitCode == 0 { return .success(path) }
        let detail = String(decoding: record.stderr.head.prefix(300), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return .failure(
            SandboxError(
                bubblewrapUnusable:
                    "\(path) cannot create namespaces here: \(detail.isEmpty ? record.failure ?? "unknown error" : detail)"
            ))
    }

    /// bubblewrap's command line: a read-only view of `/`, private `/tmp`, `/proc` and `/dev`, the
    /// execution directory writable, every namespace unshared (the network only when the policy
    /// forbids it), no capabilities, and only the given environment.
    static func bubblewrapArguments(
        _ bubblewrap: String, execution: ScriptExecution, environment: [String: String], directory: String, work: String
    ) -> [String] {
        var arguments = [
            bubblewrap, "--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL", "--clearenv",
        ]
        if execution.policy.network { arguments.append("--share-net") }
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) {
            arguments += ["--setenv", key, value]
        }
        arguments += [
            "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
            "--bind", directory, directory,
        ]
        // The script's own folder and the folder it reads, in case they live under /tmp, which the
        // sandbox replaces.
        let folder = URL(fileURLWithPath: execution.script).deletingLastPathComponent().path
        if let readable = execution.readableFolder, readable != folder {
            arguments += ["--ro-bind", readable, readable]
        }
        arguments += ["--ro-bind", folder, folder, "--chdir", work, "--", execution.script]
        return arguments + execution.arguments
    }
}
