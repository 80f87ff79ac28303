import Foundation
import Hummingbird
import SchedulerAPI
import Scheduling
import Storage
import Support

/// `GET /api/v1/instances`: the daemons using the store, from their heartbeats.
struct InstanceRoutes: Sendable {
    let deps: AdminAPI.Dependencies

    /// How recent a heartbeat must be for its instance to count as alive: three intervals (15 s).
    static let aliveWithin = (InstanceHeartbeat.defaultInterval * 3).timeInterval

    /// The routes, to add under `/api/v1/instances`.
    var collection: RouteCollection<DaemonRequestContext> {
        let routes = RouteCollection(context: DaemonRequestContext.self)
        routes.get { _, _ in try await list() }
        return routes
    }

    /// The instances seen in the last day, in the order they started.
    func list() async throws -> JSONAnswer<InstanceList> {
        let now = deps.clock.now()
        let records = try await deps.store.instances(seenSince: now.addingTimeInterval(-86_400))
        return JSONAnswer(
            InstanceList(
                instances: records.map { record in
                    Instance(
                        id: record.id, host: record.host, version: record.version, startedAt: record.startedAt,
                        lastHeartbeat: record.heartbeatAt, runsRunning: record.runsRunning,
                        clockOffsetMs: record.clockOffsetMs,
                        alive: now.timeIntervalSince(record.heartbeatAt) < Self.aliveWithin,
                        this: record.id == deps.instanceID)
                }))
    }
}
