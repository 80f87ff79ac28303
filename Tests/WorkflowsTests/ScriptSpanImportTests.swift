import Foundation
import MLflowTesting
import SchedulerTesting
import Testing
import Tracing
import TracingTesting

@testable import Workflows

/// Spans a script records in `$SCHEDULERD_SPANS_FILE` join the run's trace under its TOOL span; what
/// does not belong there is counted, never fatal.
@Suite("Spans from inside scripts")
struct ScriptSpanImportTests {
    static var helper: String {
        get throws {
            try String(
                contentsOf: TestFixtures.packageRoot.appendingPathComponent("schedules/scripts/schedulerd_spans.py"),
                encoding: .utf8)
        }
    }

    func run(script: String, policy: String? = nil) async throws -> (RunResult, [MemoryTracer.Recorded]) {
        let fixture = try WorkflowFixture(
            workflows: [
                "w": "name: w\nentry: work\nnodes:\n  work:\n    script: scripts/work.py\n"
                    + (policy.map { "    policy: \($0)\n" } ?? "")
            ],
            scripts: ["scripts/work.py": script, "scripts/schedulerd_spans.py": try Self.helper],
            policies: "policies:\n  big:\n    file_size: 2GiB\n    timeout: 2m\n")
        let tracer = MemoryTracer()
        let result = try await fixture.runner(tracer: tracer).run(RunRequest(workflow: "w", runID: "r1"))
        return (result, tracer.spans(inTrace: result.traceID ?? ""))
    }

    @Test("the Python helper's nested spans nest under the TOOL span, with type, inputs, outputs and errors")
    func helper() async throws {
        let (result, spans) = try await run(
            script: """
                #!/usr/bin/env python3
                import json, os, sys
                sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
                from schedulerd_spans import span
                with span("fetch_readings", type="RETRIEVER", inputs={"room": "kitchen"}, rows=3) as fetch:
                    with span("parse", type="PARSER") as parse:
                        parse.set_outputs({"values": [1, 2, 3]})
                    try:
                        with span("validate"):
                            raise ValueError("reading 2 is negative")
                    except ValueError:
                        pass
                    fetch.set_outputs({"count": 3})
                print(json.dumps({"done": True}))
                """)
        #expect(result.status == .succeeded, "\(result.error ?? "")")
        let tool = try #require(spans.first { $0.name == "work.py" })
        #expect(tool.int("spans.imported") == 3)
        #expect(tool.int("spans.rejected") == 0)
        let fetch = try #require(spans.first { $0.name == "fetch_readings" })
        #expect(fetch.parentSpanID == tool.spanID)
        #expect(fetch.spanType == "RETRIEVER")
        #expect(fetch.inputs == #"{"room": "kitchen"}"#)
        #expect(fetch.outputs == #"{"count": 3}"#)
        #expect(fetch.int("rows") == 3)
        #expect(fetch.startNanos >= tool.startNanos && fetch.endNanos <= tool.endNanos)
        let parse = try #require(spans.first { $0.name == "parse" })
        #expect(parse.parentSpanID == fetch.spanID)
        #expect(parse.spanType == "PARSER")
        let validate = try #require(spans.first { $0.name == "validate" })
        #expect(validate.isError)
        #expect(validate.status?.message == "ValueError: reading 2 is negative")
        #expect(validate.events.first?.name == "exception")
    }

