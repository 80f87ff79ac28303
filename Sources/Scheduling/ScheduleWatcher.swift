import Foundation
import Logging
import ServiceLifecycle
import Storage

/// Learns of schedule changes other daemons sharing the store made (added, changed, paused, deleted,
/// or fired and so moved on): every second it compares the store's ``ScheduleRevision`` with the one
/// it saw last, and when it differs the scheduler reads the schedules again. The daemon runs it when
/// several daemons can share the store (PostgreSQL); a daemon alone on its SQLite file makes every
/// change itself and needs none.
public struct ScheduleWatcher: Service {
    let store: any SchedulerStore
    let scheduler: Scheduler
    let interval: Duration
    let clock: any WallClock
    let logger: Logger

    /// A watcher that starts once run as a service.
    /// - Parameters:
    ///   - store: the shared store.
    ///   - scheduler: what reads the schedules again on a change.
    ///   - interval: the time between two looks.
    ///   - clock: what the waits are measured on.
    ///   - logger: where a failed look is logged (once per streak of failures).
    public init(
        store: any SchedulerStore, scheduler: Scheduler, interval: Duration = .seconds(1),
        clock: any WallClock = SystemWallClock(), logger: Logger
    ) {
        self.store = store
        self.scheduler = scheduler
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    /// Looks every interval until a graceful shutdown or cancellation.
    public func run() async throws {
        var seen = try? await store.scheduleRevision()
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { [clock, interval] in try await clock.sleep(for: interval) }
            } catch {
                return
            }
            do {
                let now = try await store.scheduleRevision()
                if failing {
                    failing = false
                    logger.info("the store answers the schedule watcher again")
                }
                guard now != seen else { continue }
                try await scheduler.reload()
                seen = now
            } catch {
                if !failing {
                    failing = true
                    logger.warning(
                        "cannot look for schedule changes other daemons made; they reach this one when the store answers again",
                        metadata: ["error": .string("\(error)")])
                }
            }
        }
    }
}
