import Foundation
import Storage
import Testing

/// The clauses of runs as a shared queue: fenced writes, leases kept by heartbeats, claims and
/// hand-backs, and the overlap `skip` check a tick's fires get in the store.
extension StoreContract {
    /// A fenced start applies to a queued run held by its owner or by no one, for the next attempt
    /// only; fenced notes and ends apply only while that owner's attempt runs. Everything else is
    /// refused, reported by id, and changes nothing, while the rest of the batch is written.
    public func fencedWrites() async throws {
        let store = try await makeStore()
        var mine = Self.run(nil)
        mine.owner = "ins_a"
        let free = Self.run(nil)
        var theirs = Self.run(nil)
        theirs.owner = "ins_b"
        #expect(try await store.insertRuns([mine, free, theirs]) == [mine.id, free.id, theirs.id])
        #expect(try await store.run(id: mine.id)?.owner == "ins_a")
        #expect(try await store.run(id: mine.id)?.attempt == 0)

        let at = Self.instant(1_717_200_001_000)
        let a1 = RunFence(owner: "ins_a", attempt: 1)
        let start = { (id: String, fence: RunFence) in
            RunUpdate.started(id: id, at: at, rootSpanID: "00000000000000aa", rootStartNanos: 7, fence: fence)
        }
        var result = try await store.writeRuns(
            insert: [],
            update: [
                start(mine.id, a1), start(free.id, a1), start(theirs.id, a1),
                start(mine.id, RunFence(owner: "ins_a", attempt: 3)),
            ])
        #expect(result.refused == [theirs.id, mine.id], "another's run, and an attempt out of turn, are refused")
        let started = try #require(try await store.run(id: free.id))
        #expect(started.state == .running && started.owner == "ins_a" && started.attempt == 1)
        #expect(try await store.run(id: theirs.id)?.state == .queued)
        #expect(try await store.run(id: mine.id)?.attempt == 1)

        // A start again, another owner's notes and end, a wrong attempt: refused; the owner's: written.
        result = try await store.writeRuns(
            insert: [],
            update: [
                start(free.id, a1),
                .nodes(id: free.id, json: "[9]", fence: RunFence(owner: "ins_b", attempt: 1)),
                .finished(
                    id: free.id, state: .failed, at: at, outputJSON: nil, error: "late", nodesJSON: nil,
                    fence: RunFence(owner: "ins_a", attempt: 2)),
                .nodes(id: free.id, json: "[1]", fence: a1),
            ])
        #expect(result.refused == [free.id])
        #expect(try await store.run(id: free.id)?.nodesJSON == "[1]")
        #expect(try await store.run(id: free.id)?.state == .running)
        result = try await store.writeRuns(
            insert: [],
            update: [
                .finished(
                    id: free.id, state: .succeeded, at: at, outputJSON: "{}", error: nil, nodesJSON: nil, fence: a1),
                .finished(
                    id: free.id, state: .failed, at: at, outputJSON: nil, error: "twice", nodesJSON: nil, fence: a1),
            ])
        #expect(result.refused == [free.id], "an ended run takes no fenced end")
        let ended = try #require(try await store.run(id: free.id))
        #expect(ended.state == .succeeded && ended.error == nil && ended.outputJSON == "{}")

        // Without a fence a change applies whoever holds the run, and a start keeps owner and attempt.
        result = try await store.writeRuns(
            insert: [],
            update: [
                .finished(id: theirs.id, state: .cancelled, at: at, outputJSON: nil, error: "asked", nodesJSON: nil)
            ])
        #expect(result.refused.isEmpty)
        #expect(try await store.run(id: theirs.id)?.state == .cancelled)

        // Many starts and ends in one write (a store may send them in one statement each): the same
        // fences, each run refused or written on its own.
        let one = Self.run(nil)
        let two = Self.run(nil)
        var held = Self.run(nil)
        held.owner = "ins_b"
        _ = try await store.insertRuns([one, two, held])
        result = try await store.writeRuns(
            insert: [],
            update: [
                start(one.id, a1), start(two.id, a1), start(held.id, a1),
                .finished(
                    id: one.id, state: .succeeded, at: at, outputJSON: "{\"n\":1}", error: nil, nodesJSON: "[]",
                    fence: a1),
                .finished(
                    id: held.id, state: .succeeded, at: at, outputJSON: nil, error: nil, nodesJSON: nil, fence: a1),
            ])
        #expect(result.refused == [held.id])
        let first = try #require(try await store.run(id: one.id))
        #expect(first.state == .succeeded && first.outputJSON == "{\"n\":1}" && first.nodesJSON == "[]")
        #expect(first.owner == "ins_a" && first.attempt == 1 && first.rootSpanID == "00000000000000aa")
        #expect(try await store.run(id: two.id)?.state == .running)
        #expect(try await store.run(id: held.id)?.state == .queued)

        // Ends of some runs and starts of others, the usual write of a busy daemon (a store may send
        // it as one statement without a transaction): each change still fenced on its own.
        let next = Self.run(nil)
        var taken = Self.run(nil)
        taken.owner = "ins_b"
        _ = try await store.insertRuns([next, taken])
        result = try await store.writeRuns(
            insert: [],
            update: [
                .finished(
                    id: two.id, state: .failed, at: at, outputJSON: nil, error: "boom", nodesJSON: "[2]", fence: a1),
                .finished(
                    id: held.id, state: .succeeded, at: at, outputJSON: nil, error: nil, nodesJSON: nil, fence: a1),
                start(next.id, a1), start(taken.id, a1),
            ])
        #expect(result.refused == [held.id, taken.id], "an end of a run never started, a start of another's run")
        let failed = try #require(try await store.run(id: two.id))
        #expect(failed.state == .failed && failed.error == "boom" && failed.nodesJSON == "[2]")
        let nextRun = try #require(try await store.run(id: next.id))
        #expect(nextRun.state == .running && nextRun.owner == "ins_a" && nextRun.attempt == 1)
        #expect(try await store.run(id: held.id)?.state == .queued)
        let takenRun = try #require(try await store.run(id: taken.id))
        #expect(takenRun.state == .queued && takenRun.owner == "ins_b" && takenRun.attempt == 0)
    }

