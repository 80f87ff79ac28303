import CSandbox
import Foundation

/// Runs scripts under a ``SandboxPolicy``: in their own session and process group, with resource limits,
/// a scrubbed environment, a private work directory, and the state passed as JSON on stdin and in a
/// file. With bubblewrap, also in their own namespaces: a read-only view of the system, a private
/// `/tmp`, `/proc` and `/dev`, no network unless the policy allows it, no capabilities, and a pid
/// namespace that ends with them. On timeout the whole group gets SIGTERM, then SIGKILL after the
/// grace period.
public struct SandboxRunner: Sendable {
    /// The daemon's environment; scripts see only the variables their policy allows.
    public var environment: [String: String]
    /// Where each execution gets its directory (`<root>/<id>/work`, `…/artifacts`).
    public var workRoot: URL
    /// The bubblewrap executable, when ``probeBubblewrap(at:workRoot:)`` found it usable; `nil` runs scripts
    /// under resource limits alone.
    public var bubblewrap: String?
    /// The user and group scripts run as. Default: `nobody` (65534) when the daemon runs as root, so that
    /// the process limit applies (the kernel does not enforce it for root) and scripts own nothing of the
    /// daemon's; otherwise the daemon's own user.
    public var runAs: (uid: UInt32, gid: UInt32)?
    /// User ids lent one per script running (``ScriptUsers``), so that each script's process limit
    /// counts its own processes; `nil`: every script runs as ``runAs``. A script that finds every id
    /// lent runs as ``runAs``.
    public var users: ScriptUsers?

    /// A runner. Scripts run as `nobody` when this process is root, else as its own user; see ``runAs``.
    /// - Parameters:
    ///   - environment: the daemon's environment; each policy picks the variables scripts may see.
    ///   - workRoot: the folder the executions' directories are made in (created when missing).
    ///   - bubblewrap: a bubblewrap executable that ``probeBubblewrap(at:workRoot:)`` found usable;
    ///     `nil` runs scripts under resource limits alone.
    public init(environment: [String: String], workRoot: URL, bubblewrap: String? = nil) {
        self.environment = environment
        self.workRoot = workRoot
        self.bubblewrap = bubblewrap
        self.runAs = geteuid() == 0 ? (65534, 65534) : nil
    }

