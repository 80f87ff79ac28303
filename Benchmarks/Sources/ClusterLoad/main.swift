// Several schedulers sharing one store, in this process: 10,000 schedules due in the same second and
// one schedule firing every second, on one instance with SQLite, one with PostgreSQL, or several with
// PostgreSQL. Each instance has what a separate daemon would have: its own store (for PostgreSQL its
// own connection pool), its own heartbeat stored before its scheduler starts, and its own scheduler
// (shared membership on PostgreSQL, as the daemon does); runs end as soon as they start. Per burst:
//   - from the due second until the last of the 10,000 runs started (the executor notes each start);
//   - the lateness of the every-second schedule's runs while the burst goes on (nominal time to start);
//   - how many of the runs each instance started;
//   - duplicate and missing fires, counted twice: by the executors' starts, and by the stored runs
//     of each schedule for the due second.
//
// Usage (scripts/bench-cluster drives it, with a fresh database for every PostgreSQL burst):
//   cluster-load sqlite                      one instance on a SQLite file of its own
//   cluster-load postgres INSTANCES URL      INSTANCES instances on the (empty) database at URL
//   cluster-load report FILE                 the markdown table of the bursts FILE holds
// A burst prints its figures and appends them, one JSON line, to the file named by RESULTS.
// Environment: SCHEDULES (10000), MAX_RUNS (64, per instance), LEAD_SECONDS (10: from the start of
// the set-up to the due second), BURST_DEADLINE (400 s after the due second), SETTLE_SECONDS (3:
// how long the instances go on after the last start, so that a late duplicate would show).
import BenchmarkSupport
import Foundation
import Logging
import PostgresStorage
import Scheduling
import Storage
import Synchronization
import Workflows

/// This process's environment: the settings below, and `RESULTS`.
let environment = ProcessInfo.processInfo.environment
/// Schedules due in the burst's second.
let scheduleCount = Int(environment["SCHEDULES"] ?? "10000") ?? 10_000
/// Runs going at once, per instance (bench-scheduler's default).
let maxRuns = Int(environment["MAX_RUNS"] ?? "64") ?? 64
/// From the start of the set-up to the due second.
let leadSeconds = Double(environment["LEAD_SECONDS"] ?? "10") ?? 10
/// How long after the due second a burst may take before its figures are taken as they are.
let deadlineSeconds = Double(environment["BURST_DEADLINE"] ?? "400") ?? 400
/// How long the instances go on after the last start.
let settleSeconds = Double(environment["SETTLE_SECONDS"] ?? "3") ?? 3
/// The cores every instance, and the PostgreSQL server, share.
let cores = ProcessInfo.processInfo.activeProcessorCount

// MARK: - What the instances do

/// One run's start, as an instance's executor saw it.
struct Start: Sendable {
    /// Which instance started it (0-based).
    var instance: Int
    /// The run's id.
    var runID: String
    /// Its schedule.
    var scheduleID: String?
    /// The fire it is for.
    var nominal: Date?
    /// When the executor was called, by the system clock.
    var started: Date
}

/// Every start of every instance of one burst, and how many of them are the burst's.
final class StartLog: Sendable {
    /// The second the burst's schedules are due.
    let due: Date
    /// The every-second schedule, whose starts are not the burst's.
    let tickerID: String
    private let state = Mutex<(starts: [Start], burst: Int)>(([], 0))

    /// A log for the burst due at `due`.
    init(due: Date, tickerID: String) {
        self.due = due
        self.tickerID = tickerID
        state.withLock { $0.starts.reserveCapacity(scheduleCount * 2) }
    }

    /// Notes a start.
    func record(_ start: Start) {
        let isBurst = start.scheduleID != tickerID && start.nominal == due
        state.withLock {
            $0.starts.append(start)
            if isBurst { $0.burst += 1 }
        }
    }

    /// Starts of the burst's runs so far (duplicates included).
    var burstStarts: Int { state.withLock { $0.burst } }

