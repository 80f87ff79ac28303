import ClockTesting
import Foundation
import Logging
import SchedulerTesting
import Scheduling
import Storage
import Synchronization
import Testing

/// A store that refuses every run write while it is `down`, and any that changes a run in
/// `refusing`; while `losingAnswers`, it stores new runs but reports a failure, as when the
/// connection goes after the commit. It passes everything else to SQLite.
final class OutageStore: SchedulerStore {
    let base: SQLiteStore
    private let isDown = Mutex(false)
    private let losesAnswers = Mutex(false)
    private let holdsFires = Mutex(false)
    private let refusedWrites = Mutex(0)
    private let refusedRuns = Mutex<Set<String>>([])

    init(base: SQLiteStore) { self.base = base }

    /// Whether run writes fail now.
    var down: Bool {
        get { isDown.withLock { $0 } }
        set { isDown.withLock { $0 = newValue } }
    }

    /// Whether writes of new runs are stored but answered with a failure.
    var losingAnswers: Bool {
        get { losesAnswers.withLock { $0 } }
        set { losesAnswers.withLock { $0 = newValue } }
    }

    /// Whether a tick's fires wait, unstored, until this is false again (a store that does not answer).
    var holdingFires: Bool {
        get { holdsFires.withLock { $0 } }
        set { holdsFires.withLock { $0 = newValue } }
    }

    /// How many run writes failed so far.
    var failures: Int { refusedWrites.withLock { $0 } }

    /// Runs whose changes the store refuses, while it takes the others' (a change it cannot write).
    var refusing: Set<String> {
        get { refusedRuns.withLock { $0 } }
        set { refusedRuns.withLock { $0 = newValue } }
    }

    func writeRuns(insert: [RunRecord], update: [RunUpdate]) async throws -> RunWriteResult {
        let refusing = self.refusing
        if update.contains(where: { refusing.contains($0.runID) }) {
            refusedWrites.withLock { $0 += 1 }
            throw StorageError(code: .database, message: "the store refuses this change (a test's poisoned run)")
        }
        if down {
            refusedWrites.withLock { $0 += 1 }
            throw StorageError(code: .database, message: "the store is away (a test's outage)")
        }
        let result = try await base.writeRuns(insert: insert, update: update)
        if losingAnswers && !insert.isEmpty {
            throw StorageError(
                code: .database, message: "the connection closed before the store answered (a test's lost answer)")
        }
        return result
    }

