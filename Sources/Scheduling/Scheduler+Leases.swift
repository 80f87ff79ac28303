import Foundation
import Logging
import Storage
import Support

// The scheduler's part in a shared store's run queue: it claims queued runs that no instance holds
// while it has free slots, interrupts the runs of instances that fell silent past the lease, and
// gives up runs it has lost (it was silent itself, and another instance took them over).

extension Scheduler {
    /// Until a stop, on a shared store: claims queued runs that no instance holds whenever a slot
    /// comes free with nothing waiting here for it (``claimWakeup``), and at least every
    /// ``Membership/claimInterval``; every lease check interval it also takes over silent instances'
    /// runs and checks that this instance still holds its own.
    func leaseLoop() async {
        let membership = configuration.membership
        let monotonic = ContinuousClock()
        var lastCheck: ContinuousClock.Instant?
        var lastCount: ContinuousClock.Instant?
        while admission.isOpen && !Task.isCancelled {
            if lastCheck.map({ monotonic.now - $0 >= membership.leaseCheckInterval }) ?? true {
                lastCheck = monotonic.now
                await checkLeases()
            }
            if lastCount.map({ monotonic.now - $0 >= Membership.claimInterval }) ?? true {
                lastCount = monotonic.now
                await countInstances()
            }
            await claimFree()
            let clock = self.clock
            let stop = stopSignal
            let claim = claimWakeup
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await clock.sleep(for: Membership.claimInterval) }
                group.addTask { await stop.wait() }
                group.addTask { await claim.wait() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// Counts the instances, this one included, whose heartbeat is within the lease
    /// (``liveInstances``). A failed count keeps the last one.
    func countInstances() async {
        let since = clock.now().addingTimeInterval(-configuration.membership.lease.timeInterval)
        do {
            let live = try await store.instances(seenSince: since)
            liveInstances = max(
                1, live.count + (live.contains { $0.id == configuration.membership.instanceID } ? 0 : 1))
        } catch {
            logger.debug("cannot count the live instances", metadata: ["error": .string("\(error)")])
        }
    }

    /// Claims queued runs that no instance holds, as many as this instance has free slots for, and
    /// admits them.
    func claimFree() async {
        // Slots given to fires being stored are taken already.
        let free = admission.freeSlots - slotsInFlight
        guard free > 0, admission.isOpen else { return }
        let claimed: [RunRecord]
        do {
            claimed = try await store.claimQueued(owner: configuration.membership.instanceID, limit: free)
        } catch {
            logger.warning("cannot claim queued runs from the store", metadata: ["error": .string("\(error)")])
            return
        }
        backlogLikely = claimed.count == free
        guard !claimed.isEmpty else { return }
        logger.info("claimed queued runs", metadata: ["count": .stringConvertible(claimed.count)])
        let now = clock.now()
        for run in claimed { enqueue(run, now: now) }
        await launchStarting()
    }

    /// Takes over the runs of instances silent past the lease (closing their traces), then gives up
    /// the runs this instance tracks that the store no longer has it holding: a running one is
    /// cancelled (its end will be refused), a waiting one withdrawn. Queued runs the store has it
    /// holding that it does not know of, at two checks in a row, it adopts (``adoptStrays(_:)``).
    func checkLeases() async {
        let membership = configuration.membership
        do {
            let interrupted = try await store.expireLeases(
                silence: membership.lease, sparing: membership.instanceID,
                error: Self.takenOver(lease: membership.lease), retry: interruptedRetries())
            await closeInterrupted(interrupted)
            // Their retries, stored free for any instance, are claimed like other free queued runs.
            if !interrupted.isEmpty { backlogLikely = true }
        } catch {
            logger.warning("cannot look for silent instances' runs", metadata: ["error": .string("\(error)")])
        }
        // Only runs tracked before the store is read can be missing from its answer for a reason,
        // and only when stored: a buffered fire is tracked from the moment it is planned.
        let tracked = admission.trackedIDs
        let storingBefore = storing
        let held: [String: RunState]
        do {
            held = try await store.heldRuns(owner: membership.instanceID)
        } catch {
            logger.warning("cannot read the runs this instance holds", metadata: ["error": .string("\(error)")])
            return
        }
        // And still tracked now: a run that ended while the store was read is not lost.
        let trackedNow = admission.trackedIDs
        let unstored = storingBefore.union(storing)
        let strays = Set(held.filter { $0.value == .queued }.keys).subtracting(tracked).subtracting(trackedNow)
            .subtracting(unstored).subtracting(journal.unsettledRunIDs)
        let adopting = strays.intersection(strayRuns)
        strayRuns = strays.subtracting(adopting)
        for id in tracked where held[id] == nil && trackedNow.contains(id) && !unstored.contains(id) {
            if let running = active[id] {
                // Its start may still be on its way to the store: only a started run can be lost.
                guard running.began != nil else { continue }
                cancelReasons[id] = "cancelled: another instance took this run over while this one was silent"
                running.signal.fire()
                logger.warning(
                    "this instance lost a running run to another instance (it was silent past its lease); cancelling it here",
                    metadata: ["run_id": .string(id)])
            } else if let waiting = admission.waitingRun(id) {
                admission.withdraw(id, scheduleID: waiting.scheduleID)
                logger.warning(
                    "this instance lost a queued run to another instance; leaving it to that one",
                    metadata: ["run_id": .string(id)])
            }
        }
        // After the lost runs, which are judged on what was tracked around the read.
        if !adopting.isEmpty { await adoptStrays(adopting) }
    }

    /// Admits queued runs the store has this instance holding that it had lost track of: a write that
    /// stored them (a tick's fires, a webhook's run) failed for its caller because the connection
    /// went before the store's answer came. Left alone, they would wait for ever, since this
    /// instance's heartbeat keeps them its own. Each is read again and admitted only if it is still
    /// queued, held here and unknown here.
    func adoptStrays(_ ids: Set<String>) async {
        var adopted: [RunRecord] = []
        for id in ids.sorted() {
            guard let run = try? await store.run(id: id), run.state == .queued,
                run.owner == configuration.membership.instanceID
            else { continue }
            adopted.append(run)
        }
        let unsettled = journal.unsettledRunIDs
        let known = admission.trackedIDs.union(storing).union(unsettled)
        adopted.removeAll { known.contains($0.id) }
        guard !adopted.isEmpty else { return }
        logger.warning(
            "found queued runs this instance holds in the store but did not know of (a write was stored though its answer was lost with the connection); running them",
            metadata: [
                "count": .stringConvertible(adopted.count),
                "run_ids": .string(adopted.map(\.id).joined(separator: ",")),
            ])
        let now = clock.now()
        for run in adopted { enqueue(run, now: now) }
        await launchStarting()
    }
}