    /// Every start so far.
    var starts: [Start] { state.withLock { $0.starts } }
}

/// An instance's executor: notes the start and ends the run at once (the scheduler and the store
/// alone, as SchedulerLoad's "scheduling alone").
final class InstantExecutor: RunExecutor {
    /// The instance it runs for (0-based).
    let instance: Int
    /// Where its starts go.
    let log: StartLog

    /// An executor for instance `instance`.
    init(instance: Int, log: StartLog) {
        self.instance = instance
        self.log = log
    }

    /// Notes the start and succeeds at once.
    func execute(
        _ run: RunRecord, schedule: ScheduleRecord?, started: @escaping @Sendable (RunStart) -> Void,
        progress: @escaping @Sendable ([NodeRecord]) -> Void
    ) async -> RunOutcome {
        log.record(
            Start(
                instance: instance, runID: run.id, scheduleID: run.scheduleID, nominal: run.nominalTime, started: Date()
            ))
        return RunOutcome(state: .succeeded)
    }

    /// Nothing to close: no run leaves a trace.
    func closeInterrupted(_ run: RunRecord) async {}
}

/// Counts the warnings and errors the instances log (store failures, lost runs), and keeps the
/// first few, so that a burst that went wrong says so; nothing is printed as it happens.
final class ProblemLog: Sendable {
    private let state = Mutex<(count: Int, first: [String])>((0, []))

    /// Counts one message, and keeps it if it is among the first five.
    func note(_ level: Logger.Level, _ message: String) {
        state.withLock {
            $0.count += 1
            if $0.first.count < 5 { $0.first.append("\(level): \(message)") }
        }
    }

    /// Messages counted so far.
    var count: Int { state.withLock { $0.count } }
    /// The first five messages.
    var first: [String] { state.withLock { $0.first } }

    /// A logger whose warnings and errors this log counts.
    func logger(_ label: String) -> Logger {
        Logger(label: label) { _ in Handler(problems: self) }
    }

    /// Passes warnings and errors to a ``ProblemLog``.
    struct Handler: LogHandler {
        /// Where the messages are counted.
        let problems: ProblemLog
        /// The logger's metadata.
        var metadata: Logger.Metadata = [:]
        /// Warnings and worse only.
        var logLevel: Logger.Level = .warning

        /// One metadata value.
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        /// Counts the message with its metadata.
        func log(event: LogEvent) {
            let details = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
            problems.note(event.level, "\(event.message) \(details)")
        }
    }
}

// MARK: - Figures

/// The figures of one burst, as appended to the results file.
struct BurstResult: Codable {
    /// `sqlite` or `postgres`.
    var store: String
    /// Instances sharing the store.
    var instances: Int
    /// 1 for the first burst of this store and instance count in the results file, and so on.
    var run: Int
    /// The 1, 5 and 15 minute load averages at the start.
    var loadAverage: String
    /// Schedules due in the burst's second.
    var schedules: Int
    /// Runs going at once, per instance.
    var maxRuns: Int
    /// Seconds from the moment every instance was firing to the due second.
    var spareSeconds: Double
    /// Distinct burst schedules started.
    var started: Int
    /// From the due second to the first burst run's start, in ms.
    var firstMs: Double
    /// From the due second to the last burst run's start, in seconds.
    var lastSeconds: Double
    /// The every-second schedule's fires from the due second to the last start, and their lateness.
    var latenessCount: Int
    /// Lateness p50, nominal time to start, in ms.
    var latenessP50Ms: Double
    /// Lateness p99, in ms.
    var latenessP99Ms: Double
    /// Highest lateness, in ms.
    var latenessMaxMs: Double
    /// Of those fires, the ones started more than a second after their nominal time.
    var latenessOverSecond: Int
    /// Burst runs each instance started.
    var perInstance: [Int]
    /// Burst schedules started more than once (extra starts), and never started.
    var duplicateStarts: Int
    var missingStarts: Int
    /// Burst schedules with more than one stored run for the due second (extra runs), and with none.
    var duplicateRuns: Int
    var missingRuns: Int
    /// Stored runs of any schedule sharing a schedule and dedupe key with another.
    var duplicateKeys: Int
    /// Stored burst runs not `succeeded` at the end.
    var notSucceeded: Int
    /// Warnings and errors the instances logged.
    var problems: Int
    /// This process's CPU time from the due second to the last start (PostgreSQL's server not included).
    var cpuSeconds: Double

