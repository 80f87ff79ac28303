import CoreMetrics
import Foundation
import Storage
import Support

/// The scheduler's metrics, through swift-metrics with an injected factory (the daemon passes a
/// Prometheus one; tests pass none):
/// - `schedulerd_fires_total{trigger}`: fires stored under their trigger (cron, catchup, reboot,
///   manual, webhook; skipped ones included, a repeated webhook delivery not);
/// - `schedulerd_fire_lateness_seconds`: from a fire's time (plus its jitter) to its run's start;
/// - `schedulerd_runs_total{state}` and `schedulerd_run_duration_seconds`: finished runs;
/// - `schedulerd_runs_running`, `schedulerd_queue_depth`: runs going, runs waiting for a slot;
/// - `schedulerd_runs_taken_over_total`: runs of silent instances this one found and interrupted;
/// - `schedulerd_refused_writes_total`: this instance's writes to runs that another instance had
///   taken over meanwhile (it was silent past its lease), refused by the store.
///
/// The metrics are made once, here: making one asks the factory's registry (a lock, a lookup and a
/// name check), which is too much to do for every run.
public struct SchedulerMetrics: Sendable {
    let factory: any MetricsFactory
    private let fires: [String: Counter]
    private let runs: [RunState: Counter]
    private let latenessTimer: CoreMetrics.Timer
    private let durationTimer: CoreMetrics.Timer
    private let running: Gauge
    private let queued: Gauge
    private let takenOver: Counter
    private let refused: Counter

    /// Makes every metric once through `factory`.
    /// - Parameter factory: where the metrics go: the daemon's Prometheus registry, or a test's own.
    public init(factory: any MetricsFactory) {
        self.factory = factory
        var fires: [String: Counter] = [:]
        for trigger in ["cron", "catchup", "reboot", "manual", "webhook"] {
            fires[trigger] = Counter(
                label: "schedulerd_fires_total", dimensions: [("trigger", trigger)], factory: factory)
        }
        self.fires = fires
        var runs: [RunState: Counter] = [:]
        for state in RunState.allCases {
            runs[state] = Counter(
                label: "schedulerd_runs_total", dimensions: [("state", state.rawValue)], factory: factory)
        }
        self.runs = runs
        latenessTimer = CoreMetrics.Timer(label: "schedulerd_fire_lateness_seconds", factory: factory)
        durationTimer = CoreMetrics.Timer(label: "schedulerd_run_duration_seconds", factory: factory)
        running = Gauge(label: "schedulerd_runs_running", factory: factory)
        queued = Gauge(label: "schedulerd_queue_depth", factory: factory)
        takenOver = Counter(label: "schedulerd_runs_taken_over_total", factory: factory)
        refused = Counter(label: "schedulerd_refused_writes_total", factory: factory)
    }

    /// Records nothing.
    public static let none = SchedulerMetrics(factory: NOOPMetricsHandler.instance)

    func fired(trigger: String) {
        (fires[trigger]
            ?? Counter(label: "schedulerd_fires_total", dimensions: [("trigger", trigger)], factory: factory))
            .increment()
    }

    func lateness(seconds: Double) {
        latenessTimer.recordNanoseconds(Int64(saturating: max(0, seconds) * 1e9))
    }

    func finished(state: RunState, seconds: Double?) {
        runs[state]?.increment()
        if let seconds { durationTimer.recordNanoseconds(Int64(saturating: max(0, seconds) * 1e9)) }
    }

    func tookOver(_ count: Int) {
        takenOver.increment(by: count)
    }

    func refusedWrite() {
        refused.increment()
    }

    func load(running: Int, queued: Int) {
        self.running.record(running)
        self.queued.record(queued)
    }
}
