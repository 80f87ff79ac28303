// What an agent workflow's tracing costs, for `scripts/bench-agent`:
//
//   agent-overhead FIXTURES_DIR CALLS EXECUTIONS
//
// 1. An `llm` node against the local OpenAI-compatible fixture server (model `echo`), run as a
//    one-node workflow CALLS times, beside the same request sent CALLS times straight through the
//    HTTP client: the difference is what the node adds (rendering, the request body, the CHAT_MODEL,
//    node and root spans, parsing the answer into the state).
// 2. A script that writes 10,000 spans to $SCHEDULERD_SPANS_FILE, run EXECUTIONS times, beside the
//    same script writing them to /dev/null: the difference is reading, checking and recording them.
//
// Spans go to a real exporter whose MLflow is out of reach (they are spooled, as while MLflow is
// down), so the caller's side is measured as in the daemon. Prints one JSON object.
import Foundation
import HTTPClient
import Logging
import MLflowTracing
import ProcessSandbox
import RunTracing
import Tracing
import Workflows

let arguments = CommandLine.arguments
guard arguments.count >= 4, let calls = Int(arguments[2]), let executions = Int(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: agent-overhead FIXTURES_DIR CALLS EXECUTIONS\n".utf8))
    exit(2)
}
let fixtures = URL(fileURLWithPath: arguments[1])
let clock = ContinuousClock()
func microseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
}
func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

// The chat model fixture: it prints its port on its first line.
let server = Process()
server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
server.arguments = ["python3", fixtures.appendingPathComponent("chat_model_server.py").path]
let output = Pipe()
let input = Pipe()
server.standardOutput = output
server.standardInput = input
try server.run()
var portLine = Data()
while !portLine.contains(UInt8(ascii: "\n")) {
    let chunk = output.fileHandleForReading.availableData
    if chunk.isEmpty { break }
    portLine.append(chunk)
}
guard let port = Int(String(decoding: portLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
else {
    FileHandle.standardError.write(Data("the chat model fixture did not start\n".utf8))
    exit(1)
}
let base = "http://127.0.0.1:\(port)/v1"

var logger = Logger(label: "agent-overhead")
logger.logLevel = .error
let work = FileManager.default.temporaryDirectory.appendingPathComponent("agent-overhead-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: work.appendingPathComponent("workflows"), withIntermediateDirectories: true)
try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: work.path)
let exporter = try TraceExporter(
    configuration: MLflowTracingConfiguration(
        trackingURI: URL(string: "http://127.0.0.1:9"), spoolPath: work.appendingPathComponent("spool.sqlite").path,
        experimentName: "bench-agent"),
    logger: logger)
let exporterRun = Task { try await exporter.run() }

// 1. The llm node beside the bare request.
try """
name: ask
entry: ask
state: {question: "how warm is the living room"}
nodes:
  ask:
    llm:
      model: echo
      system: "You are the Architect."
      messages: [{role: user, content: "{{ question }}"}]
      output: answer
""".write(to: work.appendingPathComponent("workflows/ask.yaml"), atomically: true, encoding: .utf8)
let sandbox = SandboxRunner(environment: ["PATH": "/usr/bin:/bin"], workRoot: work.appendingPathComponent("runs"))
let runner = WorkflowRunner(
    catalog: try WorkflowCatalog.load(directory: work), tracer: exporter.tracer,
    configuration: .init(sandbox: sandbox, environment: ["OPENAI_BASE_URL": base]), logger: logger)
let client = HTTPClient(label: "bench")
let body = Array(
    #"{"messages":[{"content":"You are the Architect.","role":"system"},{"content":"how warm is the living room","role":"user"}],"model":"echo"}"#
        .utf8)
var direct: [Double] = []
var node: [Double] = []
for i in 0..<(calls + calls / 10) {
    let t0 = clock.now
    let response = try await client.perform(
        method: "POST", url: base + "/chat/completions",
        headers: [("Content-Type", "application/json"), ("Accept", "application/json")], body: body)
    let t1 = clock.now
    guard response.status == 200 else { fatalError("the fixture answered \(response.status)") }
    let result = await runner.run(RunRequest(workflow: "ask", runID: "bench-\(i)"))
    let t2 = clock.now
    guard result.status == .succeeded else { fatalError("the llm node failed: \(result.error ?? "")") }
    if i >= calls / 10 {  // the first tenth warms the connections up
        direct.append(microseconds(t1 - t0))
        node.append(microseconds(t2 - t1))
    }
}

// 2. 10,000 spans from a script, beside the same script throwing them away.
let spanCount = 10_000
var template = ""
for i in 0..<spanCount {
    template +=
        #"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"TRACE","spanId":"\#(String(format: "%016x", i + 1))","parentSpanId":"PARENT","name":"step-\#(i)","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000000100000","attributes":[{"key":"mlflow.spanType","value":{"stringValue":"CHAIN"}},{"key":"i","value":{"intValue":"\#(i)"}}]}]}]}]}"#
        + "\n"
}
let templatePath = work.appendingPathComponent("spans.template")
try template.write(to: templatePath, atomically: true, encoding: .utf8)
try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: templatePath.path)
func script(_ name: String, to target: String) throws -> String {
    let path = work.appendingPathComponent(name).path
    try """
    #!/bin/sh
    ids=${TRACEPARENT#00-}
    trace=${ids%%-*}
    rest=${ids#*-}
    parent=${rest%%-*}
    sed "s/TRACE/$trace/; s/PARENT/$parent/" "\(templatePath.path)" > \(target)
    echo '{}'
    """.write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    return path
}
let importing = try script("import.sh", to: "\"$SCHEDULERD_SPANS_FILE\"")
let discarding = try script("discard.sh", to: "/dev/null")
var withImport: [Double] = []
var without: [Double] = []
for i in 0..<(executions + 2) {
    for (path, isImport) in [(importing, true), (discarding, false)] {
        let root = exporter.tracer.startSpan("bench", context: .topLevel)
        let t0 = clock.now
        let record = await ServiceContext.withValue(root.context) {
            await sandbox.run(ScriptExecution(script: path), tracer: exporter.tracer)
        }
        let elapsed = microseconds(clock.now - t0)
        root.end()
        guard record.succeeded else { fatalError("the script failed: \(record.failure ?? "")") }
        guard i >= 2 else { continue }
        if isImport { withImport.append(elapsed) } else { without.append(elapsed) }
    }
}

let directMedian = median(direct)
let nodeMedian = median(node)
let importMedian = median(withImport)
let discardMedian = median(without)
let result: [String: Any] = [
    "calls": direct.count,
    "direct_us_p50": directMedian.rounded(), "llm_node_us_p50": nodeMedian.rounded(),
    "llm_overhead_us": (nodeMedian - directMedian).rounded(),
    "executions": withImport.count, "spans": spanCount,
    "script_import_ms_p50": (importMedian / 1000 * 10).rounded() / 10,
    "script_discard_ms_p50": (discardMedian / 1000 * 10).rounded() / 10,
    "import_us_per_span": ((importMedian - discardMedian) / Double(spanCount) * 100).rounded() / 100,
]
print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
exporterRun.cancel()
server.terminate()
try? FileManager.default.removeItem(at: work)
