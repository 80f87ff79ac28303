import Cron
import Foundation
import Logging
import Storage
import Support

// What a start finds: runs a crash left `running` (interrupted, their traces closed), runs left
// `queued` (resumed), and the schedules that fire once at every start (`@reboot`).

extension Scheduler {
    /// What a start takes back. Alone on the store: every run a previous process left `running` is
    /// `interrupted` (its trace closed, and retried when its schedule says so) and every queued run
    /// resumes here. On a shared store: only the
    /// runs of instances silent past the lease are taken over, and this instance claims the queued
    /// runs no one holds for its free slots.
    /// - Returns: the queued runs to admit.
    /// - Throws: when the store cannot be read or written.
    func recover() async throws -> [RunRecord] {
        let membership = configuration.membership
        let interrupted = try await store.expireLeases(
            silence: membership.shared ? membership.lease : .zero, sparing: membership.instanceID,
            error: membership.shared ? Self.takenOver(lease: membership.lease) : Self.stoppedWhileRunning,
            retry: interruptedRetries())
        await closeInterrupted(interrupted)
        let limit = membership.shared ? configuration.maxConcurrentRuns : Int(Int32.max)
        let queued = try await store.claimQueued(owner: membership.instanceID, limit: limit)
        // A claim that filled every slot likely left more behind: the first slot to free claims again.
        backlogLikely = membership.shared && queued.count == limit
        if !queued.isEmpty {
            logger.info("resuming queued runs", metadata: ["count": .stringConvertible(queued.count)])
        }
        return queued
    }

    /// A run's error when the daemon alone on its store stopped while it ran.
    static let stoppedWhileRunning = "the daemon stopped while this run was going; found at the next start"

    /// A run's error when the instance running it fell silent on a shared store.
    static func takenOver(lease: Duration) -> String {
        "the instance running it sent no heartbeat for \(DurationText.format(lease)); another instance took its runs over"
    }

    /// Closes the traces of runs the store made `interrupted`, logs each, and alerts for those that
    /// their schedule does not retry.
    func closeInterrupted(_ runs: [RunRecord]) async {
        guard !runs.isEmpty else { return }
        configuration.metrics.tookOver(runs.count)
        for run in runs {
            await executor.closeInterrupted(run)
            let retried =
                retryPolicy(scheduleID: run.scheduleID)?.retries(.interrupted, attempt: run.fireAttempt) ?? false
            await alertOnEnd(run, state: .interrupted, error: run.error, retried: retried, at: clock.now())
            logger.warning(
                configuration.membership.shared
                    ? "run interrupted: the instance running it fell silent" : "run interrupted by a daemon stop",
                metadata: [
                    "run_id": .string(run.id), "schedule_id": .string(run.scheduleID ?? ""),
                    "owner": .string(run.owner ?? ""),
                ])
        }
    }

    /// Submits one run of every unpaused `@reboot` schedule, keyed by this start's second so that a
    /// second pass over the same start stores nothing.
    func fireRebootSchedules() async {
        let now = clock.now()
        let bootKey = "reboot:" + String(now.unixSeconds(.towardZero))
        for entry in entries.values where entry.expression?.isReboot == true && !entry.schedule.paused {
            let run = RunRecord(
                scheduleID: entry.schedule.id, workflow: entry.schedule.workflow, trigger: "reboot",
                dedupeKey: bootKey, queuedAt: now, inputJSON: entry.schedule.inputJSON)
            _ = try? await submit(run, overlap: entry.schedule.overlap)
        }
    }
}