    /// The case's name in the table.
    var label: String { "\(store == "sqlite" ? "SQLite" : "PostgreSQL") ×\(instances)" }
    /// Fires stored and claimed per second: the runs started over the time to the last start.
    var claimsPerSecond: Double { Double(started) / lastSeconds }
}

/// The 1, 5 and 15 minute load averages.
func loadAverage() -> String {
    ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3)
        .joined(separator: " ")
}

/// Says what went wrong on standard error and exits with status 1.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("cluster-load: \(message)\n".utf8))
    exit(1)
}

// MARK: - A burst

/// Runs one burst on `stores`, one instance per store; the first store gets the schedules.
func burst(store kind: String, stores: [any SchedulerStore], shared: Bool) async throws -> BurstResult {
    let load = loadAverage()
    let started = Date()
    let due = Date(timeIntervalSince1970: (started.timeIntervalSince1970 + leadSeconds).rounded(.down))
    let utc = TimeZone(identifier: "UTC")!
    let parts = Calendar(identifier: .gregorian).dateComponents(in: utc, from: due)
    let cron = "\(parts.second!) \(parts.minute!) \(parts.hour!) \(parts.day!) \(parts.month!) *"
    let schedules = (0..<scheduleCount).map {
        ScheduleRecord(name: "burst\($0)", cron: cron, workflow: "noop", createdAt: started, updatedAt: started)
    }
    let ticker = ScheduleRecord(
        name: "every_second", cron: "* * * * * *", workflow: "noop", overlap: .allow, createdAt: started,
        updatedAt: started)
    try await stores[0].applySchedules(insert: schedules + [ticker], update: [], delete: [])

    let log = StartLog(due: due, tickerID: ticker.id)
    let problems = ProblemLog()
    var schedulers: [Scheduler] = []
    var tasks: [Task<Void, Never>] = []
    for (index, store) in stores.enumerated() {
        let membership = Membership(shared: shared)
        let scheduler = Scheduler(
            store: store, clock: SystemWallClock(), executor: InstantExecutor(instance: index, log: log),
            configuration: SchedulerConfiguration(maxConcurrentRuns: maxRuns, membership: membership),
            logger: problems.logger("instance\(index).scheduler"))
        let heartbeat = InstanceHeartbeat(
            store: store,
            identity: InstanceRecord(
                id: membership.instanceID, host: ProcessInfo.processInfo.hostName, version: "cluster-load",
                startedAt: Date()),
            interval: membership.heartbeatInterval, runningCount: { await scheduler.load.running },
            logger: problems.logger("instance\(index).heartbeat"))
        // Alive in the store before the scheduler claims anything, as the daemon does.
        await heartbeat.beat()
        tasks.append(Task { try? await heartbeat.run() })
        tasks.append(Task { try? await scheduler.run() })
        schedulers.append(scheduler)
    }
    for scheduler in schedulers {
        while await !scheduler.firing { try await Task.sleep(for: .milliseconds(5)) }
    }
    let spare = due.timeIntervalSinceNow
    FileHandle.standardError.write(
        Data(
            "\(kind) ×\(stores.count): load average \(load); \(scheduleCount) schedules due at \(due), every instance firing \(String(format: "%.1f", spare)) s before\n"
                .utf8))
    if spare < 0.5 {
        FileHandle.standardError.write(
            Data("cluster-load: warning: the set-up took too long; raise LEAD_SECONDS\n".utf8))
    }

    try await Task.sleep(for: .seconds(max(0, spare)))
    let cpuBefore = cpuSeconds()
    while log.burstStarts < scheduleCount && Date() < due.addingTimeInterval(deadlineSeconds) {
        try await Task.sleep(for: .milliseconds(10))
    }
    let cpuUsed = cpuSeconds() - cpuBefore
    try await Task.sleep(for: .seconds(settleSeconds))
    for task in tasks { task.cancel() }
    for task in tasks { await task.value }

    // The executors' view.
    let starts = log.starts
    let burstIDs = Set(schedules.map(\.id))
    let burstStarts = starts.filter { $0.nominal == due && $0.scheduleID.map(burstIDs.contains) == true }
    var startsPerSchedule: [String: Int] = [:]
    for start in burstStarts { startsPerSchedule[start.scheduleID!, default: 0] += 1 }
    let firstMs = (burstStarts.map(\.started).min()?.timeIntervalSince(due) ?? .nan) * 1000
    let last = burstStarts.map(\.started).max()?.timeIntervalSince(due) ?? .nan
    var perInstance = Array(repeating: 0, count: stores.count)
    for start in burstStarts { perInstance[start.instance] += 1 }
    let window = due.addingTimeInterval(last.isNaN ? deadlineSeconds : last)
    let lateness = starts.compactMap { start -> Double? in
        guard start.scheduleID == ticker.id, let nominal = start.nominal, nominal >= due, nominal <= window else {
            return nil
        }
        return start.started.timeIntervalSince(nominal) * 1000
    }

    // The store's view: every run, by schedule and dedupe key.
    let runs = try await stores[0].runs(scheduleID: nil, limit: 10 * scheduleCount + 10_000, before: nil)
    var runsPerSchedule: [String: Int] = [:]
    var runsPerKey: [String: Int] = [:]
    var notSucceeded = 0
    for run in runs {
        guard let scheduleID = run.scheduleID else { continue }
        runsPerKey["\(scheduleID) \(run.dedupeKey ?? run.id)", default: 0] += 1
        guard burstIDs.contains(scheduleID), run.nominalTime == due else { continue }
        runsPerSchedule[scheduleID, default: 0] += 1
        if run.state != .succeeded { notSucceeded += 1 }
    }

    let previous = (try? readResults(environment["RESULTS"] ?? "")) ?? []
    let result = BurstResult(
        store: kind, instances: stores.count,
        run: previous.filter { $0.store == kind && $0.instances == stores.count }.count + 1, loadAverage: load,
        schedules: scheduleCount, maxRuns: maxRuns, spareSeconds: spare, started: startsPerSchedule.count,
        firstMs: firstMs, lastSeconds: last, latenessCount: lateness.count,
        latenessP50Ms: percentile(lateness, 0.5), latenessP99Ms: percentile(lateness, 0.99),
        latenessMaxMs: lateness.max() ?? .nan, latenessOverSecond: lateness.filter { $0 > 1000 }.count,
        perInstance: perInstance,
        duplicateStarts: startsPerSchedule.values.reduce(0) { $0 + max(0, $1 - 1) },
        missingStarts: scheduleCount - startsPerSchedule.count,
        duplicateRuns: runsPerSchedule.values.reduce(0) { $0 + max(0, $1 - 1) },
        missingRuns: scheduleCount - runsPerSchedule.count,
        duplicateKeys: runsPerKey.values.reduce(0) { $0 + max(0, $1 - 1) }, notSucceeded: notSucceeded,
        problems: problems.count, cpuSeconds: cpuUsed)
    for problem in problems.first {
        FileHandle.standardError.write(Data("cluster-load: logged \(problem)\n".utf8))
    }
    return result
}

