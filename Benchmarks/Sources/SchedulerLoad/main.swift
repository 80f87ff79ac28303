// The scheduler under load, with a real SQLite store, the real runner and tracer (spans go to the
// spool; MLflow is not reachable) and the system clock:
//   1. 10,000 schedules due in the same second: from the due second until each run's root span started;
//   2. one schedule firing every second for a minute: lateness from the fire's second to its root span;
//   3. 10,000 schedules loaded and none due: the process's CPU use over 10 s (it should sleep).
// Peer, in the same process: inserting the same 10,000 run rows into SQLite in one transaction.
import BenchmarkSupport
import Foundation
import GRDB
import Logging
import MLflowTracing
import ProcessSandbox
import Scheduling
import Storage
import Synchronization
import Workflows

let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("scheduler-load-\(getpid())")
try? FileManager.default.removeItem(at: scratch)
try FileManager.default.createDirectory(
    at: scratch.appendingPathComponent("workflows"), withIntermediateDirectories: true)
try "name: tick\nentry: mark\nnodes:\n  mark:\n    set: {ticked: true}\n".write(
    to: scratch.appendingPathComponent("workflows/tick.yaml"), atomically: true, encoding: .utf8)
let catalog = try WorkflowCatalog.load(directory: scratch)
let quiet: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    return logger
}()
let exporter = try TraceExporter(
    configuration: MLflowTracingConfiguration(
        trackingURI: URL(string: "http://127.0.0.1:9"), spoolPath: scratch.appendingPathComponent("spool.sqlite").path),
    logger: quiet)
let exporterTask = Task { try await exporter.run() }
let runner = WorkflowRunner(
    catalog: catalog, tracer: exporter.tracer,
    configuration: .init(sandbox: SandboxRunner(environment: [:], workRoot: scratch.appendingPathComponent("work"))),
    logger: quiet)

/// Records when each run's root span started.
final class Timing: RunExecutor {
    let inner: WorkflowRunExecutor
    /// Runs nothing: each run "starts" and succeeds at once (the scheduler and the store alone).
    let noop: Bool
    let starts = Mutex<[(nominal: Date?, started: Date)]>([])
    init(_ inner: WorkflowRunExecutor, noop: Bool = false) {
        self.inner = inner
        self.noop = noop
    }
    func execute(
        _ run: RunRecord, schedule: ScheduleRecord?, started: @escaping @Sendable (RunStart) -> Void,
        progress: @escaping @Sendable ([NodeRecord]) -> Void
    ) async -> RunOutcome {
        if noop {
            let now = Date()
            self.starts.withLock { $0.append((run.nominalTime, now)) }
            return RunOutcome(state: .succeeded)
        }
        return await inner.execute(
            run, schedule: schedule,
            started: { start in
                let now = Date()
                self.starts.withLock { $0.append((run.nominalTime, now)) }
                started(start)
            }, progress: progress)
    }
    func closeInterrupted(_ run: RunRecord) async {}
}

@MainActor
func withScheduler(
    _ store: SQLiteStore, maxRuns: Int, noop: Bool = false, _ body: (Scheduler, Timing) async throws -> Void
) async throws {
    let timing = Timing(WorkflowRunExecutor(runner: runner), noop: noop)
    let scheduler = Scheduler(
        store: store, executor: timing, configuration: .init(maxConcurrentRuns: maxRuns), logger: quiet)
    let task = Task { try await scheduler.run() }
    try await body(scheduler, timing)
    task.cancel()
    _ = try? await task.value
}

let count = Int(ProcessInfo.processInfo.environment["SCHEDULES"] ?? "10000") ?? 10_000
let maxRuns = Int(ProcessInfo.processInfo.environment["MAX_RUNS"] ?? "64") ?? 64
let utc = Calendar(identifier: .gregorian)

// 1. Everything due in the same second: with the real runner, then with runs that do nothing (the
// scheduler and the store alone).
func burst(noop: Bool) async throws -> [Double] {
    let store = try SQLiteStore(path: scratch.appendingPathComponent("burst-\(noop).sqlite").path)
    let due = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 6).rounded(.down))
    let components = utc.dateComponents(in: TimeZone(identifier: "UTC")!, from: due)
    let cron =
        "\(components.second!) \(components.minute!) \(components.hour!) \(components.day!) \(components.month!) *"
    let now = Date()
    let schedules = (0..<count).map {
        ScheduleRecord(name: "s\($0)", cron: cron, workflow: "tick", createdAt: now, updatedAt: now)
    }
    try await store.applySchedules(insert: schedules, update: [], delete: [])
    var delays: [Double] = []
    try await withScheduler(store, maxRuns: maxRuns, noop: noop) { _, timing in
        while timing.starts.withLock({ $0.count }) < count && Date() < due.addingTimeInterval(120) {
            try await Task.sleep(for: .milliseconds(20))
        }
        delays = timing.starts.withLock { $0.map { $0.started.timeIntervalSince(due) * 1000 } }
    }
    // For profiles (`perf record --clockid realtime`, then `perf report --time FROM,TO`): the burst's
    // window in seconds since the epoch, from the due second to the last start.
    let last = due.timeIntervalSince1970 + (delays.max() ?? 0) / 1000
    FileHandle.standardError.write(
        Data(
            "burst \(noop ? "alone" : "workflow"): --time \(String(format: "%.6f", due.timeIntervalSince1970)),\(String(format: "%.6f", last))\n"
                .utf8))
    return delays
}

