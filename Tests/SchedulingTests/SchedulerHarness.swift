import ClockTesting
import Foundation
import Logging
import SchedulerTesting
import Scheduling
import Storage
import Synchronization
import Workflows

/// An executor the test controls: it records every run it is given and, when holding, keeps each
/// run going until the test releases it (or the scheduler cancels it).
final class ControlledExecutor: RunExecutor {
    private struct State {
        var started: [RunRecord] = []
        var gates: [String: CheckedContinuation<RunOutcome, Never>] = [:]
        var released: [String: RunState] = [:]
        var interrupted: [RunRecord] = []
        var holding: Bool
    }

    private let state: Mutex<State>

    init(holding: Bool = false) {
        state = Mutex(State(holding: holding))
    }

    var started: [RunRecord] { state.withLock { $0.started } }
    var interrupted: [RunRecord] { state.withLock { $0.interrupted } }
    var waitingCount: Int { state.withLock { $0.gates.count } }

    func execute(
        _ run: RunRecord, schedule: ScheduleRecord?, started: @escaping @Sendable (RunStart) -> Void,
        progress: @escaping @Sendable ([NodeRecord]) -> Void
    ) async -> RunOutcome {
        let holding = state.withLock { state -> Bool in
            state.started.append(run)
            return state.holding
        }
        started(
            RunStart(traceID: run.traceID, rootSpanID: run.rootSpanID, startNanos: UInt64(run.rootStartNanos ?? 0)))
        guard holding else { return RunOutcome(state: .succeeded, outputJSON: "{}") }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resolved = state.withLock { state -> RunState? in
                    if let early = state.released.removeValue(forKey: run.id) { return early }
                    if Task.isCancelled { return .cancelled }
                    state.gates[run.id] = continuation
                    return nil
                }
                if let resolved { continuation.resume(returning: RunOutcome(state: resolved)) }
            }
        } onCancel: {
            let gate = state.withLock { $0.gates.removeValue(forKey: run.id) }
            gate?.resume(returning: RunOutcome(state: .cancelled, error: "cancelled"))
        }
    }

    /// Ends a held run.
    func release(_ id: String, as final: RunState = .succeeded) {
        let gate = state.withLock { state -> CheckedContinuation<RunOutcome, Never>? in
            guard let gate = state.gates.removeValue(forKey: id) else {
                state.released[id] = final
                return nil
            }
            return gate
        }
        gate?.resume(returning: RunOutcome(state: final))
    }

    func releaseAll() {
        let gates = state.withLock { state -> [CheckedContinuation<RunOutcome, Never>] in
            state.holding = false
            defer { state.gates = [:] }
            return Array(state.gates.values)
        }
        for gate in gates { gate.resume(returning: RunOutcome(state: .succeeded)) }
    }

    func closeInterrupted(_ run: RunRecord) async {
        state.withLock { $0.interrupted.append(run) }
    }
}

/// A scheduler on a manual clock and a real SQLite file.
struct SchedulerHarness: Stoppable {
    let store: SQLiteStore
    let clock: ManualClock
    let executor: ControlledExecutor
    let scheduler: Scheduler
    let task: Task<Void, any Error>

    static let epoch = Date(timeIntervalSince1970: 1_704_067_200)  // 2024-01-01T00:00:00Z

    static func start(
        at start: Date = epoch, store: SQLiteStore? = nil, holding: Bool = false, maxConcurrentRuns: Int = 16,
        shutdownGrace: Duration = .seconds(1), schedules: [ScheduleRecord] = [], membership: Membership = .init(),
        retry: RetryPolicy = .never, retryJitter: Double = 0, notify: [NotifyRule] = [],
        queuedTooLong: Duration = .seconds(900)
    ) async throws -> SchedulerHarness {
        let store =
            try store
            ?? SQLiteStore(
                path: FileManager.default.temporaryDirectory.appendingPathComponent(
                    "sched-\(UUID().uuidString.prefix(8)).sqlite"
                ).path)
        for schedule in schedules { try await store.insertSchedule(schedule) }
        let clock = ManualClock(start)
        let executor = ControlledExecutor(holding: holding)
        var logger = Logger(label: "test.scheduler")
        logger.logLevel = .critical
        var configuration = SchedulerConfiguration(
            maxConcurrentRuns: maxConcurrentRuns, shutdownGrace: shutdownGrace, membership: membership, retry: retry,
            notify: notify)
        configuration.missed.queued = queuedTooLong
        let scheduler = Scheduler(
            store: store, clock: clock, executor: executor, configuration: configuration, logger: logger,
            retryJitter: { retryJitter })
        let task = Task { try await scheduler.run() }
        let harness = SchedulerHarness(store: store, clock: clock, executor: executor, scheduler: scheduler, task: task)
        let all = try await store.schedules()
        if all.contains(where: { $0.cron != nil && !$0.paused && $0.cron != "@reboot" }) { try await harness.settle() }
        return harness
    }

    func stop() async {
        executor.releaseAll()
        task.cancel()
        _ = try? await task.value
    }

    /// Waits until the scheduler sleeps on the clock again (it has handled everything due).
    func settle() async throws {
        try await eventually(timeout: .seconds(60), "the scheduler sleeps") { clock.sleeperCount > 0 }
    }

    /// Moves the clock to `date` and waits for the scheduler to handle what became due.
    func advance(to date: Date) async throws {
        clock.advance(to: date)
        try await settle()
    }

    func advance(seconds: TimeInterval) async throws {
        try await advance(to: clock.now().addingTimeInterval(seconds))
    }

    /// Every run, oldest first.
    func runs() async throws -> [RunRecord] {
        try await store.runs(scheduleID: nil, limit: 100_000, before: nil).reversed()
    }

    func waitForRuns(_ what: String, _ condition: @escaping ([RunRecord]) -> Bool) async throws {
        do {
            try await eventually(timeout: .seconds(60), what) { condition(try await runs()) }
        } catch {
            let seen = try await runs().map { "\($0.trigger) \($0.state.rawValue) \($0.dedupeKey ?? "-")" }
            throw TestFailure(
                description: "\(error); runs: \(seen); clock \(clock.now()); load \(await scheduler.load)")
        }
    }
}

extension Date {
    /// `2024-03-10T02:30:00-05:00` → the instant.
    static func iso(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text)!
    }
}
