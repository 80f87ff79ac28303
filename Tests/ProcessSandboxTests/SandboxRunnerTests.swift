import Foundation
import SchedulerTesting
import Synchronization
import Testing

@testable import ProcessSandbox

/// Writes an executable script into a fresh directory.
func script(_ body: String, name: String = "step.sh") throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scripts-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let path = directory.appendingPathComponent(name).path
    try Data(body.utf8).write(to: URL(fileURLWithPath: path))
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    return path
}

func runner(environment: [String: String] = ["PATH": "/usr/local/bin:/usr/bin:/bin"]) -> SandboxRunner {
    SandboxRunner(
        environment: environment,
        workRoot: FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-\(UUID().uuidString)"))
}

func text(_ output: CapturedOutput) -> String { String(decoding: output.head, as: UTF8.self) }

/// True while a process with this pid exists and is not a zombie.
func alive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return false }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state != "Z" && state != "X"
}

/// One serialized parent: these tests count the process's descriptors and children and time kills, so
/// none of them may run beside another.
@Suite("Process sandbox", .serialized)
enum SandboxTests {}

extension SandboxTests {
    @Suite("Sandbox: scripts run under a policy and report exactly what happened")
    struct SandboxRunnerTests {
        @Test("a script reads its state from stdin and returns a JSON update")
        func success() async throws {
            let path = try script(
                """
                #!/bin/sh
                state=$(cat)
                printf 'seen %s\\n' "$state" >&2
                echo '{"kwh": 12.5, "ok": true}'
                """)
            let record = await runner().run(ScriptExecution(script: path, state: Data(#"{"day":"2024-01-01"}"#.utf8)))
            #expect(record.failure == nil)
            #expect(record.exitCode == 0)
            #expect(record.signal == nil)
            #expect(!record.timedOut)
            #expect(record.output?["kwh"] as? Double == 12.5)
            #expect(record.stdout.totalBytes == 26)
            #expect(text(record.stderr) == #"seen {"day":"2024-01-01"}"# + "\n")
            #expect(record.policyName == "default")
            #expect(record.isolation == "rlimit")
        }

        @Test("$SCHEDULERD_OUTPUT wins over stdout, and $SCHEDULERD_INPUT holds the state")
        func outputFile() async throws {
            let path = try script(
                """
                #!/bin/sh
                echo 'log line, not JSON'
                cp "$SCHEDULERD_INPUT" "$SCHEDULERD_OUTPUT"
                """)
            let record = await runner().run(ScriptExecution(script: path, state: Data(#"{"n": 3}"#.utf8)))
            #expect(record.failure == nil)
            #expect(record.output?["n"] as? Double == 3)
        }

        @Test("$SCHEDULERD_OUTPUT is read only as a regular file: a link or a pipe there is passed over for stdout")
        func outputFileKinds() async throws {
            let target = FileManager.default.temporaryDirectory.appendingPathComponent("elsewhere-\(UUID().uuidString)")
            try Data(#"{"secret": true}"#.utf8).write(to: target)
            for make in ["ln -s \(target.path) \"$SCHEDULERD_OUTPUT\"", "mkfifo \"$SCHEDULERD_OUTPUT\""] {
                let path = try script("#!/bin/sh\n\(make)\necho '{\"from\": \"stdout\"}'\n")
                let record = await runner().run(ScriptExecution(script: path))
                #expect(record.failure == nil, "\(make)")
                #expect(record.output?["from"] as? String == "stdout", "\(make)")
                #expect(record.output?["secret"] == nil, "\(make)")
            }
        }

        @Test("invalid JSON output is a failure that quotes its first bytes")
        func invalidJSON() async throws {
            let path = try script("#!/bin/sh\necho 'not json at all'\n")
            let record = await runner().run(ScriptExecution(script: path))
            #expect(record.exitCode == 0)
            #expect(record.failure == #"the script's stdout is not a JSON object; it starts with "not json at all\n""#)
        }

        @Test("a non-zero exit fails with the status and the last line of stderr")
        func exitStatus() async throws {
            let path = try script("#!/bin/sh\necho 'reading meters' >&2\necho 'meter 7 is offline' >&2\nexit 3\n")
            let record = await runner().run(ScriptExecution(script: path))
            #expect(record.exitCode == 3)
            #expect(record.failure == "exited with status 3: meter 7 is offline")
        }

        @Test("a work root that cannot hold folders fails the execution with the path and the system's reason")
        func unusableWorkRoot() async throws {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent(
                "not-a-folder-\(UUID().uuidString)")
            try Data().write(to: file)
            let record = await SandboxRunner(environment: [:], workRoot: file).run(
                ScriptExecution(script: try script("#!/bin/sh\necho '{}'\n")))
            let failure = try #require(record.failure)
            #expect(failure.hasPrefix("cannot prepare the execution directory \(file.path)/"))
            #expect(failure.hasSuffix(": Not a directory"))
            #expect(record.exitCode == nil)

            // A missing work root is made.
            let missing = FileManager.default.temporaryDirectory.appendingPathComponent("new-\(UUID().uuidString)/a/b")
            let made = await SandboxRunner(environment: [:], workRoot: missing).run(
                ScriptExecution(script: try script("#!/bin/sh\necho '{}'\n")))
            #expect(made.failure == nil)
        }

        @Test("a file that is not executable is refused with the fix")
        func notExecutable() async throws {
            let path = try script("#!/bin/sh\necho '{}'\n")
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
            let record = await runner().run(ScriptExecution(script: path))
            #expect(record.failure?.contains("chmod +x") == true)
            #expect(record.exitCode == nil)
        }

        @Test("past its timeout the script and its grandchild are killed within the grace period")
        func timeout() async throws {
            let path = try script(
                """
                #!/bin/sh
                sleep 300 &
                echo "grandchild $!" >&2
                sleep 300
                """)
            // Long enough for the script to start on a busy machine; the bound shows the 300 s sleeps
            // were not waited for.
            var policy = SandboxPolicy(name: "short", timeout: .seconds(3), grace: .seconds(1))
            policy.maxOutputBytes = 4096
            let record = await runner().run(ScriptExecution(script: path, policy: policy))
            #expect(record.timedOut)
            #expect(record.signal == SIGTERM)
            #expect(record.timeout == .seconds(3))
            #expect(record.duration >= .seconds(3) && record.duration < .seconds(15))
            #expect(record.failure?.hasPrefix("timed out after 3.0 seconds") == true)
            let line = try #require(text(record.stderr).split(separator: "\n").first { $0.hasPrefix("grandchild ") })
            let grandchild = try #require(Int32(line.dropFirst("grandchild ".count)))
            // SIGKILL is delivered; the kernel may take a moment to finish the exit. Within the grace period:
            let deadline = ContinuousClock.now + .seconds(1)
            while alive(grandchild) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(!alive(grandchild))
        }

        @Test("a process moved to its own session that holds stdout open does not hold the run past the grace period")
        func escapedHolder() async throws {
            // setsid takes the sleep out of the script's group, so the group's SIGKILL misses it, and it
            // keeps the stdout pipe open after the script has ended.
            let path = try script(
                """
                #!/bin/sh
                echo '{"ok": "yes"}'
                setsid sh -c 'touch "$TMPDIR/escaped"; exec sleep 300' &
                echo "escaped $!" >&2
                # Ends only once the sleep is out of the group (before, the group's SIGKILL would reach it).
                while [ ! -e "$TMPDIR/escaped" ]; do sleep 0.01; done
                """)
            let policy = SandboxPolicy(name: "short-grace", timeout: .seconds(60), grace: .seconds(1))
            let record = await runner().run(ScriptExecution(script: path, policy: policy))
            let line = try #require(text(record.stderr).split(separator: "\n").first { $0.hasPrefix("escaped ") })
            let escaped = try #require(Int32(line.dropFirst("escaped ".count)))
            // It was re-parented to this process (a subreaper): end it and reap it, so that no later
            // test counts it.
            kill(escaped, SIGKILL)
            var status: Int32 = 0
            waitpid(escaped, &status, 0)
            #expect(record.failure == nil)
            #expect(record.exitCode == 0)
            #expect(record.output?["ok"] as? String == "yes")
            // The grace period after the exit, not the 300 s of the sleep.
            #expect(record.duration >= .seconds(1) && record.duration < .seconds(15), "\(record.duration)")
        }

        @Test("cancelling the caller's task kills the script and its grandchild, and says so")
        func cancellation() async throws {
            let path = try script(
                """
                #!/bin/sh
                sleep 300 &
                echo "grandchild $!" >&2
                touch "$1/started"
                sleep 300
                """)
            // Where the script says it has started: a folder its user (nobody, under root) may write to.
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("started-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: folder.path)
            var policy = SandboxPolicy(name: "long", timeout: .seconds(120), grace: .seconds(1))
            policy.maxOutputBytes = 4096
            let sandbox = runner()
            let started = ContinuousClock.now
            let task = Task {
                await sandbox.run(ScriptExecution(script: path, arguments: [folder.path], policy: policy))
            }
            try await eventually("the script and its grandchild have started") {
                FileManager.default.fileExists(atPath: folder.appendingPathComponent("started").path)
            }
            task.cancel()
            let record = await task.value
            #expect(record.cancelled)
            #expect(!record.timedOut)
            #expect(record.signal == SIGTERM)
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(record.failure == "cancelled (policy long); the process group was killed")
            let line = try #require(text(record.stderr).split(separator: "\n").first { $0.hasPrefix("grandchild ") })
            let grandchild = try #require(Int32(line.dropFirst("grandchild ".count)))
            let deadline = ContinuousClock.now + .seconds(1)
            while alive(grandchild) && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(!alive(grandchild))
        }

        @Test("100 MiB on stdout is drained, counted exactly and kept only up to the cap")
        func outputCap() async throws {
            let path = try script("#!/bin/sh\nhead -c 104857600 /dev/zero | tr '\\\\0' 'a'\necho 'the end'\n")
            var policy = SandboxPolicy.default
            policy.maxOutputBytes = 4096
            let record = await runner().run(ScriptExecution(script: path, policy: policy))
            #expect(record.exitCode == 0)
            #expect(record.stdout.totalBytes == 104_857_600 + 8)
            #expect(record.stdout.head.count == 4096)
            #expect(record.stdout.tail.count == 64 << 10)
            #expect(String(decoding: record.stdout.tail.suffix(8), as: UTF8.self) == "the end\n")
            #expect(record.failure?.contains("is over max_output") == true)
        }

        @Test("the daemon's environment stays out: only the policy's allowlist and SCHEDULERD_* get in")
        func environment() async throws {
            let path = try script("#!/bin/sh\nenv >&2\necho '{}'\n")
            let record = await runner(environment: [
                "PATH": "/usr/bin:/bin", "MLFLOW_TRACKING_TOKEN": "s3cr3t-token", "LANG": "C.UTF-8",
            ])
            .run(ScriptExecution(script: path))
            let env = text(record.stderr)
            #expect(record.failure == nil)
            #expect(!env.contains("s3cr3t-token"))
            #expect(env.contains("LANG=C.UTF-8"))
            #expect(
                env.contains("SCHEDULERD_INPUT=") && env.contains("SCHEDULERD_PAYLOAD=")
                    && env.contains("SCHEDULERD_ARTIFACTS="))
        }

        @Test("a webhook payload with $(…), backticks and quotes reaches the script verbatim and runs nothing")
        func payloadVerbatim() async throws {
            let marker = "/tmp/pwned-\(UUID().uuidString)"
            let payload = Data(
                #"{"cmd":"$(touch \#(marker))","tick":"`touch \#(marker)`","quote":"'\"; touch \#(marker); echo \""}"#
                    .utf8)
            let path = try script("#!/bin/sh\ncat \"$SCHEDULERD_PAYLOAD\" >&2\necho '{}'\n")
            let record = await runner().run(ScriptExecution(script: path, payload: payload))
            #expect(record.failure == nil)
            #expect(record.stderr.head == [UInt8](payload))
            #expect(!FileManager.default.fileExists(atPath: marker))
        }

        @Test("a script that allocates past its memory limit fails")
        func memory() async throws {
            let path = try script(
                "#!/usr/bin/env python3\nimport sys\nblocks = [bytearray(64 << 20) for _ in range(32)]\nprint('{}')\n",
                name: "hog.py")
            var policy = SandboxPolicy.default
            policy.memoryBytes = 256 << 20
            let record = await runner().run(ScriptExecution(script: path, policy: policy))
            #expect(record.exitCode != 0)
            #expect(record.failure?.contains("MemoryError") == true)
        }

        @Test("500 executions leave no zombie, no leaked descriptor and no stray process")
        func noLeaks() async throws {
            let path = try script("#!/bin/sh\nsleep 30 &\necho '{}'\n")
            let sandbox = runner()
            func descriptors() -> Int {
                (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
            }
            _ = await sandbox.run(ScriptExecution(script: path))  // warm up lazily opened descriptors
            let before = descriptors()
            for _ in 0..<500 {
                let record = await sandbox.run(ScriptExecution(script: path))
                #expect(record.failure == nil)
            }
            #expect(descriptors() == before)
            let me = getpid()
            let children = (try FileManager.default.contentsOfDirectory(atPath: "/proc")).filter { entry in
                guard let pid = Int32(entry),
                    let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                    let close = stat.lastIndex(of: ")")
                else { return false }
                let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
                return fields.count > 1 && Int32(fields[1]) == me
            }
            #expect(children.isEmpty, "children left: \(children)")
        }
    }

}

/// bubblewrap, required: under CI a missing or unusable bwrap fails these tests instead of skipping them.
func bubblewrap() async throws -> String {
    switch await SandboxRunner.probeBubblewrap() {
    case .success(let path): return path
    case .failure(let failure):
        Issue.record("bubblewrap is needed for this test: \(failure)")
        throw failure
    }
}

extension SandboxTests {
    @Suite("Sandbox under bubblewrap")
    struct BubblewrapTests {
        func isolated() async throws -> SandboxRunner {
            var sandbox = runner()
            sandbox.bubblewrap = try await bubblewrap()
            return sandbox
        }

        /// A listener on 127.0.0.1 started by the test; returns the port.
        func listener() throws -> (Int32, Int) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            _ = Glibc.listen(fd, 8)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            return (fd, Int(UInt16(bigEndian: address.sin_port)))
        }

        @Test("with network: false a connection to the test's listener fails; with true it succeeds")
        func network() async throws {
            let sandbox = try await isolated()
            let (fd, port) = try listener()
            defer { close(fd) }
            let path = try script(
                """
                #!/usr/bin/env python3
                import json, socket
                s = socket.socket()
                s.settimeout(3)
                print(json.dumps({"connect": s.connect_ex(("127.0.0.1", \(port)))}))
                """, name: "net.py")
            var closed = SandboxPolicy.default
            closed.network = false
            let denied = await sandbox.run(ScriptExecution(script: path, policy: closed))
            #expect(denied.isolation == "bwrap")
            #expect(denied.failure == nil)
            #expect((denied.output?["connect"] as? Double ?? 0) != 0)
            var open = SandboxPolicy.default
            open.network = true
            let allowed = await sandbox.run(ScriptExecution(script: path, policy: open))
            #expect(allowed.output?["connect"] as? Double == 0)
        }

        @Test("the script cannot write outside its directories, and its /tmp is its own")
        func filesystem() async throws {
            let sandbox = try await isolated()
            let outside = "/var/tmp/escape-\(UUID().uuidString)"
            let tmpMarker = "/tmp/inside-\(UUID().uuidString)"
            let path = try script(
                """
                #!/bin/sh
                touch \(outside) 2>/dev/null && echo "wrote outside" >&2
                touch \(tmpMarker)
                echo ok > "$HOME/result.txt"
                echo '{"work": "'"$(cat "$HOME/result.txt")"'"}'
                """)
            let record = await sandbox.run(ScriptExecution(script: path))
            #expect(record.failure == nil)
            #expect(record.output?["work"] as? String == "ok")
            #expect(!text(record.stderr).contains("wrote outside"))
            #expect(!FileManager.default.fileExists(atPath: outside))
            #expect(!FileManager.default.fileExists(atPath: tmpMarker))
        }

        @Test("a schedules directory under /tmp: the script reads its sample data beside its own folder")
        func readableFolder() async throws {
            let sandbox = try await isolated()
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("schedules-\(UUID().uuidString)")
            try FileManager.default.createDirectory(
                at: root.appendingPathComponent("data"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(
                at: root.appendingPathComponent("scripts"), withIntermediateDirectories: true)
            try Data("42\n".utf8).write(to: root.appendingPathComponent("data/answer.txt"))
            let path = root.appendingPathComponent("scripts/read.sh").path
            try Data("#!/bin/sh\necho \"{\\\"answer\\\": $(cat \"$(dirname \"$0\")/../data/answer.txt\")}\"\n".utf8)
                .write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
            var execution = ScriptExecution(script: path)
            let without = await sandbox.run(execution)
            #expect(without.failure != nil, "/tmp is the sandbox's own: the data is not there")
            execution.readableFolder = root.path
            let with = await sandbox.run(execution)
            #expect(with.failure == nil, "\(with.failure ?? "")")
            #expect(with.output?["answer"] as? Double == 42)
        }

        @Test("the daemon's secrets stay out under bubblewrap too, and the timeout still ends everything")
        func secretsAndTimeout() async throws {
            var sandbox = try await isolated()
            sandbox.environment["SCHEDULERD_TOKEN"] = "admin-s3cr3t"
            let path = try script("#!/bin/sh\nenv >&2\nsleep 300 &\nsleep 300\n")
            // Long enough for bubblewrap and the script to start on a busy machine.
            let policy = SandboxPolicy(name: "short", timeout: .seconds(5), grace: .seconds(1))
            let record = await sandbox.run(ScriptExecution(script: path, policy: policy))
            #expect(record.timedOut)
            #expect(record.duration < .seconds(20))
            #expect(!text(record.stderr).contains("admin-s3cr3t"))
            #expect(text(record.stderr).contains("SCHEDULERD_INPUT="))
        }

        @Test("on timeout the script inside bubblewrap gets SIGTERM first and can clean up")
        func gracefulTimeout() async throws {
            let sandbox = try await isolated()
            let path = try script(
                "#!/bin/sh\ntrap 'echo \"got TERM\" >&2; exit 7' TERM\nsleep 300 &\nwait\n")
            // The timeout leaves bubblewrap and the shell time to set the trap on a busy machine; the
            // grace is long, so ending well before it means the script exited on SIGTERM.
            let policy = SandboxPolicy(name: "short", timeout: .seconds(5), grace: .seconds(30))
            let record = await sandbox.run(ScriptExecution(script: path, policy: policy))
            #expect(record.timedOut)
            #expect(text(record.stderr).contains("got TERM"))
            #expect(record.duration < .seconds(25))
        }

        @Test("a policy that requires bubblewrap fails clearly where it is not used")
        func required() async throws {
            var policy = SandboxPolicy.default
            policy.isolation = .required
            let record = await runner().run(ScriptExecution(script: "/bin/true", policy: policy))
            #expect(
                record.failure
                    == "policy default requires bubblewrap isolation, which is not available here; install bubblewrap or set isolation: auto"
            )
        }
    }
}

extension SandboxTests {
    @Suite("Artifacts")
    struct ArtifactTests {
        @Test("artifacts are checked: counts match, a symlink to /etc/passwd and a bad extension are rejected")
        func artifacts() async throws {
            let path = try script(
                """
                #!/bin/sh
                cd "$SCHEDULERD_ARTIFACTS"
                echo 'day,kwh' > a-report.csv
                echo '# Report' > b-report.md
                ln -s /etc/passwd c-passwd.txt
                echo 'x' > d-tool.exe
                mkdir e-folder
                echo '{}'
                """)
            let destination = FileManager.default.temporaryDirectory.appendingPathComponent(
                "run-artifacts-\(UUID().uuidString)")
            var execution = ScriptExecution(script: path)
            execution.artifactDestination = destination
            let sandbox = runner()
            let record = await sandbox.run(execution)
            #expect(try FileManager.default.contentsOfDirectory(atPath: sandbox.workRoot.path).isEmpty)
            #expect(record.failure == nil)
            #expect(record.artifacts.map(\.name) == ["a-report.csv", "b-report.md"])
            #expect(record.artifacts.map(\.bytes) == [8, 9])
            #expect(FileManager.default.fileExists(atPath: destination.appendingPathComponent("a-report.csv").path))
            #expect(record.artifacts.allSatisfy { $0.path.hasPrefix(destination.path) })
            let rejected = Dictionary(uniqueKeysWithValues: record.rejectedArtifacts.map { ($0.name, $0.reason) })
            #expect(rejected.count == 3)
            #expect(rejected["c-passwd.txt"] == "a symbolic link; artifacts must be regular files")
            #expect(rejected["d-tool.exe"]?.hasPrefix(#"extension "exe" is not allowed"#) == true)
            #expect(rejected["e-folder"] == "not a regular file")
        }

        @Test("more artifacts than allowed: the first ones by name are kept, the rest rejected")
        func artifactLimits() async throws {
            let path = try script(
                "#!/bin/sh\ncd \"$SCHEDULERD_ARTIFACTS\"\nfor i in 1 2 3 4 5; do echo $i > part-$i.txt; done\necho '{}'\n"
            )
            var policy = SandboxPolicy.default
            policy.artifacts.maxCount = 3
            let record = await runner().run(ScriptExecution(script: path, policy: policy))
            #expect(record.artifacts.count == 3)
            #expect(record.rejectedArtifacts.map(\.reason) == ["more than 3 artifacts", "more than 3 artifacts"])
        }
    }
}

extension SandboxTests {
    @Suite("Process limit")
    struct ProcessLimitTests {
        /// A script that forks until it is refused, waits `seconds` with its processes alive, then
        /// prints how many it forked, the error and its user id.
        static func forkBomb(holdingFor seconds: Int) -> String {
            """
            #!/usr/bin/env python3
            import json, os, time
            forked = 0
            try:
                while forked < 10000:
                    if os.fork() == 0:
                        time.sleep(30)
                        os._exit(0)
                    forked += 1
            except OSError as error:
                time.sleep(\(seconds))
                print(json.dumps({"forked": forked, "error": error.strerror, "uid": os.getuid()}))
            """
        }

        @Test("a script that forks without end is stopped by the process limit")
        func forkLoop() async throws {
            let sandbox = runner()
            // As root the kernel ignores RLIMIT_NPROC; the runner therefore runs scripts as nobody.
            #expect(geteuid() != 0 || sandbox.runAs?.uid == 65534)
            let path = try script(Self.forkBomb(holdingFor: 0), name: "forks.py")
            var policy = SandboxPolicy(name: "capped", timeout: .seconds(20))
            policy.processes = 16
            let record = await sandbox.run(ScriptExecution(script: path, policy: policy))
            #expect(record.failure == nil)
            let forked = try #require(record.output?["forked"] as? Double)
            #expect(forked < 16)
            #expect(record.output?["error"] as? String == "Resource temporarily unavailable")
        }

        // Switching to the lent users needs root; CI runs the tests as root.
        @Test(
            "with users of their own, scripts beside a fork bomb keep their own process count",
            .enabled(if: geteuid() == 0, "switching scripts to other users needs root"))
        func ownUsers() async throws {
            var sandbox = runner()
            let users = try #require(ScriptUsers(range: 61000...61003))
            sandbox.users = users
            // Holds its processes while the others run.
            let bomb = try script(Self.forkBomb(holdingFor: 3), name: "bomb.py")
            let worker = try script(
                """
                #!/usr/bin/env python3
                import json, os, time
                time.sleep(1)  # once the bomb has used up its count
                children = []
                for _ in range(8):
                    pid = os.fork()
                    if pid == 0:
                        time.sleep(0.5)
                        os._exit(0)
                    children.append(pid)
                for pid in children:
                    os.waitpid(pid, 0)
                print(json.dumps({"children": len(children), "uid": os.getuid()}))
                """, name: "worker.py")
            var policy = SandboxPolicy(name: "capped", timeout: .seconds(20))
            policy.processes = 16
            async let bombed = sandbox.run(ScriptExecution(script: bomb, policy: policy))
            async let first = sandbox.run(ScriptExecution(script: worker, policy: policy))
            async let second = sandbox.run(ScriptExecution(script: worker, policy: policy))
            let records = await [bombed, first, second]
            #expect(records.allSatisfy { $0.failure == nil }, "\(records.map { $0.failure ?? "ok" })")
            #expect(records[0].output?["error"] as? String == "Resource temporarily unavailable")
            #expect(records[1].output?["children"] as? Double == 8 && records[2].output?["children"] as? Double == 8)
            let uids = Set(records.compactMap { $0.output?["uid"] as? Double })
            #expect(uids.count == 3 && uids.allSatisfy { (61000...61003).contains(UInt32($0)) }, "\(uids)")
            #expect(users.lent == 0, "every id given back")
        }
    }
}
