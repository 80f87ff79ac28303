import Foundation
import MLflowTesting
import SchedulerTesting
import Testing

/// `scripts/run`'s handling of Ctrl-C (`run_until_exit` in scripts/lib.sh), with a stand-in for the
/// daemon that takes two SIGTERMs to exit: the shell must pass each signal on and return only after
/// the daemon has exited, so that MLflow (stopped by its EXIT trap) outlives the daemon.
@Suite("scripts/run: Ctrl-C")
struct RunScriptTests {
    @Test("Ctrl-C twice: each is passed on as SIGTERM, and MLflow stops only after the daemon has exited")
    func twice() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ctrlc-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let marks = folder.appendingPathComponent("marks")
        let daemon = folder.appendingPathComponent("daemon.py")
        try """
        import os, signal, sys, time
        marks = os.environ["MARKS"]
        count = 0
        def on_term(*_):
            global count
            count += 1
            with open(marks, "a") as f: f.write(f"term {count}\\n")
        signal.signal(signal.SIGTERM, on_term)
        with open(marks, "a") as f: f.write("started\\n")
        while count < 2: time.sleep(0.02)
        time.sleep(0.5)
        with open(marks, "a") as f: f.write("exited\\n")
        sys.exit(3)
        """.write(to: daemon, atomically: true, encoding: .utf8)
        let process = Process()
        // The shell gets the signal state a terminal gives it: nothing blocked, SIGINT not ignored
        // (a test runner's threads start children with signals blocked).
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            "-c",
            "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); "
                + "signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv('/bin/bash', ['bash'] + sys.argv[1:])",
            "-c",
            "source \"$LIB\"; trap 'echo mlflow-stopped >> \"$MARKS\"' EXIT; run_until_exit python3 \"$DAEMON\"; echo \"status $?\" >> \"$MARKS\"",
        ]
        process.environment = [
            "PATH": "/usr/bin:/bin", "MARKS": marks.path, "DAEMON": daemon.path,
            "LIB": MLflowTestServer.packageRoot.appendingPathComponent("scripts/lib.sh").path,
        ]
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        func lines() -> [String] {
            ((try? String(contentsOf: marks, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        try await eventually("the stand-in started") { lines().contains("started") }
        kill(process.processIdentifier, SIGINT)
        try await eventually("the first signal reached it") { lines().contains("term 1") }
        kill(process.processIdentifier, SIGINT)
        try await eventually(timeout: .seconds(30), "the shell exits") { !process.isRunning }
        let mask = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        #expect(lines() == ["started", "term 1", "term 2", "exited", "status 3", "mlflow-stopped"], "\(mask)")
    }
}