/// Runs `body` while the connection pools of `stores` run.
func withClients<T: Sendable>(_ stores: ArraySlice<PostgresStore>, _ body: () async throws -> T) async throws -> T {
    guard let first = stores.first else { return try await body() }
    return try await first.withRunningClient { try await withClients(stores.dropFirst(), body) }
}

// MARK: - Results

/// The encoder of the results file's lines (NaN for a figure that could not be measured).
func jsonEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    encoder.outputFormatting = [.sortedKeys]
    return encoder
}

/// The bursts in the results file at `path`, in their order; none when there is no such file.
func readResults(_ path: String) throws -> [BurstResult] {
    guard !path.isEmpty, FileManager.default.fileExists(atPath: path) else { return [] }
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
        try decoder.decode(BurstResult.self, from: Data($0.utf8))
    }
}

/// Appends `result` to the results file at `path`, as one JSON line; nothing when `path` is empty.
func append(_ result: BurstResult, to path: String) throws {
    guard !path.isEmpty else { return }
    let line = try jsonEncoder().encode(result) + Data("\n".utf8)
    if !FileManager.default.fileExists(atPath: path) {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
    }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.seekToEnd()
    try handle.write(contentsOf: line)
    try handle.close()
}

/// `value` with `digits` decimals, or a dash when it is NaN.
func f(_ value: Double, _ digits: Int = 1) -> String { value.isNaN ? "–" : String(format: "%.\(digits)f", value) }