    /// `heldRuns` lists an owner's queued and running runs; `expireLeases` interrupts the running runs
    /// of owners without a recent heartbeat (or none), frees their queued runs, and leaves live
    /// owners' runs alone, and the caller's own whatever its heartbeat; `claimQueued` takes the free queued runs oldest first, up to its limit;
    /// `releaseQueued` frees an owner's queued runs and leaves its running ones.
    public func leases() async throws {
        let store = try await makeStore()
        _ = try await store.heartbeat(
            InstanceRecord(id: "ins_live", host: "h", version: "1", startedAt: Self.reference))
        /// A queued run held by `owner`; the ones meant to run are started below.
        func held(_ owner: String?, serial: Int) -> RunRecord {
            var run = Self.run(nil, id: Self.runID(madeAt: Self.reference, serial: serial))
            run.owner = owner
            return run
        }
        let liveRunning = held("ins_live", serial: 1)
        let liveQueued = held("ins_live", serial: 2)
        let deadRunning = held("ins_dead", serial: 3)
        let deadQueued = held("ins_dead", serial: 4)
        let freeQueued = held(nil, serial: 5)
        // The caller's own runs, its heartbeat as old as the dead one's (it was cut off from the store).
        let selfRunning = held("ins_self", serial: 6)
        let selfQueued = held("ins_self", serial: 7)
        let runs = [liveRunning, liveQueued, deadRunning, deadQueued, freeQueued, selfRunning, selfQueued]
        _ = try await store.insertRuns(
            runs,
            update: [liveRunning, deadRunning, selfRunning].map {
                .started(
                    id: $0.id, at: Self.reference, rootSpanID: "00000000000000bb", rootStartNanos: 1,
                    fence: RunFence(owner: $0.owner ?? "", attempt: 1))
            })
        #expect(try await store.heldRuns(owner: "ins_live") == [liveRunning.id: .running, liveQueued.id: .queued])
        #expect(try await store.heldRuns(owner: "ins_dead") == [deadRunning.id: .running, deadQueued.id: .queued])

        let interrupted = try await store.expireLeases(silence: .seconds(30), sparing: "ins_self", error: "silent")
        #expect(interrupted.map(\.id) == [deadRunning.id])
        #expect(
            try await store.heldRuns(owner: "ins_self") == [selfRunning.id: .running, selfQueued.id: .queued],
            "the caller's own runs stay")
        #expect(interrupted.first?.state == .interrupted && interrupted.first?.error == "silent")
        #expect(interrupted.first?.rootSpanID == "00000000000000bb", "what closing its trace needs")
        #expect(try await store.heldRuns(owner: "ins_dead").isEmpty)
        #expect(try await store.run(id: deadQueued.id)?.owner == nil)
        #expect(try await store.run(id: liveRunning.id)?.state == .running)
        #expect(
            try await store.expireLeases(silence: .seconds(30), sparing: "ins_self", error: "silent").isEmpty, "once")

        let claimed = try await store.claimQueued(owner: "ins_live", limit: 1)
        #expect(claimed.map(\.id) == [deadQueued.id], "oldest first")
        #expect(claimed.first?.owner == "ins_live" && claimed.first?.state == .queued)
        #expect(try await store.claimQueued(owner: "ins_other", limit: 10).map(\.id) == [freeQueued.id])
        #expect(try await store.claimQueued(owner: "ins_other", limit: 10).isEmpty)
        #expect(try await store.claimQueued(owner: "ins_other", limit: 0).isEmpty)

        #expect(try await store.releaseQueued(owner: "ins_live") == 2)
        #expect(try await store.heldRuns(owner: "ins_live") == [liveRunning.id: .running])
        #expect(try await store.run(id: liveQueued.id)?.owner == nil)
        #expect(try await store.releaseQueued(owner: "ins_live") == 0)

        // Seen by another instance, the one that was cut off is silent like any other.
        let fromElsewhere = try await store.expireLeases(silence: .seconds(30), sparing: "ins_live", error: "silent")
        #expect(fromElsewhere.map(\.id) == [selfRunning.id])
        #expect(try await store.run(id: selfQueued.id)?.owner == nil)
    }

    /// A tick's fires of an overlap `skip` schedule are stored skipped, naming the other run, when the
    /// store has a run of that schedule queued or running that is not among them; other policies,
    /// and schedules with nothing in flight, store their runs queued.
    public func recordFiresSkip() async throws {
        let store = try await makeStore()
        let busy = Self.schedule("busy")
        let idle = Self.schedule("idle")
        let allowing = Self.schedule("allowing")
        try await store.applySchedules(insert: [busy, idle, allowing], update: [], delete: [])
        let going = Self.run(busy.id, dedupeKey: "k0")
        let alsoGoing = Self.run(allowing.id, dedupeKey: "k0")
        _ = try await store.insertRuns([going, alsoGoing])

        let skipped = Self.run(busy.id, dedupeKey: "k1")
        let queued = Self.run(idle.id, dedupeKey: "k1")
        let allowed = Self.run(allowing.id, dedupeKey: "k1")
        let result = try await store.recordFires([
            ScheduleFires(
                scheduleID: busy.id, runs: [skipped], cursor: 60, overlap: .skip),
            ScheduleFires(
                scheduleID: idle.id, runs: [queued], cursor: 60, overlap: .skip),
            ScheduleFires(
                scheduleID: allowing.id, runs: [allowed], cursor: 60,
                overlap: .allow),
        ])
        #expect(result.stored == [skipped.id, queued.id, allowed.id])
        #expect(result.skipped == [skipped.id: ScheduleFires.skipReason(running: going.id)])
        let stored = try #require(try await store.run(id: skipped.id))
        #expect(stored.state == .skipped && stored.error == ScheduleFires.skipReason(running: going.id))
        #expect(stored.finishedAt != nil, "a skipped run has ended, for retention")
        #expect(try await store.run(id: queued.id)?.state == .queued)
        #expect(try await store.run(id: allowed.id)?.state == .queued)
    }

    /// A `buffer-one` or `cancel-other` schedule's fires are stored by the instance that holds its
    /// queued or running runs: from any other they are reported busy and nothing of them is written,
    /// and a run of it held by no one is not claimed by another instance while one holds its others.
    /// `allow` schedules, and such schedules with nothing in flight, store from anyone.
    public func recordFiresHolder() async throws {
        let store = try await makeStore()
        var buffered = Self.schedule("buffered")
        buffered.overlap = .bufferOne
        var cancelling = Self.schedule("cancelling")
        cancelling.overlap = .cancelOther
        var idle = Self.schedule("idle")
        idle.overlap = .bufferOne
        let allowing = Self.schedule("allowing")
        try await store.applySchedules(insert: [buffered, cancelling, idle, allowing], update: [], delete: [])
        let at = Self.reference
        /// A run of `schedule` held by `owner`.
        func held(_ schedule: ScheduleRecord, _ owner: String?, key: String) -> RunRecord {
            var run = Self.run(schedule.id, dedupeKey: key)
            run.owner = owner
            return run
        }
        let running = held(buffered, "ins_b", key: "k0")
        let waiting = held(cancelling, "ins_b", key: "k0")
        let allowed = held(allowing, "ins_b", key: "k0")
        _ = try await store.insertRuns(
            [running, waiting, allowed],
            update: [
                .started(
                    id: running.id, at: at, rootSpanID: "00000000000000cc", rootStartNanos: 1,
                    fence: RunFence(owner: "ins_b", attempt: 1))
            ])

        let fires = { (owner: String) in
            [
                ScheduleFires(
                    scheduleID: buffered.id, runs: [held(buffered, owner, key: "k1")], cursor: 60, overlap: .bufferOne),
                ScheduleFires(
                    scheduleID: cancelling.id, runs: [held(cancelling, owner, key: "k1")], cursor: 60,
                    overlap: .cancelOther),
                ScheduleFires(
                    scheduleID: idle.id, runs: [held(idle, owner, key: "k1")], cursor: 60, overlap: .bufferOne),
                ScheduleFires(
                    scheduleID: allowing.id, runs: [held(allowing, owner, key: "k1")], cursor: 60, overlap: .allow),
            ]
        }
        let elsewhere = fires("ins_a")
        let result = try await store.recordFires(elsewhere)
        #expect(result.busy == [buffered.id, cancelling.id])
        #expect(result.stored == [elsewhere[2].runs[0].id, elsewhere[3].runs[0].id])
        #expect(try await store.run(id: elsewhere[0].runs[0].id) == nil)
        #expect(try await store.schedule(id: buffered.id)?.lastFireSeconds == nil, "nothing of it changed")

        let holder = fires("ins_b")
        let stored = try await store.recordFires(Array(holder.prefix(2)))
        #expect(stored.busy.isEmpty)
        #expect(stored.stored == [holder[0].runs[0].id, holder[1].runs[0].id])

        // A run of the buffered schedule handed back (held by no one): only its holder claims it.
        _ = try await store.writeRuns(
            insert: [held(buffered, nil, key: "k2")], update: [])
        #expect(try await store.claimQueued(owner: "ins_a", limit: 10).isEmpty)
        #expect(try await store.claimQueued(owner: "ins_b", limit: 10).count == 1)
    }
}
