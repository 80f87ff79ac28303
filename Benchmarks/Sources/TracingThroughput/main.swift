// Delivery throughput of the exporter against a live MLflow, for `scripts/bench-tracing`.
//
//   tracing-throughput MLFLOW_URI SPANS [SPANS_PER_TRACE [interleaved]]
//
// Produces SPANS spans at full speed (traces of SPANS_PER_TRACE spans) while MLflow is out of reach,
// recording each trace's cost on the caller's side; then a fresh exporter on the same spool delivers them
// all. With `interleaved`, 200 traces at a time are made side by side, their spans ending in turn (as
// runs going on together end theirs), and the caller's cost is not recorded. Prints one JSON object:
// spans, produce_seconds, per_span_ns_p50/p99 (caller's cost during the burst), deliver_seconds,
// spans_per_second, delivered, complete, dropped, dead_lettered.
import Foundation
import Logging
import MLflowTracing
import RunTracing
import Tracing

let arguments = CommandLine.arguments
guard arguments.count >= 3, let uri = URL(string: arguments[1]), let total = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: tracing-throughput MLFLOW_URI SPANS [SPANS_PER_TRACE]\n".utf8))
    exit(2)
}
let perTrace = arguments.count > 3 ? Int(arguments[3]) ?? 10 : 10
var logger = Logger(label: "throughput")
logger.logLevel = .error
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("throughput-\(UUID().uuidString)")
let spoolPath = directory.appendingPathComponent("spool.sqlite").path
func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

// Phase 1, the burst: spans made at full speed while nothing can be delivered (an address where nothing
// listens), so the caller's cost is measured with the exporter's writer busy and MLflow out of the way.
let offline = try TraceExporter(
    configuration: MLflowTracingConfiguration(
        trackingURI: URL(string: "http://127.0.0.1:9"), spoolPath: spoolPath, experimentName: "bench-throughput"),
    logger: logger)
// Detached: a task made here would start on the main actor, which the loop below never leaves.
let offlineRun = Task.detached { try await offline.run() }
let tracer = offline.tracer
let clock = ContinuousClock()
var perSpan: [Double] = []
perSpan.reserveCapacity(total / perTrace + 1)
let start = clock.now
var made = 0
let interleaved = arguments.count > 4 && arguments[4] == "interleaved"
while interleaved && made < total {
    let roots = (0..<min(200, (total - made) / perTrace)).map { _ in
        let root = tracer.startSpan("burst", context: .topLevel)
        root.setSpanType(.chain)
        root.setTraceTag("bench", "interleaved")
        return root
    }
    if roots.isEmpty { break }
    for i in 1..<perTrace {
        for root in roots {
            let span = tracer.startSpan("node-\(i)", context: root.context)
            span.setSpanType(.chain)
            span.setAttribute("node.step", .int64(Int64(i)))
            span.setInputs(json: #"{"i":\#(i)}"#)
            span.setOutputs(json: #"{"ok":true}"#)
            span.end()
        }
    }
    for root in roots { root.end() }
    made += roots.count * perTrace
    perSpan.append(0)
}
while !interleaved && made < total {
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
    perSpan.append(seconds(clock.now - t0) * 1e9 / Double(perTrace))
    made += perTrace
}
let produced = clock.now - start
let spooled = await offline.flushToSpool(timeout: .seconds(600))
let dropped = offline.statistics.dropped
offlineRun.cancel()
_ = try? await offlineRun.value

// Phase 2, catching up: a new exporter on the same spool delivers everything to MLflow; the rate is
// spans delivered over the time from its start to the last delivery.
let online = try TraceExporter(
    configuration: MLflowTracingConfiguration(
        trackingURI: uri, spoolPath: spoolPath, experimentName: "bench-throughput"),
    logger: logger)
let deliverStart = clock.now
let onlineRun = Task { try await online.run() }
let delivered = await online.flush(timeout: .seconds(1800))
let deliverTime = clock.now - deliverStart
let statistics = online.statistics
onlineRun.cancel()
_ = try? await onlineRun.value

perSpan.sort()
let result: [String: Any] = [
    "spans": made,
    "produce_seconds": seconds(produced),
    "per_span_ns_p50": perSpan[perSpan.count / 2],
    "per_span_ns_p99": perSpan[min(perSpan.count - 1, perSpan.count * 99 / 100)],
    "deliver_seconds": seconds(deliverTime),
    "spans_per_second": Double(statistics.delivered) / seconds(deliverTime),
    "delivered": statistics.delivered,
    "complete": delivered && spooled,
    "dropped": dropped + statistics.dropped,
    "dead_lettered": statistics.deadLettered,
]
let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
FileHandle.standardOutput.write(data + Data("\n".utf8))
