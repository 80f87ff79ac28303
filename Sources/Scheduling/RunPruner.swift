import Foundation
import Logging
import ServiceLifecycle
import Storage

/// Deletes finished runs older than the retention, with their artifact folders: once shortly after
/// the start, then every hour. Webhook deliveries are deduplicated through their runs, so the
/// retention is never below ``minimumRetention``.
public struct RunPruner: Service {
    /// Webhook delivery ids are kept at least this long.
    public static let minimumRetention: Duration = .seconds(72 * 3600)

    let store: any SchedulerStore
    let retention: Duration
    /// `<data-dir>/artifacts`: each run's artifacts are in a folder named after its id.
    let artifacts: URL
    let firstDelay: Duration
    let interval: Duration
    let logger: Logger

    public init(
        store: any SchedulerStore, retention: Duration, artifacts: URL, firstDelay: Duration = .seconds(60),
        interval: Duration = .seconds(3600), logger: Logger
    ) {
        self.store = store
        self.retention = retention
        self.artifacts = artifacts
        self.firstDelay = firstDelay
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var delay = firstDelay
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let wait = delay
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            } catch {
                return
            }
            delay = interval
            await prune(now: Date())
        }
    }

    /// One pass: every finished run that ended before `now - retention`, in batches.
    /// - Returns: how many runs were deleted.
    @discardableResult
    public func prune(now: Date) async -> Int {
        let cutoff = now.addingTimeInterval(-Double(retention.components.seconds))
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