/// `value` rounded, with thousands separators.
func grouped(_ value: Double) -> String {
    guard value.isFinite else { return "–" }
    let formatter = NumberFormatter()
    formatter.numberStyle = .decimal
    formatter.maximumFractionDigits = 0
    return formatter.string(from: NSNumber(value: value.rounded())) ?? "\(Int(value))"
}

/// One line of figures for a burst, to the terminal.
func summary(_ r: BurstResult) -> String {
    "\(r.label) run \(r.run): \(r.started)/\(r.schedules) started, last \(f(r.lastSeconds, 2)) s after the due second "
        + "(\(grouped(r.claimsPerSecond)) fires/s), lateness p50/p99 \(f(r.latenessP50Ms, 2))/\(f(r.latenessP99Ms, 2)) ms "
        + "of \(r.latenessCount) (\(r.latenessOverSecond) over 1 s), per instance \(r.perInstance), duplicate starts \(r.duplicateStarts), missing "
        + "\(r.missingStarts), duplicate runs \(r.duplicateRuns), missing runs \(r.missingRuns), problems logged "
        + "\(r.problems), CPU \(f(r.cpuSeconds, 2)) s"
}

/// The markdown table of every burst in the results, the ratios and the targets.
func report(_ results: [BurstResult]) {
    print(
        "| case | run | load average at start | last run started | fires claimed/s | per core | lateness p50 / p99 / max | every-second fires (> 1 s late) | runs per instance | duplicate / missing fires |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for r in results {
        let spread = r.perInstance.map { count in
            "\(count) (\(f(Double(count) / Double(max(1, r.started)) * 100, 0)) %)"
        }.joined(separator: " / ")
        let duplicates = r.duplicateStarts + r.duplicateRuns + r.duplicateKeys
        let missing = max(r.missingStarts, r.missingRuns)
        print(
            "| \(r.label) | \(r.run) | \(r.loadAverage.split(separator: " ").first ?? "?") | \(f(r.lastSeconds, 2)) s | \(grouped(r.claimsPerSecond)) | \(grouped(r.claimsPerSecond / Double(cores))) | \(f(r.latenessP50Ms, 2)) / \(f(r.latenessP99Ms, 2)) / \(f(r.latenessMaxMs, 1)) ms | \(r.latenessCount) (\(r.latenessOverSecond)) | \(spread) | \(duplicates) / \(missing) |"
        )
    }
    print()
    let maxRunsUsed = Set(results.map(\.maxRuns)).sorted().map(String.init).joined(separator: ", ")
    print(
        "\(results.first?.schedules ?? scheduleCount) schedules due in one second plus one every-second schedule; max runs \(maxRunsUsed) per instance; runs end as they start. \(cores) cores; per core = fires claimed per second / \(cores)."
    )
    print()

    func mean(_ store: String, _ instances: Int) -> Double? {
        let values = results.filter { $0.store == store && $0.instances == instances }.map(\.lastSeconds)
        guard !values.isEmpty, values.allSatisfy(\.isFinite) else { return nil }
        return values.reduce(0, +) / Double(values.count)
    }
    func met(_ ok: Bool) -> String { ok ? "met" : "missed" }
    let sqlite = mean("sqlite", 1)
    let pg1 = mean("postgres", 1)
    let pg3 = results.map(\.instances).filter { $0 > 1 }.max().flatMap { n in mean("postgres", n).map { (n, $0) } }
    if let pg1, let (n, pgN) = pg3 {
        let ratio = pgN / pg1
        print(
            "- \(n) instances over one, on PostgreSQL (mean time to the last start): \(f(ratio, 2))x; target ≤ 1.2x: \(met(ratio <= 1.2))."
        )
    }
    if let sqlite, let pg1 {
        let ratio = pg1 / sqlite
        print(
            "- PostgreSQL over SQLite, one instance (mean time to the last start): \(f(ratio, 1))x; target ≤ 2x: \(met(ratio <= 2))."
        )
    }
    let several = results.filter { $0.instances > 1 }
    if !several.isEmpty {
        let lowest =
            several.flatMap { r in r.perInstance.map { Double($0) / Double(max(1, r.started)) * 100 } }.min()
            ?? 0
        print(
            "- Smallest share of the runs one instance started, with several instances: \(f(lowest, 1)) %; target ≥ 20 %: \(met(lowest >= 20))."
        )
    }
    let worstP99 = results.map(\.latenessP99Ms).max() ?? .nan
    print(
        "- Highest lateness p99 of the every-second schedule during a burst: \(f(worstP99, 2)) ms; target < 50 ms: \(met(worstP99 < 50))."
    )
    let duplicates = results.map { $0.duplicateStarts + $0.duplicateRuns + $0.duplicateKeys }.reduce(0, +)
    let missing = results.map { max($0.missingStarts, $0.missingRuns) }.reduce(0, +)
    print(
        "- Duplicate fires over all bursts: \(duplicates) (target 0: \(met(duplicates == 0))); missing fires: \(missing); runs not succeeded: \(results.map(\.notSucceeded).reduce(0, +)); warnings or errors logged: \(results.map(\.problems).reduce(0, +))."
    )
}

