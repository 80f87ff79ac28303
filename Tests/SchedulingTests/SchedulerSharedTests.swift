import ClockTesting
import Foundation
import SchedulerTesting
import Scheduling
import ServiceLifecycleTestKit
import Storage
import Testing

/// A scheduler on a store it shares with other daemons (``Membership/shared``), on a manual clock
/// that never moves here: what happens does not wait for the once-a-second poll.
@Suite("Scheduler on a shared store", .timeLimit(.minutes(1)))
struct SchedulerSharedTests {
    /// A shared membership whose lease outlasts any test here: the instances' heartbeats are stored
    /// once, by ``beat(_:in:)``, and a test slowed down past a 30 s lease would see its instances
    /// take each other's runs over.
    static func membership() -> Membership { Membership(shared: true, lease: .seconds(600)) }

    /// Stores a heartbeat for `membership`'s instance: without one, its own lease check would find it
    /// silent and take its runs over.
    static func beat(_ membership: Membership, in store: any SchedulerStore) async throws {
        _ = try await store.heartbeat(
            InstanceRecord(id: membership.instanceID, host: "test", version: "test", startedAt: Date()))
    }

    @Test("a stop hands the queued runs back to the other instances, held by no one; the running one stays held")
    func stopHandsQueuedBack() async throws {
        try await testGracefulShutdown { trigger in
            let membership = Self.membership()
            let store = try SQLiteStore(
                path: FileManager.default.temporaryDirectory.appendingPathComponent("shared-\(UUID()).sqlite").path)
            try await Self.beat(membership, in: store)
            let h = try await SchedulerHarness.start(
                store: store, holding: true, maxConcurrentRuns: 1, membership: membership)
            try await stopping(h) { h in
                try await eventually("the scheduler has started") { await h.scheduler.firing }
                var ids: [String] = []
                for _ in 0..<3 {
                    let run = try await h.scheduler.submit(
                        RunRecord(scheduleID: nil, workflow: "w", trigger: "manual", queuedAt: h.clock.now()))
                    ids.append(try #require(run).id)
                }
                try await eventually("the executor holds the first run") { h.executor.waitingCount == 1 }
                #expect(try await h.store.heldRuns(owner: membership.instanceID).count == 3)

                trigger.triggerGracefulShutdown()
                try await eventually("the queued runs are handed back") {
                    try await h.store.heldRuns(owner: membership.instanceID) == [ids[0]: .running]
                }
                #expect(try await h.store.run(id: ids[1])?.owner == nil)
                #expect(try await h.store.run(id: ids[2])?.state == .queued)
                h.executor.release(ids[0])
                try await h.task.value
            }
        }
    }

    /// A harness of `membership`'s instance with one slot and four every-minute schedules on a store
    /// of its own, where it and `peers` other instances have sent a heartbeat.
    static func minutely(_ membership: Membership, peers: Int) async throws -> SchedulerHarness {
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("shared-\(UUID()).sqlite").path)
        try await beat(membership, in: store)
        for _ in 0..<peers { try await beat(Self.membership(), in: store) }
        let schedules = (0..<4).map { i in
            ScheduleRecord(
                name: "m\(i)", cron: "* * * * *", workflow: "w", createdAt: SchedulerHarness.epoch,
                updatedAt: SchedulerHarness.epoch)
        }
        return try await SchedulerHarness.start(
            store: store, holding: true, maxConcurrentRuns: 1, schedules: schedules, membership: membership)
    }

    @Test("alone on a shared store, a daemon keeps every fire of a tick, past its free slots: none waits for a claim")
    func aloneKeepsAll() async throws {
        let membership = Self.membership()
        let h = try await Self.minutely(membership, peers: 0)
        try await stopping(h) { h in
            try await h.advance(seconds: 60)
            try await eventually("the executor holds the first run") { h.executor.waitingCount == 1 }
            let runs = try await h.runs()
            #expect(runs.count == 4 && runs.allSatisfy { $0.owner == membership.instanceID })
            #expect(try await h.store.heldRuns(owner: membership.instanceID).count == 4)
        }
    }

    @Test("with another live instance, a daemon keeps what its free slots take and one in two of the rest")
    func sharesWithPeers() async throws {
        let membership = Self.membership()
        let h = try await Self.minutely(membership, peers: 1)
        try await stopping(h) { h in
            try await eventually("both instances are counted") { await h.scheduler.liveInstanceCount == 2 }
            try await h.advance(seconds: 60)
            try await eventually("the executor holds the first run") { h.executor.waitingCount == 1 }
            let runs = try await h.runs()
            #expect(runs.count == 4)
            // The slot's run, then of the three past it the second: kept; the first and third: shared.
            #expect(runs.filter { $0.owner == membership.instanceID }.count == 2)
            #expect(runs.filter { $0.owner == nil && $0.state == .queued }.count == 2)
        }
    }

