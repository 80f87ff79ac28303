import CoreMetrics
import Foundation
import Storage

/// The scheduler's metrics, through swift-metrics with an injected factory (the daemon passes a
/// Prometheus one; tests pass none):
/// - `schedulerd_fires_total{trigger}`: fires stored (cron, catchup, reboot; skipped ones included);
/// - `schedulerd_fire_lateness_seconds`: from a fire's time (plus its jitter) to its run's start;
/// - `schedulerd_runs_total{state}` and `schedulerd_run_duration_seconds`: finished runs;
/// - `schedulerd_runs_running`, `schedulerd_queue_depth`: runs going, runs waiting for a slot.
public struct SchedulerMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Records nothing.
    public static let none = SchedulerMetrics(factory: NOOPMetricsHandler.instance)

    func fired(trigger: String) {
        Counter(label: "schedulerd_fires_total", dimensions: [("trigger", trigger)], factory: factory).increment()
    }

    func lateness(seconds: Double) {
        Timer(label: "schedulerd_fire_lateness_seconds", factory: factory).recordNanoseconds(
            Int64(max(0, seconds) * 1e9))
    }

    func finished(state: RunState, seconds: Double?) {
        Counter(label: "schedulerd_runs_total", dimensions: [("state", state.rawValue)], factory: factory).increment()
        if let seconds {
            Timer(label: "schedulerd_run_duration_seconds", factory: factory).recordNanoseconds(
                Int64(max(0, seconds) * 1e9))
        }
    }

    func load(running: Int, queued: Int) {
        Gauge(label: "schedulerd_runs_running", factory: factory).record(running)
        Gauge(label: "schedulerd_queue_depth", factory: factory).record(queued)
    }
}