// MARK: - Main

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "sqlite":
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-load-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let store = try SQLiteStore(path: directory.appendingPathComponent("burst.sqlite").path)
    let result = try await burst(store: "sqlite", stores: [store], shared: false)
    print(summary(result))
    try append(result, to: environment["RESULTS"] ?? "")
case "postgres":
    guard arguments.count == 3, let instances = Int(arguments[1]), instances > 0 else {
        fail("usage: cluster-load postgres INSTANCES URL")
    }
    let configuration = try PostgresConfiguration(url: arguments[2], environment: environment)
    let quiet: Logger = {
        var logger = Logger(label: "cluster-load.postgres")
        logger.logLevel = .critical
        return logger
    }()
    // One store, so one pool, per instance, with the daemon's default pool size.
    let stores = (0..<instances).map { _ in PostgresStore(configuration: configuration, logger: quiet) }
    let result = try await withClients(stores[...]) {
        for store in stores { try await store.migrate(within: .seconds(60)) }
        return try await burst(store: "postgres", stores: stores, shared: true)
    }
    print(summary(result))
    try append(result, to: environment["RESULTS"] ?? "")
case "report":
    guard arguments.count == 2 else { fail("usage: cluster-load report FILE") }
    report(try readResults(arguments[1]))
default:
    fail("usage: cluster-load sqlite | cluster-load postgres INSTANCES URL | cluster-load report FILE")
}