    @Test("100,000 spans, broken lines, other traces and orphans: 10,000 kept, the rest counted")
    func hostile() async throws {
        let (result, spans) = try await run(
            script: """
                #!/usr/bin/env python3
                import json, os
                trace, parent = os.environ["TRACEPARENT"].split("-")[1:3]
                def line(span_id, parent_id, trace_id=trace):
                    span = {"traceId": trace_id, "spanId": span_id, "parentSpanId": parent_id, "name": "s",
                            "startTimeUnixNano": "1", "endTimeUnixNano": "2"}
                    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}) + "\\n"
                with open(os.environ["SCHEDULERD_SPANS_FILE"], "w") as f:
                    f.write("not json\\n{\\"resourceSpans\\": [\\n")
                    f.write(line("%016x" % 1, parent, trace_id="0" * 31 + "1"))
                    f.write(line("%016x" % 2, "%016x" % 999999999))
                    for i in range(100000):
                        f.write(line("%016x" % (i + 10), parent))
                print("{}")
                """)
        #expect(result.status == .succeeded, "\(result.error ?? "")")
        let tool = try #require(spans.first { $0.name == "work.py" })
        #expect(tool.int("spans.imported") == 10_000)
        #expect(tool.int("spans.dropped") == 90_000)
        #expect(tool.int("spans.rejected") == 4)
        #expect(spans.filter { $0.name == "s" }.count == 10_000)
    }

    @Test("a 1 GiB spans file is read only up to its limit; a link to another file is not followed")
    func largeAndLinked() async throws {
        let (large, largeSpans) = try await run(
            script: """
                #!/usr/bin/env python3
                import os
                os.truncate(os.environ["SCHEDULERD_SPANS_FILE"], 1 << 30)
                print("{}")
                """, policy: "big")
        #expect(large.status == .succeeded, "\(large.error ?? "")")
        let tool = try #require(largeSpans.first { $0.name == "work.py" })
        #expect(tool.int("spans.imported") == 0)
        #expect(tool.int("spans.rejected") == 1)

        // A file the script may not read itself (when the tests run as root, the scripts run as
        // nobody) must not reach the trace through a link.
        let secret = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID()).jsonl")
        try "{\"resourceSpans\": []}\n".write(to: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: secret) }
        let (linked, linkedSpans) = try await run(
            script: """
                #!/usr/bin/env python3
                import os
                path = os.environ["SCHEDULERD_SPANS_FILE"]
                os.remove(path)
                os.symlink("\(secret.path)", path)
                print("{}")
                """)
        #expect(linked.status == .succeeded, "\(linked.error ?? "")")
        let linkedTool = try #require(linkedSpans.first { $0.name == "work.py" })
        // The link reads as an empty file: nothing imported, nothing counted.
        #expect(linkedTool.int("spans.imported") == nil)
    }
}

/// The same spans read back from a real MLflow server.
@Suite("Spans from inside scripts, in MLflow", .serialized)
struct ScriptSpanTraceTests {
    @Test("a script's spans are in its run's trace, under its TOOL span, with their type and outputs")
    func readBack() async throws {
        let server = try await MLflowTestServer.shared()
        let running = try RunningExporter.start(uri: server.uri)
        try await stopping(running) { running in
            let fixture = try WorkflowFixture(
                workflows: ["w": "name: w\nentry: work\nnodes:\n  work:\n    script: scripts/work.py\n"],
                scripts: [
                    "scripts/work.py": """
                    #!/usr/bin/env python3
                    import os, sys
                    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
                    from schedulerd_spans import span
                    with span("fetch_readings", type="RETRIEVER") as fetch:
                        with span("parse"):
                            pass
                        fetch.set_outputs({"count": 3})
                    print("{}")
                    """,
                    "scripts/schedulerd_spans.py": try ScriptSpanImportTests.helper,
                ])
            let result = try await fixture.runner(tracer: running.tracer).run(
                RunRequest(workflow: "w", runID: "r-spans"))
            #expect(result.status == .succeeded, "\(result.error ?? "")")
            try await running.flush()
            let trace = try await readTrace(server, result)
            let tool = try #require(trace.span(named: "work.py"))
            let fetch = try #require(trace.span(named: "fetch_readings"))
            #expect(fetch.parentSpanID == tool.spanID)
            #expect(fetch.string("mlflow.spanType") == "RETRIEVER")
            #expect((fetch.json("mlflow.spanOutputs") as? [String: Any])?["count"] as? Int == 3)
            #expect(trace.span(named: "parse")?.parentSpanID == fetch.spanID)
            #expect(trace.state == "OK")
        }
    }
}