    /// Runs one script to its end and returns what happened. It never throws: a directory that cannot
    /// be made, a script that cannot start, a timeout, a non-zero exit, a signal, or output that is not
    /// a JSON object all end up in ``ExecutionRecord/failure``. Cancelling the calling task ends the
    /// script as the timeout does (SIGTERM, SIGKILL after the policy's grace) and sets
    /// ``ExecutionRecord/cancelled``. It returns once the script's process group is gone.
    public func run(_ execution: ScriptExecution) async -> ExecutionRecord {
        if let users, let id = users.acquire() {
            // Its own user, and a group of the same number, for as long as its processes live.
            var lent = self
            lent.users = nil
            lent.runAs = (id, id)
            let record = await lent.run(execution)
            users.release(id)
            return record
        }
        let policy = execution.policy
        let clock = ContinuousClock()
        let started = clock.now
        var record = ExecutionRecord(
            exitCode: nil, signal: nil, timedOut: false, duration: .zero, policyName: policy.name,
            timeout: policy.timeout,
            stdout: CapturedOutput(head: [], tail: [], totalBytes: 0),
            stderr: CapturedOutput(head: [], tail: [], totalBytes: 0),
            maxRSSKB: 0, cpuMs: 0, isolation: "rlimit", outputJSON: nil, failure: nil)

        if bubblewrap == nil && policy.isolation == .required {
            record.failure =
                "policy \(policy.name) requires bubblewrap isolation, which is not available here; "
                + "install bubblewrap or set isolation: auto"
            return record
        }

        // The execution's files.
        // Paths as strings: this runs for every script, and `URL` costs more than the system calls.
        let directory = Self.path(workRoot, appending: UUID().uuidString.lowercased())
        let work = directory + "/work"
        let scratch = work + "/tmp"
        let artifacts = directory + "/artifacts"
        let input = directory + "/input.json"
        let outputFile = directory + "/output.json"
        let payloadFile = directory + "/payload"
        do {
            try Self.makeExecutionDirectories(directory, [work, artifacts, scratch], in: workRoot)
            try Self.writeScratch(execution.state, to: input, mode: 0o644)
            try Self.writeScratch(execution.payload ?? Data(), to: payloadFile, mode: 0o444)
            if let runAs {
                // The script's user owns its folders (the payload stays read-only).
                for path in [directory, work, scratch, artifacts] {
                    guard chown(path, runAs.uid, runAs.gid) == 0 else {
                        throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
                    }
                }
            }
        } catch {
            record.failure = "cannot prepare the execution directory \(directory): \(error.localizedDescription)"
            return record
        }

        guard prepareSideFiles(execution.sideFiles, in: directory) else {
            record.failure =
                "cannot prepare the execution's files in \(directory): \(String(cString: strerror(errno)))"
            return record
        }
        var env: [String: String] = [:]
        for name in policy.environment { if let value = environment[name] { env[name] = value } }
        for (name, value) in execution.environment { env[name] = value }
        for file in execution.sideFiles { env[file.variable] = directory + "/" + file.name }
        env["HOME"] = work
        env["TMPDIR"] = scratch
        env["SCHEDULERD_INPUT"] = input
        env["SCHEDULERD_OUTPUT"] = outputFile
        env["SCHEDULERD_ARTIFACTS"] = artifacts
        env["SCHEDULERD_PAYLOAD"] = payloadFile

        // Descriptors: stdin from the input file, two pipes for the output.
        let stdinFD = open(input, O_RDONLY | O_CLOEXEC)
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard stdinFD >= 0, csb_pipe(&outPipe) == 0, csb_pipe(&errPipe) == 0 else {
            record.failure = "cannot create pipes: \(String(cString: strerror(errno)))"
            for fd in [stdinFD] + outPipe + errPipe where fd >= 0 { close(fd) }
            return record
        }

        var argv = [execution.script] + execution.arguments
        var envp = env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        var executable = execution.script
        if let bubblewrap {
            record.isolation = "bwrap"
            executable = bubblewrap
            argv = Self.bubblewrapArguments(
                bubblewrap, execution: execution, environment: env, directory: directory, work: work)
            envp = []
        }
        var limits = csb_limits(
            cpu_seconds: Int64(policy.cpuSeconds ?? -1), address_space: Int64(policy.memoryBytes ?? -1),
            open_files: Int64(policy.openFiles ?? -1), processes: Int64(policy.processes ?? -1),
            file_size: Int64(policy.fileSizeBytes ?? -1), uid: runAs.map { Int64($0.uid) } ?? -1,
            gid: runAs.map { Int64($0.gid) } ?? -1)
        _ = Self.subreaper
        var pid: pid_t = 0
        var message = [CChar](repeating: 0, count: 512)
        let spawned = Self.withCStrings(argv) { cArgv in
            Self.withCStrings(envp) { cEnvp in
                csb_spawn(
                    executable, cArgv, cEnvp, work, stdinFD, outPipe[1], errPipe[1], &limits, &pid, &message,
                    message.count)
            }
        }
        close(stdinFD)
        close(outPipe[1])
        close(errPipe[1])
        if spawned != 0 {
            close(outPipe[0])
            close(errPipe[0])
            let text = String(decoding: message.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            record.failure =
                spawned == EACCES && text.hasPrefix("cannot run ")
                ? "\(text); make the script executable (chmod +x) and start it with a #! line" : text
            record.duration = clock.now - started
            return record
        }

        // Read both streams, wait for the exit, and enforce the timeout, all at once. The watch kills
        // what is left of the group when the script exits and reaps it (this process adopts orphans as a
        // subreaper), so that nothing of the script outlives it, not even a zombie.
        let child = pid
        let (outRead, errRead) = (outPipe[0], errPipe[0])
        let isolated = record.isolation == "bwrap"
        let exited = ExitLatch()
        let (outcome, ending) = await withTaskGroup(of: Ending?.self) { group in
            group.addTask {
                // The timeout, or the caller's cancellation: SIGTERM to the whole group, SIGKILL after the
                // grace period unless the script is gone by then. The signals go out only while the
                // script has not been reaped (ExitLatch.unlessOpen).
                let slept = (try? await Task.sleep(for: policy.timeout)) != nil
                if exited.isOpen { return nil }
                exited.unlessOpen {
                    if isolated {
                        // Killing bubblewrap would SIGKILL the script at once: give the script itself SIGTERM.
                        _ = csb_signal_tree(child, SIGTERM, 2)
                    } else {
                        _ = csb_kill_group(child, SIGTERM)
                    }
                }
                if await !exited.wait(upTo: policy.grace) { exited.unlessOpen { _ = csb_kill_group(child, SIGKILL) } }
                return slept ? .timedOut : .cancelled
            }
            let outcome = await ScriptWatch.follow(
                child, stdout: outRead, stderr: errRead, cap: policy.maxOutputBytes, drain: policy.grace,
                exited: exited, reap: Self.subreaper)
            group.cancelAll()
            var ending = Ending.exited
            for await case let how? in group { ending = how }
            return (outcome, ending)
        }
        let timedOut = ending == .timedOut
        let status = outcome.status
        let usage = outcome.usage
        record.cancelled = ending == .cancelled
        record.stdout = outcome.stdout
        record.stderr = outcome.stderr
        record.duration = clock.now - started
        record.timedOut = timedOut
        if csb_exited(status) != 0 { record.exitCode = csb_exit_code(status) }
        if csb_signaled(status) != 0 { record.signal = csb_term_signal(status) }
        record.maxRSSKB = usage.ru_maxrss
        record.cpuMs =
            (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000
            + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000

        collectArtifacts(&record, from: artifacts, policy: policy, destination: execution.artifactDestination)
        readSideFiles(execution.sideFiles, in: directory, into: &record)
        if record.cancelled {
            record.failure = "cancelled (policy \(policy.name)); the process group was killed"
        } else if timedOut {
            record.failure = "timed out after \(policy.timeout) (policy \(policy.name)); the process group was killed"
        } else if let code = record.exitCode, code != 0 {
            record.failure = "exited with status \(code)" + Self.lastLine(record.stderr)
        } else if let signal = record.signal {
            record.failure =
                "killed by signal \(signal)" + (signal == SIGXCPU ? " (CPU limit)" : "") + Self.lastLine(record.stderr)
        } else {
            parseOutput(&record, outputFile: outputFile)
        }
        // With the artifacts moved out, nothing in the execution's folder is needed any more.
        if execution.artifactDestination != nil { try? FileManager.default.removeItem(atPath: directory) }
        return record
    }

    /// Checks what the script left in its artifacts folder: regular files only (a symlink, even to a
    /// file inside, is refused), allowed extensions, at most `maxCount` files and `maxBytes` in all, in
    /// name order. Accepted files move to `destination`.
    func collectArtifacts(
        _ record: inout ExecutionRecord, from folder: String, policy: SandboxPolicy, destination: URL?
    ) {
        let rules = policy.artifacts
        let names = Self.entries(of: folder).sorted()
        var total = 0
        for name in names {
            let path = folder + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            func reject(_ reason: String) {
                record.rejectedArtifacts.append(RejectedArtifact(name: name, reason: reason))
            }
            if info.st_mode & S_IFMT == S_IFLNK {
                reject("a symbolic link; artifacts must be regular files")
                continue
            }
            guard info.st_mode & S_IFMT == S_IFREG else {
                reject("not a regular file")
                continue
            }
            let ext = (name as NSString).pathExtension.lowercased()
            guard rules.extensions.contains(ext) else {
                reject(
                    "extension \"\(ext)\" is not allowed; allowed: \(rules.extensions.sorted().joined(separator: ", "))"
                )
                continue
            }
            guard record.artifacts.count < rules.maxCount else {
                reject("more than \(rules.maxCount) artifacts")
                continue
            }
            let size = Int(info.st_size)
            guard total + size <= rules.maxBytes else {
                reject("over the \(rules.maxBytes)-byte artifact budget")
                continue
            }
            var finalPath = path
            if let destination {
                let target = destination.appendingPathComponent(name)
                do {
                    try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
                    try? FileManager.default.removeItem(at: target)
                    try FileManager.default.moveItem(atPath: path, toPath: target.path)
                    finalPath = target.path
                } catch {
                    reject("cannot be moved to \(destination.path): \(error.localizedDescription)")
                    continue
                }
            }
            total += size
            record.artifacts.append(Artifact(name: name, bytes: size, path: finalPath))
        }
    }

    /// The state update: `$SCHEDULERD_OUTPUT` when the script wrote it, stdout otherwise.
    private func parseOutput(_ record: inout ExecutionRecord, outputFile: String) {
        var bytes: [UInt8]
        var source = "stdout"
        if let data = readScriptFile(outputFile, upTo: .max)?.bytes, !data.isEmpty {
            bytes = data
            source = "$SCHEDULERD_OUTPUT"
        } else {
            guard record.stdout.isComplete else {
                record.failure =
                    "stdout (\(record.stdout.totalBytes) bytes) is over max_output (\(record.stdout.head.count)); "
                    + "write the state update to $SCHEDULERD_OUTPUT instead"
                return
            }
            bytes = record.stdout.head
        }
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            record.outputJSON = Data("{}".utf8)
            return
        }
        guard (try? JSONSerialization.jsonObject(with: Data(bytes))) is [String: Any] else {
            let start = String(decoding: bytes.prefix(80), as: UTF8.self)
            record.failure = "the script's \(source) is not a JSON object; it starts with \(start.debugDescription)"
            return
        }
        record.outputJSON = Data(bytes)
    }

    private static func lastLine(_ output: CapturedOutput) -> String {
        let text = String(decoding: output.tail.isEmpty ? output.head : output.tail, as: UTF8.self)
        guard let line = text.split(separator: "\n").last else { return "" }
        return ": " + String(line.prefix(200))
    }

    /// The path of `name` in the folder at file URL `folder` (one slash between them, also for `/`).
    static func path(_ folder: URL, appending name: String) -> String {
        let path = folder.path
        return path.hasSuffix("/") ? path + name : path + "/" + name
    }

    /// Set once per process: orphans of sandboxed scripts are re-parented here instead of to PID 1.
    static let subreaper: Bool = csb_become_subreaper() == 0

    /// How the wait for a script ended.
    private enum Ending: Sendable { case exited, timedOut, cancelled }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R)
        -> R
    {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { buffer in
            // Never empty (it ends with nil), so it has a base address.
            guard let base = buffer.baseAddress else { preconditionFailure("an empty argument vector") }
            return body(base)
        }
    }
}
