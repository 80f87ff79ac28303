// Delivery throughput of the exporter against a live MLflow, for `scripts/bench-tracing`.
//
//   tracing-throughput MLFLOW_URI SPANS [SPANS_PER_TRACE]
//
// Produces SPANS spans at full speed (traces of SPANS_PER_TRACE spans), records how long each trace took
// to make on the caller's side, then waits until the exporter has delivered everything. Prints one JSON
// object: spans, produce_seconds, per_span_ns_p50/p99 (caller's cost during the burst), deliver_seconds
// (burst start to last delivery), spans_per_second, dropped, dead_lettered.
import Foundation
import Logging
import MLflowTracing
import Tracing

let arguments = CommandLine.arguments
guard arguments.count >= 3, let uri = URL(string: arguments[1]), let total = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: tracing-throughput MLFLOW_URI SPANS [SPANS_PER_TRACE]\n".utf8))
    exit(2)
}
let perTrace = arguments.count > 3 ? Int(arguments[3]) ?? 10 : 10
var logger = Logger(label: "throughput")
logger.logLevel = .warning
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("throughput-\(UUID().uuidString)")
let exporter = try TraceExporter(
    configuration: MLflowTracingConfiguration(
        trackingURI: uri, spoolPath: directory.appendingPathComponent("spool.sqlite").path,
        experimentName: "bench-throughput"),
    logger: logger)
let tracer = exporter.tracer
let running = Task { try await exporter.run() }

let clock = ContinuousClock()
var perSpan: [Double] = []
perSpan.reserveCapacity(total / perTrace + 1)
let start = clock.now
var made = 0
while made < total {
    let t0 = clock.now
    tracer.withSpan("burst") { root in
        root.setSpanType(.chain)
        root.setTraceTag("bench", "throughput")
        for i in 1..<perTrace {
            tracer.withSpan("node-\(i)") { span in
                span.setSpanType(.chain)
                span.setAttribute("node.step", .int64(Int64(i)))
                span.setInputs(json: #"{"i":\#(i)}"#)
                span.setOutputs(json: #"{"ok":true}"#)
            }
        }
    }
    let elapsed = clock.now - t0
    perSpan.append(
        Double(elapsed.components.attoseconds) / 1e9 / Double(perTrace) + Double(elapsed.components.seconds) * 1e9
            / Double(perTrace))
    made += perTrace
}
let produced = clock.now - start
let delivered = await exporter.flush(timeout: .seconds(1800))
let finished = clock.now - start
let statistics = exporter.statistics
running.cancel()
_ = try? await running.value

perSpan.sort()
func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
let result: [String: Any] = [
    "spans": made,
    "produce_seconds": seconds(produced),
    "per_span_ns_p50": perSpan[perSpan.count / 2],
    "per_span_ns_p99": perSpan[min(perSpan.count - 1, perSpan.count * 99 / 100)],
    "deliver_seconds": seconds(finished),
    "spans_per_second": Double(statistics.delivered) / seconds(finished),
    "delivered": statistics.delivered,
    "complete": delivered,
    "dropped": statistics.dropped,
    "dead_lettered": statistics.deadLettered,
]
let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
FileHandle.standardOutput.write(data + Data("\n".utf8))
