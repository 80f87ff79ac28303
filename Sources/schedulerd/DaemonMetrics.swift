import MLflowTracing
import Prometheus
import Support

/// The daemon's Prometheus metrics (`GET /metrics`): the scheduler's counters and histograms, made
/// through ``factory``, and the gauges the daemon sets itself: the trace spool, export failures,
/// dropped spans, schedules that cannot run, the clock offset and this daemon's identity.
struct DaemonMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// Where the scheduler makes its metrics, with buckets for fire lateness and run durations.
    let factory: PrometheusMetricsFactory
    let spoolDepth: Gauge
    let exportFailures: Gauge
    let spansDropped: Gauge
    /// Schedules whose workflow is not loaded; set at start and on every reload.
    let scheduleProblems: Gauge
    let clockOffset: Gauge

    init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["schedulerd_fire_lateness_seconds"] = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100),
            .milliseconds(500), .seconds(1), .seconds(5), .seconds(30), .seconds(60),
        ]
        factory.durationHistogramBuckets["schedulerd_run_duration_seconds"] = [
            .milliseconds(100), .seconds(1), .seconds(5), .seconds(30), .seconds(60), .seconds(300), .seconds(1800),
            .seconds(3600),
        ]
        self.factory = factory
        spoolDepth = registry.makeGauge(
            descriptor: .init(
                metricName: "schedulerd_trace_spool_depth", unitName: "spans", helpText: "Spans waiting for export."))
        exportFailures = registry.makeGauge(
            descriptor: .init(
                metricName: "schedulerd_trace_export_failed", unitName: "requests",
                helpText: "Export requests that failed (each is retried)."))
        scheduleProblems = registry.makeGauge(
            descriptor: .init(
                metricName: "schedulerd_schedule_problems", unitName: "schedules",
                helpText: "Schedules that cannot run: their workflow is not loaded."))
        clockOffset = registry.makeGauge(
            descriptor: .init(
                metricName: "schedulerd_clock_offset", unitName: "seconds",
                helpText: "This machine's clock minus the database's, at the latest heartbeat."))
        spansDropped = registry.makeGauge(
            descriptor: .init(
                metricName: "schedulerd_trace_dropped", unitName: "spans",
                helpText: "Spans dropped because the spool was full."))
    }

    /// Adds `schedulerd_instance_info{instance_id, host, version} 1`, which ties this daemon's metrics
    /// to its row in `schedule instances` when several daemons share a database. Prometheus labels
    /// every series it scrapes with the target's `instance` (host and port); this series maps that
    /// label to the daemon's id. The id is not called `instance` here: Prometheus would rename it to
    /// `exported_instance` on the way in.
    func identify(instance: String, host: String, version: String) {
        registry.makeGauge(
            descriptor: .init(
                metricName: "schedulerd_instance", unitName: "info",
                helpText: "This daemon: its instance id among those sharing the store, host and version."),
            labels: [("instance_id", instance), ("host", host), ("version", version)]
        ).set(Int64(1))
    }

    /// Every metric in Prometheus' text format, with the exporter's gauges and the clock offset read now.
    func exposition(exporter statistics: TraceExporter.Statistics, clockOffset offset: Duration?) -> String {
        if let offset {
            clockOffset.set(offset.timeInterval)
        }
        spoolDepth.set(Int64(statistics.pending))
        exportFailures.set(Int64(statistics.failedRequests))
        spansDropped.set(Int64(statistics.dropped))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
