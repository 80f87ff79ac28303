import Foundation
import Storage
import Testing

/// The instances clause.
extension StoreContract {
    /// A heartbeat inserts an instance, then replaces it, with the heartbeat at the store's clock (the
    /// returned instant, within a minute of this machine's, whatever the instance said); instances list
    /// by when they started, only those seen since the given instant; a removed instance is gone; an
    /// instance last seen more than a day ago is forgotten by the next heartbeat.
    public func instances() async throws {
        let store = try await makeStore()
        let started = Date(timeIntervalSince1970: 1_733_300_000)
        var first = InstanceRecord(
            id: "ins_a", host: "alpha", version: "1.0", startedAt: started,
            heartbeatAt: Date(timeIntervalSince1970: 0), runsRunning: 2, clockOffsetMs: nil)
        let beat = try await store.heartbeat(first)
        #expect(abs(beat.timeIntervalSinceNow) < 60, "the store's clock is near this machine's")
        var listed = try await store.instances(seenSince: beat.addingTimeInterval(-1))
        #expect(listed.map(\.id) == ["ins_a"])
        #expect(listed.first?.heartbeatAt == beat)
        #expect(listed.first?.host == "alpha" && listed.first?.runsRunning == 2 && listed.first?.clockOffsetMs == nil)
        #expect(listed.first?.startedAt == started)

        let second = InstanceRecord(
            id: "ins_b", host: "beta", version: "1.1", startedAt: started.addingTimeInterval(-60), runsRunning: 0,
            clockOffsetMs: -1500)
        _ = try await store.heartbeat(second)
        first.runsRunning = 5
        first.clockOffsetMs = 12
        let later = try await store.heartbeat(first)
        #expect(later >= beat)
        listed = try await store.instances(seenSince: beat.addingTimeInterval(-1))
        #expect(listed.map(\.id) == ["ins_b", "ins_a"], "in the order they started")
        #expect(listed.last?.runsRunning == 5 && listed.last?.clockOffsetMs == 12)
        #expect(listed.first?.clockOffsetMs == -1500)
        #expect(try await store.instances(seenSince: later.addingTimeInterval(60)).isEmpty)

        #expect(try await store.removeInstance(id: "ins_b"))
        #expect(try await !store.removeInstance(id: "ins_b"))
        #expect(try await store.instances(seenSince: .distantPast).map(\.id) == ["ins_a"])
    }
}
