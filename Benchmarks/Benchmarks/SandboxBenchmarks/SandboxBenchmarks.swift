import Benchmark
import Foundation
import ProcessSandbox

#if canImport(Glibc)
    import Glibc
#endif

// The overhead of running one `true` in the sandbox, under resource limits alone and under bubblewrap,
// next to a bare posix_spawn + waitpid of the same `true` in the same run. `scripts/bench-sandbox`
// prints the ratios.

let truePath = "/bin/true"

final class RunnerBox: @unchecked Sendable {
    var bubblewrap: String?
}

/// Memory held and touched while one benchmark runs, so that the process is as large as a busy daemon.
final class Ballast: @unchecked Sendable {
    private var region: UnsafeMutableRawPointer?
    private var size = 0

    /// Maps `bytes` and writes every page, so that each is resident.
    func fill(bytes: Int) {
        guard let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            mapped != MAP_FAILED
        else { fatalError("cannot map the ballast") }
        for offset in stride(from: 0, to: bytes, by: 4096) {
            mapped.storeBytes(of: 1, toByteOffset: offset, as: UInt8.self)
        }
        region = mapped
        size = bytes
    }

    /// Gives the memory back.
    func release() {
        if let region { munmap(region, size) }
        region = nil
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput],
        timeUnits: .microseconds,
        warmupIterations: 5,
        maxDuration: .seconds(3),
        maxIterations: 2000
    )

    Benchmark("posix_spawn true") { benchmark in
        for _ in benchmark.scaledIterations {
            var pid: pid_t = 0
            // The same small environment the sandbox passes (the harness's own may preload libraries).
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup(truePath), nil]
            let envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
            defer {
                free(argv[0])
                free(envp[0])
            }
            guard posix_spawn(&pid, truePath, nil, nil, argv, envp) == 0 else { fatalError("posix_spawn failed") }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    let work = FileManager.default.temporaryDirectory.appendingPathComponent("bench-sandbox-\(UUID().uuidString)")
    Benchmark("sandbox rlimit true") { benchmark in
        let runner = SandboxRunner(environment: ["PATH": "/usr/bin:/bin"], workRoot: work)
        for _ in benchmark.scaledIterations {
            let record = await runner.run(ScriptExecution(script: truePath))
            guard record.exitCode == 0 else { fatalError("sandboxed true failed: \(record.failure ?? "")") }
        }
    }

    // The same with a gibibyte of touched memory in this process, as a daemon may hold: a fork()
    // copies the page tables of all of it, a clone that shares the memory copies none.
    let ballast = Ballast()
    Benchmark(
        "sandbox rlimit true with 1 GiB resident",
        configuration: .init(setup: { ballast.fill(bytes: 1 << 30) }, teardown: { ballast.release() })
    ) { benchmark in
        let runner = SandboxRunner(environment: ["PATH": "/usr/bin:/bin"], workRoot: work)
        for _ in benchmark.scaledIterations {
            let record = await runner.run(ScriptExecution(script: truePath))
            guard record.exitCode == 0 else { fatalError("sandboxed true failed: \(record.failure ?? "")") }
        }
    }

    // The peer of the bubblewrap case: the command line the sandbox gives bwrap for a `true` (the same
    // options, environment and binds, with a directory made once instead of one per execution),
    // spawned with posix_spawn by this process's user and waited for.
    let bareDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
        "bench-bwrap-\(UUID().uuidString)")
    Benchmark(
        "posix_spawn bwrap true",
        configuration: .init(setup: {
            try FileManager.default.createDirectory(
                at: bareDirectory.appendingPathComponent("work/tmp"), withIntermediateDirectories: true)
        })
    ) { benchmark in
        let directory = bareDirectory.path
        let work = directory + "/work"
        var arguments = [
            "/usr/bin/bwrap", "--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL", "--clearenv",
        ]
        let environment = [
            "HOME": work, "PATH": "/usr/bin:/bin", "SCHEDULERD_ARTIFACTS": directory + "/artifacts",
            "SCHEDULERD_INPUT": directory + "/input.json", "SCHEDULERD_OUTPUT": directory + "/output.json",
            "SCHEDULERD_PAYLOAD": directory + "/payload", "TMPDIR": work + "/tmp",
        ]
        for (key, value) in environment.sorted(by: { $0.key < $1.key }) { arguments += ["--setenv", key, value] }
        arguments += [
            "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--bind", directory,
            directory,
            "--ro-bind", "/bin", "/bin", "--chdir", work, "--", truePath,
        ]
        for _ in benchmark.scaledIterations {
            var pid: pid_t = 0
            let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
            let envp: [UnsafeMutablePointer<CChar>?] = [nil]
            defer { for pointer in argv { free(pointer) } }
            guard posix_spawn(&pid, "/usr/bin/bwrap", nil, nil, argv, envp) == 0 else {
                fatalError("posix_spawn of bwrap failed")
            }
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            guard status == 0 else { fatalError("bwrap true exited with status \(status)") }
        }
    }

    let box = RunnerBox()
    Benchmark(
        "sandbox bwrap true",
        configuration: .init(setup: {
            if case .success(let path) = await SandboxRunner.probeBubblewrap() { box.bubblewrap = path }
        })
    ) { benchmark in
        guard let bubblewrap = box.bubblewrap else { fatalError("bubblewrap is not usable here") }
        let runner = SandboxRunner(environment: ["PATH": "/usr/bin:/bin"], workRoot: work, bubblewrap: bubblewrap)
        for _ in benchmark.scaledIterations {
            let record = await runner.run(ScriptExecution(script: truePath))
            guard record.exitCode == 0 else { fatalError("bwrap true failed: \(record.failure ?? "")") }
        }
    }
}
