// A process that makes traces and then waits to be killed: the crash half of the spool tests.
// Usage: trace-probe SPOOL_PATH TRACKING_URI TRACES [ended]
// Prints one line "spooled <trace id> …" once every span is in the spool, then sleeps. With `ended`, it
// prints "ended <trace id> …" as soon as the last span has ended, without waiting for the spool.
import Foundation
import Logging
import MLflowTracing
import RunTracing
import Tracing

let arguments = CommandLine.arguments
guard arguments.count == 4 || (arguments.count == 5 && arguments[4] == "ended"), let uri = URL(string: arguments[2]),
    let count = Int(arguments[3])
else {
    FileHandle.standardError.write(Data("usage: trace-probe SPOOL_PATH TRACKING_URI TRACES [ended]\n".utf8))
    exit(2)
}
let exporter = try TraceExporter(
    configuration: MLflowTracingConfiguration(trackingURI: uri, spoolPath: arguments[1], experimentName: "probe"),
    logger: Logger(label: "probe"))
let tracer = exporter.tracer
let running = Task { try await exporter.run() }
var ids: [String] = []
for i in 0..<count {
    let id = tracer.withSpan("probe-\(i)") { root -> String in
        root.setTraceTag("probe", "\(i)")
        tracer.withSpan("probe-\(i)-a") { _ in }
        tracer.withSpan("probe-\(i)-b") { _ in }
        return root.traceID!.mlflowTraceID
    }
    ids.append(id)
}
if arguments.count == 5 {
    FileHandle.standardOutput.write(Data(("ended " + ids.joined(separator: " ") + "\n").utf8))
    try await Task.sleep(for: .seconds(3600))
}
guard await exporter.flushToSpool(timeout: .seconds(30)) else {
    FileHandle.standardError.write(Data("spans did not reach the spool\n".utf8))
    exit(1)
}
FileHandle.standardOutput.write(Data(("spooled " + ids.joined(separator: " ") + "\n").utf8))
try await Task.sleep(for: .seconds(3600))
_ = running
