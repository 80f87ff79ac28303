import ClockTesting
import Foundation
import Logging
import SchedulerTesting
import Scheduling
import ServiceLifecycleTestKit
import Storage
import Testing

/// A graceful stop on a manual clock: the grace period is measured on the scheduler's clock, so a
/// test moves the clock past it instead of waiting for it.
@Suite("Scheduler stopping on a manual clock", .timeLimit(.minutes(1)))
struct SchedulerDrainTests {
    /// An hour: a stop that waited for it in real time would fail the suite's time limit.
    static let graceSeconds: Int64 = 3600

    /// Starts a scheduler whose runs are held, submits one manual run, waits until the executor
    /// holds it, triggers a graceful stop, and waits until the stop sleeps on the clock for the
    /// grace period; then hands over to `body`.
    func whileStopping(
        _ body: (SchedulerHarness, RunRecord) async throws -> Void
    ) async throws {
        try await testGracefulShutdown { trigger in
            let h = try await SchedulerHarness.start(holding: true, shutdownGrace: .seconds(Self.graceSeconds))
            try await stopping(h) { h in
                // A run submitted before the start would wait for a slot to come free: start first.
                try await eventually("the scheduler has started") { await h.scheduler.firing }
                let submitted = try await h.scheduler.submit(
                    RunRecord(scheduleID: nil, workflow: "w", trigger: "manual", queuedAt: h.clock.now()))
                let run = try #require(submitted)
                try await eventually("the executor holds the run") { h.executor.waitingCount == 1 }
                let graceEnd = h.clock.now().addingTimeInterval(Double(Self.graceSeconds))
                trigger.triggerGracefulShutdown()
                try await eventually("the stop sleeps on the clock until the grace ends") {
                    h.clock.nextDeadline == graceEnd
                }
                #expect(h.scheduler.stopping)
                #expect(await h.scheduler.runsAtStop == 1)
                #expect(try await h.store.run(id: run.id)?.state == .running)
                try await body(h, run)
            }
        }
    }

    @Test("moving the clock past the grace period cancels the running run, and the scheduler stops")
    func graceOnTheClock() async throws {
        try await whileStopping { h, run in
            h.clock.advance(by: Double(Self.graceSeconds))
            try await eventually("the run is cancelled") { try await h.store.run(id: run.id)?.state == .cancelled }
            try await h.task.value
            #expect(await h.scheduler.firing == false)
        }
    }

    @Test("a run that ends within the grace period ends the stop without the clock moving")
    func endsWithinGrace() async throws {
        try await whileStopping { h, run in
            let before = h.clock.now()
            h.executor.release(run.id)
            try await eventually("the stop no longer sleeps on the clock") { h.clock.sleeperCount == 0 }
            try await h.task.value
            #expect(try await h.store.run(id: run.id)?.state == .succeeded)
            #expect(h.clock.now() == before)
        }
    }

    @Test("hurry ends the grace period at once: the running run is cancelled")
    func hurry() async throws {
        try await whileStopping { h, run in
            await h.scheduler.hurry()
            try await eventually("the run is cancelled") { try await h.store.run(id: run.id)?.state == .cancelled }
            try await h.task.value
            #expect(h.clock.sleeperCount == 0)
        }
    }

    @Test("untilFiring returns once the scheduler fires, at once after that, and when it stops without firing")
    func untilFiring() async throws {
        let h = try await SchedulerHarness.start()
        await stopping(h) { h in
            await h.scheduler.untilFiring()
            #expect(await h.scheduler.firing)
            await h.scheduler.untilFiring()  // fires already: returns at once
        }
        // A waiter that came before the start is let go when the scheduler fires; one that comes
        // after the scheduler has stopped returns at once.
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("sched-\(UUID().uuidString).sqlite")
                .path)
        let scheduler = Scheduler(
            store: store, clock: ManualClock(SchedulerHarness.epoch), executor: ControlledExecutor(),
            configuration: SchedulerConfiguration(maxConcurrentRuns: 1), logger: Logger(label: "test"))
        let early = Task { await scheduler.untilFiring() }
        let running = Task { try await scheduler.run() }
        await early.value
        #expect(await scheduler.firing)
        running.cancel()
        _ = try? await running.value
        await scheduler.untilFiring()
        #expect(await scheduler.firing == false)
    }
}