    func insertSchedule(_ schedule: ScheduleRecord) async throws { try await base.insertSchedule(schedule) }
    func updateSchedule(_ schedule: ScheduleRecord) async throws { try await base.updateSchedule(schedule) }
    func deleteSchedule(id: String) async throws -> Bool { try await base.deleteSchedule(id: id) }
    func applySchedules(insert: [ScheduleRecord], update: [ScheduleRecord], delete: [String]) async throws {
        try await base.applySchedules(insert: insert, update: update, delete: delete)
    }
    func schedule(id: String) async throws -> ScheduleRecord? { try await base.schedule(id: id) }
    func schedule(named name: String) async throws -> ScheduleRecord? { try await base.schedule(named: name) }
    func schedules() async throws -> [ScheduleRecord] { try await base.schedules() }
    func ping() async throws { try await base.ping() }
    func scheduleRevision() async throws -> ScheduleRevision { try await base.scheduleRevision() }
    func followScheduleChanges(
        listening: @escaping @Sendable () -> Void, changed: @escaping @Sendable (ScheduleChangeNotice) async -> Void
    ) async throws -> Bool {
        try await base.followScheduleChanges(listening: listening, changed: changed)
    }
    func recordFires(_ fires: [ScheduleFires]) async throws -> RunWriteResult {
        while holdingFires { try await Task.sleep(for: .milliseconds(10)) }
        return try await base.recordFires(fires)
    }
    func insertRun(_ run: RunRecord) async throws -> Bool { try await base.insertRun(run) }
    func run(scheduleID: String, dedupeKey: String) async throws -> RunRecord? {
        try await base.run(scheduleID: scheduleID, dedupeKey: dedupeKey)
    }
    func run(id: String) async throws -> RunRecord? { try await base.run(id: id) }
    func runs(scheduleID: String?, limit: Int, before: String?) async throws -> [RunRecord] {
        try await base.runs(scheduleID: scheduleID, limit: limit, before: before)
    }
    func runs(in states: Set<RunState>) async throws -> [RunRecord] { try await base.runs(in: states) }
    func runCounts() async throws -> [RunState: Int] { try await base.runCounts() }
    func runTally(since: Date) async throws -> [RunTally] { try await base.runTally(since: since) }
    func runSummaries(scheduleIDs: [String], limit: Int, before: String?) async throws -> [String: [RunSummary]] {
        try await base.runSummaries(scheduleIDs: scheduleIDs, limit: limit, before: before)
    }
    func activeRuns(limit: Int) async throws -> (runs: [RunSummary], total: Int) {
        try await base.activeRuns(limit: limit)
    }
    func deleteRuns(finishedBefore cutoff: Date, limit: Int) async throws -> [String] {
        try await base.deleteRuns(finishedBefore: cutoff, limit: limit)
    }
    func latestRuns() async throws -> [String: RunRecord] { try await base.latestRuns() }
    func heldRuns(owner: String) async throws -> [String: RunState] { try await base.heldRuns(owner: owner) }
    func expireLeases(
        silence: Duration, sparing: String?, error: String, retry: @escaping @Sendable (RunRecord) -> RunRecord?
    ) async throws -> [RunRecord] {
        try await base.expireLeases(silence: silence, sparing: sparing, error: error, retry: retry)
    }
    func claimQueued(owner: String, limit: Int) async throws -> [RunRecord] {
        try await base.claimQueued(owner: owner, limit: limit)
    }
    func releaseQueued(owner: String) async throws -> Int { try await base.releaseQueued(owner: owner) }
    func insertAlerts(_ alerts: [AlertRecord]) async throws -> Set<String> { try await base.insertAlerts(alerts) }
    func recordStreak(scheduleID: String, failing: Bool, at: Date, alerts: [AlertRecord]) async throws -> Bool {
        try await base.recordStreak(scheduleID: scheduleID, failing: failing, at: at, alerts: alerts)
    }
    func claimAlerts(now: Date, lease: Duration, limit: Int) async throws -> [AlertRecord] {
        try await base.claimAlerts(now: now, lease: lease, limit: limit)
    }
    func settleAlert(id: String, _ delivery: AlertDelivery) async throws {
        try await base.settleAlert(id: id, delivery)
    }
    func alerts(scheduleID: String?, limit: Int, before: String?) async throws -> [AlertRecord] {
        try await base.alerts(scheduleID: scheduleID, limit: limit, before: before)
    }
    func deleteAlerts(createdBefore cutoff: Date, limit: Int) async throws -> Int {
        try await base.deleteAlerts(createdBefore: cutoff, limit: limit)
    }
    func heartbeat(_ instance: InstanceRecord) async throws -> Date { try await base.heartbeat(instance) }
    func instances(seenSince since: Date) async throws -> [InstanceRecord] {
        try await base.instances(seenSince: since)
    }
    func removeInstance(id: String) async throws -> Bool { try await base.removeInstance(id: id) }
}

@Suite("the scheduler while its store is away")
struct SchedulerOutageTests {
    @Test(
        "a timer waiting on the store with fires due is unhealthy past its patience, and healthy once they are stored")
    func timerProblem() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stuck-\(UUID()).sqlite").path
        let store = OutageStore(base: try SQLiteStore(path: path))
        let schedule = ScheduleRecord(
            name: "s", cron: "* * * * * *", workflow: "w",
            lastFireSeconds: Int64(SchedulerHarness.epoch.timeIntervalSince1970))
        try await store.insertSchedule(schedule)
        var logger = Logger(label: "test.stuck")
        logger.logLevel = .critical
        let clock = ManualClock(SchedulerHarness.epoch)
        let scheduler = Scheduler(
            store: store, clock: clock, executor: ControlledExecutor(holding: false), logger: logger)
        let task = Task { try await scheduler.run() }
        defer { task.cancel() }
        try await eventually("the scheduler has started") { await scheduler.firing }
        #expect(await scheduler.timerProblem(patience: .milliseconds(200)) == nil)

