import ClockTesting
import Foundation
import HTTPAPI
import HTTPTypes
import SchedulerAPI
import SchedulerTesting
import Storage
import Testing
import Workflows

/// `GET /api/v1/instances` in this process: what the heartbeats in the store come to.
@Suite("admin API: instances, in process")
struct InstanceRoutesTests {
    @Test("instances list by start, the answering one marked; a heartbeat older than 15 s is silent")
    func list() async throws {
        let api = try await InProcessAPI.start(instanceID: "ins_self")
        let started = Date(timeIntervalSince1970: 1_733_300_000)
        _ = try await api.store.heartbeat(
            InstanceRecord(
                id: "ins_self", host: "alpha", version: "0.6.0", startedAt: started, runsRunning: 3, clockOffsetMs: 4))
        _ = try await api.store.heartbeat(
            InstanceRecord(id: "ins_peer", host: "beta", version: "0.6.0", startedAt: started.addingTimeInterval(-10)))
        try await api.test { client in
            let listed = try await client.admin(.get, "/api/v1/instances", as: InstanceList.self)
            #expect(listed.instances.map(\.id) == ["ins_peer", "ins_self"])
            #expect(listed.instances.map(\.this) == [false, true])
            #expect(listed.instances.allSatisfy { $0.alive })
            #expect(listed.instances.last?.runsRunning == 3 && listed.instances.last?.clockOffsetMs == 4)
            #expect(listed.instances.first?.clockOffsetMs == nil)
            let (_, raw) = try await client.admin(.get, "/api/v1/instances")
            #expect(raw["instances"]?.arrayValue?.first?["clock_offset_ms"] == .null, "written as null, not left out")

            // 20 s past now, not past the clock's start: the heartbeats were stored at the time they
            // ran, and in a loaded clean-clone CI run the start came seconds before them.
            api.clock.advance(to: Date().addingTimeInterval(20))
            let later = try await client.admin(.get, "/api/v1/instances", as: InstanceList.self)
            #expect(later.instances.allSatisfy { !$0.alive })
        }
    }
}
