import Cron
import Foundation
import Logging
import Storage

// What a start finds: runs a crash left `running` (interrupted, their traces closed), runs left
// `queued` (resumed), and the schedules that fire once at every start (`@reboot`).

extension Scheduler {
    /// Runs left `running` by a crash become `interrupted`, their traces closed; queued runs are
    /// returned to be started again.
    /// - Throws: when the store cannot be read or written.
    func recover() async throws -> [RunRecord] {
        let now = clock.now()
        let running = try await store.runs(in: [.running])
        try await store.updateRuns(
            running.map {
                .finished(
                    id: $0.id, state: .interrupted, at: now, outputJSON: nil,
                    error: "the daemon stopped while this run was going; found at the next start", nodesJSON: nil)
            })
        for run in running {
            await executor.closeInterrupted(run)
            logger.warning(
                "run interrupted by a daemon stop",
                metadata: ["run_id": .string(run.id), "schedule_id": .string(run.scheduleID ?? "")])
        }
        let queued = try await store.runs(in: [.queued])
        if !queued.isEmpty {
            logger.info("resuming queued runs", metadata: ["count": .stringConvertible(queued.count)])
        }
        return queued
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
