import Foundation
import MLflowTesting
import SchedulerTesting
import Testing

/// The shipped systemd unit, checked by systemd's own analyzer (no running systemd needed).
@Suite("deploy/: the systemd unit")
struct DeployTests {
    static func verify(unit: URL? = nil) throws -> ProcessOutput {
        let root = MLflowTestServer.packageRoot
        var environment = ["PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": NSTemporaryDirectory()]
        if let unit { environment["UNIT"] = unit.path }
        return try runProcess(
            URL(fileURLWithPath: "/bin/bash"),
            [
                root.appendingPathComponent("scripts/verify-unit").path,
                DaemonProcess.productsDirectory.appendingPathComponent("schedulerd").path,
            ], environment: environment)
    }

    @Test("schedulerd.service passes systemd-analyze verify and the offline security review")
    func shippedUnit() throws {
        let result = try Self.verify()
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("Overall exposure level"))
        #expect(result.stdout.hasSuffix("ok\n"))
    }

    @Test(
        "a misspelt directive, a bad value or a weakened sandbox fails the check",
        arguments: [
            ([("ProtectSystem=strict", "ProtectSytem=strict")], "Unknown key"),
            ([("ProtectSystem=strict", "ProtectSystem=strct")], "Failed to parse"),
            (
                [
                    ("ProtectHome=yes", "ProtectHome=no"), ("PrivateDevices=yes", "PrivateDevices=no"),
                    ("SystemCallFilter=@system-service @mount", "SystemCallFilter="),
                ], "exposure"
            ),
        ])
    func brokenUnit(changes: [(String, String)], message: String) throws {
        var text = try String(
            contentsOf: MLflowTestServer.packageRoot.appendingPathComponent("deploy/schedulerd.service"),
            encoding: .utf8)
        for (from, to) in changes {
            #expect(text.contains(from))
            text = text.replacingOccurrences(of: from, with: to)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "unit-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let unit = directory.appendingPathComponent("schedulerd.service")
        try text.write(to: unit, atomically: true, encoding: .utf8)
        let result = try Self.verify(unit: unit)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
