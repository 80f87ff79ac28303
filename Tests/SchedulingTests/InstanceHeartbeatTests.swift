import ClockTesting
import Foundation
import Logging
import SchedulerTesting
import Storage
import Testing

@testable import Scheduling

/// The heartbeat of one daemon, against a real SQLite store whose clock is this machine's and a
/// manual clock for the daemon's side, so that an offset can be made on purpose.
@Suite("The instance heartbeat")
struct InstanceHeartbeatTests {
    static func store() throws -> SQLiteStore {
        try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent(
                "hb-\(UUID().uuidString.prefix(8)).sqlite"
            )
            .path)
    }

    @Test("a clock 2 minutes ahead of the database's is measured, stored and warned about once")
    func offset() async throws {
        let store = try Self.store()
        let logs = LogCapture()
        let clock = ManualClock(Date().addingTimeInterval(120))
        let heartbeat = InstanceHeartbeat(
            store: store, identity: InstanceRecord(host: "alpha", version: "0.6.0", startedAt: Date()), clock: clock,
            runningCount: { 2 }, logger: logs.logger())
        await heartbeat.beat()
        let offset = try #require(heartbeat.clockOffset)
        #expect(offset > .seconds(119) && offset < .seconds(121), "\(offset)")
        await heartbeat.beat()
        #expect(logs.matching(.warning, "clock is more than 1 s from the database's").count == 1)
        let stored = try #require(try await store.instances(seenSince: .distantPast).first)
        #expect(stored.id == heartbeat.instanceID)
        #expect(stored.runsRunning == 2)
        #expect((119_000...121_000).contains(stored.clockOffsetMs ?? 0), "the measured offset is stored")
    }

    @Test("a clock that agrees is not warned about; stopping removes the instance")
    func agreeAndStop() async throws {
        let store = try Self.store()
        let logs = LogCapture()
        let heartbeat = InstanceHeartbeat(
            store: store, identity: InstanceRecord(host: "alpha", version: "0.6.0", startedAt: Date()),
            clock: SystemWallClock(), runningCount: { 0 }, logger: logs.logger())
        let task = Task { try await heartbeat.run() }
        try await eventually("the first heartbeat is stored") {
            try await store.instances(seenSince: .distantPast).count == 1
        }
        // The machine's own clock: within half the heartbeat's round trip of zero (the round trip can be
        // long when the tests load the machine, so only the warning's absence is exact). The offset is
        // recorded once the store's answer is back, just after the row can be read.
        try await eventually("the offset is measured") { heartbeat.clockOffset != nil }
        task.cancel()
        try await task.value
        #expect(try await store.instances(seenSince: .distantPast).isEmpty)
        #expect(logs.matching(.warning, "").isEmpty, "\(logs.all.map(\.message))")
    }
}