do {
    let runs = try await burst(noop: false)
    let alone = try await burst(noop: true)
    // The peer: the same number of run rows written in one transaction.
    let peer = try DatabaseQueue(path: scratch.appendingPathComponent("peer.sqlite").path)
    try await peer.write { db in
        try db.execute(
            sql:
                "CREATE TABLE run (id TEXT PRIMARY KEY, schedule_id TEXT, dedupe_key TEXT, UNIQUE(schedule_id, dedupe_key))"
        )
    }
    let clock = ContinuousClock()
    let peerTime = try await clock.measure {
        try await peer.write { db in
            for i in 0..<count {
                try db.execute(
                    sql: "INSERT INTO run VALUES (?, ?, ?)", arguments: [SortableID.make("run"), "s\(i)", "k"])
            }
        }
    }
    let peerMs = Double(peerTime.components.attoseconds) / 1e15 + Double(peerTime.components.seconds) * 1000
    func ms(_ value: Double?) -> String { String(format: "%.1f", value ?? .nan) }
    print("## \(count) schedules due in the same second (max runs \(maxRuns))")
    print()
    print("From the due second until each run's row is stored and its root span started, in ms. Workflow runs:")
    print("each run a one-node workflow, traced (spans to the spool). Scheduling alone: runs that do nothing.")
    print()
    print("| measure | workflow runs | scheduling alone |")
    print("| --- | ---: | ---: |")
    print("| first started | \(ms(runs.min())) | \(ms(alone.min())) |")
    print("| p50 | \(ms(percentile(runs, 0.5))) | \(ms(percentile(alone, 0.5))) |")
    print("| p99 | \(ms(percentile(runs, 0.99))) | \(ms(percentile(alone, 0.99))) |")
    print("| last (of \(runs.count) / \(alone.count)) | \(ms(runs.max())) | \(ms(alone.max())) |")
    print()
    print("Peer: \(count) run rows inserted in one SQLite transaction: \(ms(peerMs)) ms.")
    print(
        "Ratio, last start / peer: \(String(format: "%.1f", (runs.max() ?? 0) / peerMs))x with workflow runs, \(String(format: "%.1f", (alone.max() ?? 0) / peerMs))x scheduling alone."
    )
    print()
}

// 2. One schedule every second for a minute.
let seconds = Int(ProcessInfo.processInfo.environment["LATENESS_SECONDS"] ?? "60") ?? 60
do {
    let store = try SQLiteStore(path: scratch.appendingPathComponent("lateness.sqlite").path)
    let now = Date()
    try await store.insertSchedule(
        ScheduleRecord(name: "every_second", cron: "* * * * * *", workflow: "tick", createdAt: now, updatedAt: now))
    try await withScheduler(store, maxRuns: 16) { _, timing in
        try await Task.sleep(for: .seconds(seconds))
        let lateness = timing.starts.withLock {
            $0.compactMap { entry in entry.nominal.map { entry.started.timeIntervalSince($0) * 1000 } }
        }
        print("## One schedule every second for \(seconds) s: lateness of \(lateness.count) fires")
        print()
        print("| p50 ms | p99 ms | max ms |")
        print("| ---: | ---: | ---: |")
        print(
            "| \(String(format: "%.2f", percentile(lateness, 0.5))) | \(String(format: "%.2f", percentile(lateness, 0.99))) | \(String(format: "%.2f", lateness.max() ?? .nan)) |"
        )
        print()
        print("For scale: cron(8) fires at minute granularity; systemd timers default to AccuracySec=1min.")
        print()
    }
}

// 3. Idle: many schedules loaded, none due for a year.
do {
    let store = try SQLiteStore(path: scratch.appendingPathComponent("idle.sqlite").path)
    let now = Date()
    let month = utc.component(.month, from: now)
    let schedules = (0..<count).map {
        ScheduleRecord(
            name: "y\($0)", cron: "0 0 1 \(month % 12 + 1) *", workflow: "tick", createdAt: now, updatedAt: now)
    }
    try await store.applySchedules(insert: schedules, update: [], delete: [])
    try await withScheduler(store, maxRuns: 16) { _, _ in
        try await Task.sleep(for: .seconds(2))
        let before = cpuSeconds()
        try await Task.sleep(for: .seconds(10))
        let used = cpuSeconds() - before
        print("## Idle with \(count) schedules loaded")
        print()
        print(
            "CPU over 10 s: \(String(format: "%.3f", used)) s (\(String(format: "%.2f", used / 10 * 100)) % of one core)."
        )
    }
}
exporterTask.cancel()
try? FileManager.default.removeItem(at: scratch)
