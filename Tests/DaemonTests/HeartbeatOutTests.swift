import Foundation
import HTTPClient
import Logging
import SchedulerTesting
import Synchronization
import Testing

@testable import schedulerd

/// `--heartbeat-url`: the daemon pings an outside watcher while it is healthy.
@Suite("schedulerd pings an outside watcher")
struct HeartbeatOutTests {
    /// How many pings `watcher` has had for `check`.
    static func pings(_ watcher: FixtureProcess, check: String) async throws -> Int {
        let client = HTTPClient(label: "test")
        let answer = try await client.perform(method: "GET", url: "http://127.0.0.1:\(watcher.port)/count/\(check)")
        return Int(String(decoding: answer.body, as: UTF8.self)) ?? -1
    }

    @Test(
        "a daemon pings every --heartbeat-every; a watcher that refuses is logged once, its recovery once; the check id is never logged"
    )
    func pingsWhileHealthy() async throws {
        let watcher = try await FixtureProcess.start(script: "ping_watcher.py")
        let check = "check-\(UUID().uuidString.prefix(8))"
        let daemon = try DaemonProcess(
            schedules: try schedulesDirectory(workflows: ["tick": DaemonTests.tick]), mlflow: nil)
        try await daemon.start(extraArguments: [
            "--heartbeat-url", "http://127.0.0.1:\(watcher.port)/ping/\(check)", "--heartbeat-every", "1s",
        ])
        try await eventually(timeout: .seconds(30), "two pings") { try await Self.pings(watcher, check: check) >= 2 }

        let client = HTTPClient(label: "test")
        _ = try await client.perform(method: "GET", url: "http://127.0.0.1:\(watcher.port)/answer?status=503")
        try await eventually(timeout: .seconds(30), "the refusal is logged") {
            daemon.logText().contains("the heartbeat URL's watcher did not take the ping")
        }
        let refused = try await Self.pings(watcher, check: check)
        try await eventually(timeout: .seconds(30), "the daemon goes on pinging") {
            try await Self.pings(watcher, check: check) >= refused + 2
        }
        _ = try await client.perform(method: "GET", url: "http://127.0.0.1:\(watcher.port)/answer?status=200")
        try await eventually(timeout: .seconds(30), "the recovery is logged") {
            daemon.logText().contains("pinging the heartbeat URL again")
        }
        #expect(try await daemon.stop() == 0)
        let log = daemon.logText()
        #expect(log.components(separatedBy: "did not take the ping").count == 2, "one line per streak: \(log)")
        #expect(log.contains("it answered HTTP 503"), "\(log)")
        #expect(log.contains("host=127.0.0.1:\(watcher.port)"), "\(log)")
        #expect(!log.contains(check), "the check id stays out of the log: \(log)")
    }

    @Test("an unhealthy daemon does not ping, and says why once; its first minute of starting is not logged")
    func noPingWhileUnhealthy() async throws {
        let watcher = try await FixtureProcess.start(script: "ping_watcher.py")
        let check = "check-\(UUID().uuidString.prefix(8))"
        let healthy = Flag()
        let ping = OutsidePing(
            url: "http://127.0.0.1:\(watcher.port)/ping/\(check)", interval: .seconds(1),
            health: { healthy.isSet ? nil : "the timer has waited 61 s on the store" },
            client: HTTPClient(label: "test"), logger: Logger(label: "test.ping"))
        #expect(await ping.round(after: .starting, startedFor: .seconds(5)) == .starting)
        #expect(await ping.round(after: .starting, startedFor: .seconds(61)) == .unhealthy)
        #expect(await ping.round(after: .pinged) == .unhealthy)
        #expect(try await Self.pings(watcher, check: check) == 0)
        healthy.set()
        #expect(await ping.round(after: .unhealthy) == .pinged)
        #expect(try await Self.pings(watcher, check: check) == 1)
    }

    @Test("only the host of a heartbeat URL is logged: not its path, query or credentials")
    func hostOnly() {
        #expect(OutsidePing.host(of: "https://hc-ping.com/0f3c-secret") == "hc-ping.com")
        #expect(OutsidePing.host(of: "https://user:pass@kuma.local:3001/api/push/abc?status=up") == "kuma.local:3001")
        #expect(OutsidePing.host(of: "http://127.0.0.1:8000?x=1") == "127.0.0.1:8000")
        #expect(OutsidePing.host(of: "hc-ping.com/secret") == "")
    }
}

/// A flag one test sets while another part reads it.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}
