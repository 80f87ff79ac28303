import Foundation
import MLflowTesting
import SchedulerTesting
import Testing

/// The status pages in a real browser: Debian's Chromium, driven through chromium-driver by
/// `Tests/Fixtures/browser_pages.py` (selenium), against a daemon with the shipped schedules and a
/// real MLflow server. `scripts/test` installs all three; without them the test fails and says so.
@Suite("status pages in Chromium")
struct BrowserPagesTests {
    static let chromium = ProcessInfo.processInfo.environment["SCHEDULERD_TEST_CHROMIUM"] ?? "/usr/bin/chromium"
    static let driver = ProcessInfo.processInfo.environment["SCHEDULERD_TEST_CHROMEDRIVER"] ?? "/usr/bin/chromedriver"

    @Test("log in, see the schedules, pause one, watch a run end without reloading, open its trace, log out")
    func browse() async throws {
        let fm = FileManager.default
        for tool in [Self.chromium, Self.driver] where !fm.isExecutableFile(atPath: tool) {
            throw TestFailure(description: "\(tool) is missing; scripts/test installs chromium and chromium-driver")
        }
        let root = MLflowTestServer.packageRoot
        let python = root.appendingPathComponent(".venv/bin/python")
        let check = try runProcess(python, ["-c", "import selenium"])
        guard check.status == 0 else {
            throw TestFailure(description: "selenium is not in .venv; scripts/test installs it: \(check.stderr)")
        }
        let server = try await MLflowTestServer.shared()
        let schedules = try AcceptanceWorld.schedulesCopy()
        let fixtures = root.appendingPathComponent("Tests/Fixtures/browser")
        try fm.copyItem(
            at: fixtures.appendingPathComponent("browser_slow.yaml"),
            to: schedules.appendingPathComponent("browser_slow.yaml"))
        for sub in ["workflows", "scripts"] {
            for name in try fm.contentsOfDirectory(atPath: fixtures.appendingPathComponent(sub).path) {
                try fm.copyItem(
                    at: fixtures.appendingPathComponent("\(sub)/\(name)"),
                    to: schedules.appendingPathComponent("\(sub)/\(name)"))
            }
        }
        let daemon = try DaemonProcess(
            schedules: schedules, mlflow: server.uri, experiment: "browser-\(UUID().uuidString.prefix(8))",
            environment: AcceptanceWorld.secrets)
        try await daemon.start(extraArguments: ["--max-runs", "1"])
        defer { daemon.signal(SIGTERM) }

        let output = try await runProcessOffPool(
            python,
            [
                root.appendingPathComponent("Tests/Fixtures/browser_pages.py").path, "http://127.0.0.1:\(daemon.port)",
                daemon.token,
            ],
            environment: [
                "PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "SE_AVOID_STATS": "true",
                "SCHEDULERD_TEST_CHROMIUM": Self.chromium, "SCHEDULERD_TEST_CHROMEDRIVER": Self.driver,
            ])
        #expect(
            output.status == 0,
            "browser_pages.py exited \(output.status)\n\(output.stdout.suffix(2000))\n\(output.stderr.suffix(4000))\nlog: \(daemon.log.path)"
        )
        #expect(output.stdout.contains("ok: states"))
    }
}