        store.holdingFires = true
        clock.advance(by: 1)
        try await eventually("the timer is unhealthy") {
            await scheduler.timerProblem(patience: .milliseconds(200))?.contains("on the store") == true
        }
        store.holdingFires = false
        try await eventually("the timer is healthy again") {
            await scheduler.timerProblem(patience: .milliseconds(200)) == nil
        }
        #expect(try await store.runs(scheduleID: schedule.id, limit: 10, before: nil).count == 1)
    }

    @Test(
        "on a shared store, a run stored by a write answered with a failure (the connection lost after the commit) is found held here, unknown, and run once"
    )
    func strayRunAdopted() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stray-\(UUID()).sqlite").path
        let store = OutageStore(base: try SQLiteStore(path: path))
        // A lease of 3 s: the lease check runs every second.
        let membership = Membership(shared: true, lease: .seconds(3))
        _ = try await store.heartbeat(
            InstanceRecord(id: membership.instanceID, host: "test", version: "test", startedAt: Date()))
        let executor = ControlledExecutor(holding: true)
        var logger = Logger(label: "test.stray")
        logger.logLevel = .critical
        let clock = ManualClock(SchedulerHarness.epoch)
        let scheduler = Scheduler(
            store: store, clock: clock, executor: executor,
            configuration: .init(maxConcurrentRuns: 4, membership: membership), logger: logger)
        let task = Task { try await scheduler.run() }
        defer { task.cancel() }
        try await eventually("the scheduler has started") { await scheduler.firing }

        store.losingAnswers = true
        let run = RunRecord(scheduleID: nil, workflow: "w", trigger: "manual")
        await #expect(throws: StorageError.self) { try await scheduler.submit(run) }
        store.losingAnswers = false
        #expect(try await store.run(id: run.id)?.owner == membership.instanceID)
        #expect(executor.started.isEmpty)

        // The lease loop waits on the test's clock between its checks.
        try await eventually(timeout: .seconds(30), "the stray run is started") {
            clock.advance(by: 1)
            return executor.started.map(\.id) == [run.id]
        }
        #expect(try await store.run(id: run.id)?.state == .running)
        // Later checks find it known: it does not start again.
        for _ in 0..<4 {
            clock.advance(by: 1)
            try await Task.sleep(for: .milliseconds(600))
        }
        #expect(executor.started.map(\.id) == [run.id])
        executor.release(run.id)
        try await eventually("the run has ended") { try await store.run(id: run.id)?.state == .succeeded }
    }

    @Test("a run that ends while the store refuses writes has its end written once the store answers again")
    func endWrittenAfterOutage() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("outage-\(UUID()).sqlite").path
        let store = OutageStore(base: try SQLiteStore(path: path))
        let executor = ControlledExecutor(holding: true)
        var logger = Logger(label: "test.outage")
        logger.logLevel = .critical
        let scheduler = Scheduler(
            store: store, clock: ManualClock(SchedulerHarness.epoch), executor: executor, logger: logger)
        let task = Task { try await scheduler.run() }
        defer { task.cancel() }
        try await eventually("the scheduler has started") { await scheduler.firing }

        let run = try #require(
            try await scheduler.submit(RunRecord(scheduleID: nil, workflow: "w", trigger: "manual")))
        try await eventually("the run is running, as stored") { try await store.run(id: run.id)?.state == .running }
        store.down = true
        executor.release(run.id)
        try await eventually("the end was tried and refused") { store.failures > 0 }
        #expect(try await store.run(id: run.id)?.state == .running)
        store.down = false
        try await eventually("the end is stored once the store answers") {
            try await store.run(id: run.id)?.state == .succeeded
        }
    }
}
