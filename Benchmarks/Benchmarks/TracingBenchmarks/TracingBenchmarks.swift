import Benchmark
import Foundation
import Logging
import MLflowTracing
import RunTracing
import SpanWork
import Tracing

// The cost of one span on the run's path: start, four attributes, small inputs and outputs, end.
//
// - "span off": tracing disabled (no MLFLOW_TRACKING_URI); the target is under 100 ns.
// - "span exporting": a live exporter (spool + MLflow at $BENCH_MLFLOW_URI, or an address where nothing
//   listens when unset, so spans pile up in the spool); the target is under 5 µs at the median.
// `scripts/bench-tracing` runs these next to MLflow's Python SDK doing the same against the same server.

final class ExporterBox: @unchecked Sendable {
    var exporter: TraceExporter?
    var task: Task<Void, any Error>?
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: .kilo(10)
    )

    Benchmark("span off") { benchmark in
        let tracer = MLflowTracer.disabled
        for _ in benchmark.scaledIterations {
            nodeSpan(tracer, parent: .topLevel)
        }
    }

    let box = ExporterBox()
    Benchmark(
        "span exporting",
        configuration: .init(
            setup: {
                let uri = ProcessInfo.processInfo.environment["BENCH_MLFLOW_URI"] ?? "http://127.0.0.1:9"
                let directory = FileManager.default.temporaryDirectory
                    .appendingPathComponent("bench-spool-\(UUID().uuidString)")
                var logger = Logger(label: "bench")
                logger.logLevel = .error
                let exporter = try TraceExporter(
                    configuration: MLflowTracingConfiguration(
                        trackingURI: URL(string: uri), spoolPath: directory.appendingPathComponent("spool.sqlite").path,
                        experimentName: "bench-spans"),
                    logger: logger)
                box.exporter = exporter
                box.task = Task { try await exporter.run() }
            },
            teardown: {
                box.task?.cancel()
                _ = try? await box.task?.value
            })
    ) { benchmark in
        guard let tracer = box.exporter?.tracer else { return }
        // One trace per batch: a root with `scaledIterations` children.
        let root = tracer.startSpan("bench", context: .topLevel)
        root.setSpanType(.chain)
        for _ in benchmark.scaledIterations {
            nodeSpan(tracer, parent: root.context)
        }
        root.end()
    }
}
