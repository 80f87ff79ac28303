import Foundation
import Logging
import Storage
import Synchronization

// A graceful stop: no new fires or starts, running runs finish within the grace period (measured on
// the scheduler's clock), then the rest are cancelled; and `hurry`, which ends the grace early.

extension Scheduler {
    /// Ends the grace period now: running runs are cancelled (their scripts killed, their traces
    /// closed) instead of being waited for. What a second SIGTERM or Ctrl-C does; nothing before a
    /// stop has begun.
    public func hurry() {
        guard stopping, !active.isEmpty else { return }
        logger.warning(
            "asked again to stop: cancelling running runs now", metadata: ["running": .stringConvertible(active.count)])
        for run in active.values { run.signal.fire() }
    }

    /// Stops firing and admitting, waits up to the grace period for the running runs, cancels what is
    /// still running then, and ends the service's job stream once every run has ended. Queued runs
    /// stay queued in the store: for the next start, or, on a shared store, for the other instances.
    func drain() async {
        admission.close()
        stoppingFlag.store(true, ordering: .relaxed)
        wakeup.signal()
        stopSignal.fire()
        await handBackQueued()
        // Runs given a slot whose start the timer loop has not stored yet: they start now (the timer
        // loop ends with the admission closed), so that every run counted in `active` ends.
        await launchStarting()
        runsAtStop = active.count
        logger.info(
            "stopping: no new fires; waiting for running runs",
            metadata: [
                "running": .stringConvertible(active.count), "grace": .string("\(configuration.shutdownGrace)"),
            ])
        if !active.isEmpty {
            let clock = self.clock
            let grace = configuration.shutdownGrace
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await clock.sleep(for: grace) }
                group.addTask { await self.untilIdle() }
                await group.next()
                group.cancelAll()
            }
        }
        if !active.isEmpty {
            logger.warning(
                "grace period over: cancelling running runs", metadata: ["running": .stringConvertible(active.count)])
            for run in active.values { run.signal.fire() }
            while !active.isEmpty { await idle.wait() }
        }
        jobs?.finish()
    }

    /// On a shared store, hands the queued runs this instance holds back to the others, so that they
    /// start elsewhere instead of waiting for this instance's next start.
    func handBackQueued() async {
        guard configuration.membership.shared else { return }
        do {
            let count = try await store.releaseQueued(owner: configuration.membership.instanceID)
            if count > 0 {
                logger.info(
                    "handed queued runs back to the other instances", metadata: ["count": .stringConvertible(count)])
            }
        } catch {
            logger.warning(
                "cannot hand queued runs back; other instances take them once this one's lease has expired",
                metadata: ["error": .string("\(error)")])
        }
    }

    /// Returns once no run has a slot, or when the task is cancelled.
    func untilIdle() async {
        while !active.isEmpty && !Task.isCancelled { await idle.wait() }
    }
}
