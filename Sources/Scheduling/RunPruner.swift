import Foundation
import Logging
import ServiceLifecycle
import Storage

/// Deletes finished runs older than the retention, with their artifact folders, and alerts as old
/// that are no longer pending: once shortly after the start, then every hour. Webhook deliveries are deduplicated through their runs, so the
/// retention is never below ``minimumRetention``. It waits, and reads the time, on an injected clock.
///
/// ```swift
/// let pruner = RunPruner(store: store, retention: .seconds(30 * 86400), artifacts: artifacts, logger: logger)
/// // a service of the daemon's group; or one pass now:
/// await pruner.prune(now: Date())
/// ```
public struct RunPruner: Service {
    /// Webhook delivery ids are kept at least this long.
    public static let minimumRetention: Duration = .seconds(72 * 3600)

    let store: any SchedulerStore
    let retention: Duration
    /// `<data-dir>/artifacts`: each run's artifacts are in a folder named after its id.
    let artifacts: URL
    let firstDelay: Duration
    let interval: Duration
    let clock: any WallClock
    let logger: Logger

    /// A pruner that starts its passes once run as a service.
    /// - Parameters:
    ///   - store: where the runs are deleted.
    ///   - retention: how long a finished run is kept (the caller keeps it at least
    ///     ``minimumRetention``).
    ///   - artifacts: the folder holding each run's artifacts in a folder named after its id.
    ///   - firstDelay: the wait before the first pass.
    ///   - interval: the wait between passes.
    ///   - clock: what the waits and the passes' "now" are read from.
    ///   - logger: where deletions and failures are logged.
    public init(
        store: any SchedulerStore, retention: Duration, artifacts: URL, firstDelay: Duration = .seconds(60),
        interval: Duration = .seconds(3600), clock: any WallClock = SystemWallClock(), logger: Logger
    ) {
        self.store = store
        self.retention = retention
        self.artifacts = artifacts
        self.firstDelay = firstDelay
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    /// Prunes after the first delay, then after every interval, until a graceful shutdown or
    /// cancellation.
    public func run() async throws {
        var delay = firstDelay
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let wait = delay
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(for: wait) }
            } catch {
                return
            }
            delay = interval
            await prune(now: clock.now())
        }
    }

    /// One pass: every finished run that ended before `now - retention`, in batches, and the alerts
    /// made before then that are no longer pending.
    /// - Returns: how many runs were deleted.
    @discardableResult
    public func prune(now: Date) async -> Int {
        let cutoff = now.adding(.zero - retention)
        var deleted = 0
        do {
            while true {
                let ids = try await store.deleteRuns(finishedBefore: cutoff, limit: 1000)
                for id in ids {
                    try? FileManager.default.removeItem(at: artifacts.appendingPathComponent(id))
                }
                deleted += ids.count
                if ids.count < 1000 { break }
            }
        } catch {
            logger.error("cannot delete old runs", metadata: ["error": .string("\(error)")])
        }
        var alerts = 0
        do {
            while true {
                let count = try await store.deleteAlerts(createdBefore: cutoff, limit: 1000)
                alerts += count
                if count < 1000 { break }
            }
        } catch {
            logger.error("cannot delete old alerts", metadata: ["error": .string("\(error)")])
        }
        if alerts > 0 {
            logger.info(
                "deleted old alerts", metadata: ["alerts": .stringConvertible(alerts)])
        }
        if deleted > 0 {
            logger.info(
                "deleted old runs and their artifacts",
                metadata: [
                    "runs": .stringConvertible(deleted),
                    "finished_before": .string(cutoff.formatted(Date.ISO8601FormatStyle())),
                ])
        }
        return deleted
    }
}
