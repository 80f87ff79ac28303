// The caller's cost of one span, span by span, for `scripts/bench-tracing`.
//
//   span-cost MODE SPANS RATE [MLFLOW_URI]
//
// MODE is `off` (tracing disabled), `live` (exporting to the MLflow at MLFLOW_URI) or `stalled`
// (exporting to an address where nothing listens, so every span stays in the spool). Makes SPANS spans
// in traces of 100 (a root and its children), each with the work of a workflow node's span: a type,
// 4 attributes, small inputs and outputs, at RATE spans a second (in steps of 100 spans, sleeping
// between them), or as fast as it can with RATE 0 (then spans end faster than the exporter can
// write them, and they pile up in memory). Each span is timed from its start to its end on the
// caller's side. Prints one JSON object: mode, spans, rate, p50_ns, p90_ns, p99_ns, p999_ns, max_ns,
// mean_ns, seconds.
import Foundation
import Logging
import MLflowTracing
import SpanWork
import Tracing

let arguments = CommandLine.arguments
guard arguments.count >= 4, ["off", "live", "stalled"].contains(arguments[1]), let total = Int(arguments[2]),
    let rate = Int(arguments[3])
else {
    FileHandle.standardError.write(Data("usage: span-cost off|live|stalled SPANS RATE [MLFLOW_URI]\n".utf8))
    exit(2)
}
let mode = arguments[1]
let uri = mode == "live" ? (arguments.count > 4 ? arguments[4] : "") : "http://127.0.0.1:9"
var logger = Logger(label: "span-cost")
logger.logLevel = .error
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("span-cost-\(UUID().uuidString)")
defer { try? FileManager.default.removeItem(at: directory) }

let exporter: TraceExporter? =
    mode == "off"
    ? nil
    : try TraceExporter(
        configuration: MLflowTracingConfiguration(
            trackingURI: URL(string: uri), spoolPath: directory.appendingPathComponent("spool.sqlite").path,
            experimentName: "bench-span-cost"),
        logger: logger)
// Detached: a task made here would start on the main actor, which the loop below never leaves.
let exporting = exporter.map { exporter in Task.detached { try await exporter.run() } }
let tracer = exporter?.tracer ?? .disabled

@inline(__always)
func nanos() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}

var costs = [UInt64](repeating: 0, count: total)
var made = 0
let start = nanos()
while made < total {
    let root = tracer.startSpan("bench", context: .topLevel)
    root.setSpanType(.chain)
    root.setTraceTag("bench", "span-cost")
    for _ in 0..<min(99, total - made) {
        let t0 = nanos()
        nodeSpan(tracer, parent: root.context)
        costs[made] = nanos() - t0
        made += 1
        if rate > 0 && made % 100 == 0 {
            let due = start + UInt64(made) * 1_000_000_000 / UInt64(rate)
            let now = nanos()
            if due > now { usleep(UInt32((due - now) / 1000)) }
        }
    }
    root.end()
}
let elapsed = Double(nanos() - start) / 1e9
let ended = nanos()
if let exporter { _ = await exporter.flushToSpool(timeout: .seconds(60)) }
let drained = Double(nanos() - ended) / 1e9
exporting?.cancel()
_ = try? await exporting?.value

costs.sort()
let sorted = costs
func at(_ p: Double) -> UInt64 { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
let result: [String: Any] = [
    "mode": mode, "spans": total, "rate": rate, "seconds": elapsed, "spool_lag_seconds": drained, "p50_ns": at(0.5),
    "p90_ns": at(0.9), "p99_ns": at(0.99), "p999_ns": at(0.999),
    "max_ns": costs.last ?? 0, "mean_ns": Double(costs.reduce(0, +)) / Double(max(1, costs.count)),
]
let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
FileHandle.standardOutput.write(data + Data("\n".utf8))