    @Test(
        "with another live instance storing the same tick, a daemon keeps every fire of the batches after it learns so"
    )
    func keepsAllWhileOthersStore() async throws {
        let membership = Self.membership()
        let peer = Self.membership()
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("shared-\(UUID()).sqlite").path)
        try await Self.beat(membership, in: store)
        try await Self.beat(peer, in: store)
        // 200 every-minute schedules, and a buffer-one one whose run the peer holds: the store reports
        // that one busy, as it does a schedule another instance is storing. Made later, it has the
        // shortest period and so is in the tick's first batch (32 schedules; then 64, then the rest).
        let plain = (0..<200).map { i in
            ScheduleRecord(
                name: "m\(i)", cron: "* * * * *", workflow: "w", createdAt: SchedulerHarness.epoch,
                updatedAt: SchedulerHarness.epoch)
        }
        let held = ScheduleRecord(
            name: "held", cron: "* * * * *", workflow: "w", overlap: .bufferOne,
            createdAt: SchedulerHarness.epoch.addingTimeInterval(30), updatedAt: SchedulerHarness.epoch)
        var peersRun = RunRecord(
            scheduleID: held.id, workflow: "w", trigger: "manual", queuedAt: SchedulerHarness.epoch)
        peersRun.owner = peer.instanceID
        try await store.insertSchedule(held)
        _ = try await store.insertRun(peersRun)
        let h = try await SchedulerHarness.start(
            store: store, holding: true, maxConcurrentRuns: 1, schedules: plain, membership: membership)
        let heldID = held.id
        let ownID = membership.instanceID
        try await stopping(h) { h in
            try await eventually("both instances are counted") { await h.scheduler.liveInstanceCount == 2 }
            try await h.advance(seconds: 60)
            try await eventually("the executor holds the first run") { h.executor.waitingCount == 1 }
            // The first run starts while the later batches are still being stored. (Polled here
            // rather than with `eventually`: that closure crashes Swift 6.3.1's SendNonSendable pass.)
            let deadline = ContinuousClock.now + .seconds(60)
            var runs = try await h.runs().filter { $0.scheduleID != heldID }
            while runs.count < 200 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                runs = try await h.runs().filter { $0.scheduleID != heldID }
            }
            #expect(runs.count == 200)
            // The first batch was stored before the store's answer came: one in two past the slot is
            // left to the others. From the second on, every run is kept (one in two, ~99, otherwise).
            let unowned = runs.filter { $0.owner == nil }
            #expect(unowned.count > 0 && unowned.count < 32, "\(unowned.count) runs held by no one")
            #expect(runs.filter { $0.owner == ownID }.count == 200 - unowned.count)
        }
    }

    @Test(
        "buffer-one across two instances: the one running the schedule's run stores and buffers the next fire; the other stores nothing"
    )
    func bufferOneAcrossInstances() async throws {
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("shared-\(UUID()).sqlite").path)
        let schedule = ScheduleRecord(
            name: "buffered", cron: "* * * * *", workflow: "w", overlap: .bufferOne, createdAt: SchedulerHarness.epoch,
            updatedAt: SchedulerHarness.epoch)
        try await store.insertSchedule(schedule)
        let first = Self.membership()
        let second = Self.membership()
        try await Self.beat(first, in: store)
        try await Self.beat(second, in: store)
        let a = try await SchedulerHarness.start(store: store, holding: true, membership: first)
        let b = try await SchedulerHarness.start(store: store, holding: true, membership: second)
        try await stopping(a) { a in
            try await stopping(b) { b in
                // The first fire: stored and run by the first instance.
                try await a.advance(seconds: 60)
                try await eventually("the first instance runs the first fire") { a.executor.waitingCount == 1 }
                // The second fire reaches the other instance first: the schedule's run is held by the
                // first, so it stores nothing and plans the fire again a second later.
                try await b.advance(seconds: 120)
                #expect(try await store.runs(scheduleID: schedule.id, limit: 10, before: nil).count == 1)
                // The first instance stores it, buffered behind its running run.
                try await a.advance(seconds: 60)
                try await b.advance(seconds: 1)
                let runs = try await store.runs(scheduleID: schedule.id, limit: 10, before: nil)
                #expect(runs.count == 2)
                #expect(runs.allSatisfy { $0.owner == first.instanceID })
                #expect(runs.filter { $0.state == .queued }.count == 1, "the second waits for the first")
                #expect(b.executor.started.isEmpty)
                #expect(a.executor.started.count == 1)
            }
        }
    }

    @Test("a slot that frees while queued runs held by no one wait claims one at once, without the poll")
    func freedSlotClaims() async throws {
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("shared-\(UUID()).sqlite").path)
        let waiting = (0..<3).map { _ in RunRecord(scheduleID: nil, workflow: "w", trigger: "manual") }
        _ = try await store.insertRuns(waiting)
        let membership = Self.membership()
        try await Self.beat(membership, in: store)
        let h = try await SchedulerHarness.start(
            store: store, holding: true, maxConcurrentRuns: 1, membership: membership)
        try await stopping(h) { h in
            try await eventually("the start claims one run and runs it") { h.executor.waitingCount == 1 }
            let first = try #require(h.executor.started.first)
            h.executor.release(first.id)
            // The clock stays where it is: only the freed slot can have claimed the next run.
            try await eventually("the freed slot claims and starts the next run") { h.executor.started.count == 2 }
            try await eventually("the first run's end is stored") {
                try await h.store.run(id: first.id)?.state == .succeeded
            }
            #expect(try await h.store.heldRuns(owner: membership.instanceID).count == 1)
        }
    }
}
