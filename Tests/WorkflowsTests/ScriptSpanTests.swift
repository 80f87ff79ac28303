import Foundation
import ProcessSandbox
import RunTracing
import Testing
import Tracing
import TracingTesting

@testable import Workflows

@Suite("A script execution as a TOOL span")
struct ScriptSpanTests {
    @Test("the TOOL span carries the record's attributes, cut to their limits, and the failure")
    func span() async throws {
        let fixture = try WorkflowFixture(
            workflows: [:],
            scripts: [
                "collect.sh": "#!/bin/sh\nhead -c 10000 /dev/zero | tr '\\\\0' 'o'\necho 'bad meter' >&2\nexit 2\n"
            ])
        let tracer = MemoryTracer()
        let sandbox = SandboxRunner(
            environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"],
            workRoot: fixture.directory.appendingPathComponent("work"))
        let path = fixture.directory.appendingPathComponent("collect.sh").path
        let record = await tracer.withSpan("collect") { _ in
            await sandbox.run(ScriptExecution(script: path), tracer: tracer)
        }
        #expect(record.exitCode == 2)
        let spans = tracer.spans
        let tool = try #require(spans.first { $0.name == "collect.sh" })
        let node = try #require(spans.first { $0.name == "collect" })
        #expect(tool.parentSpanID == node.spanID)
        #expect(tool.spanType == "TOOL")
        #expect(tool.int("exit_code") == 2)
        #expect(tool.attributes["timed_out"]?.toSpanAttribute() == .bool(false))
        #expect(tool.attributes["timeout_s"]?.toSpanAttribute() == .double(60))
        #expect(tool.string("policy_name") == "default")
        #expect(tool.int("stdout_bytes") == 10_000)
        #expect(tool.int("stderr_bytes") == 10)
        #expect(tool.int("artifact_count") == 0)
        #expect(tool.int("rejected_count") == 0)
        #expect(tool.string("isolation") == "rlimit")
        let stdout = try #require(tool.string("stdout"))
        #expect(stdout.utf8.count <= 4096 && stdout.hasSuffix(" bytes]"))
        #expect(tool.string("stderr") == "bad meter\n")
        #expect(tool.isError)
        #expect(tool.status?.message == "SandboxFailure: exited with status 2: bad meter")
        #expect(tool.events.first?.name == "exception")
    }
}
