import Foundation
import HTTPClient
import Logging
import MLflowTesting
import ProcessSandbox
import RunTracing
import SchedulerTesting
import Testing
import Tracing
import TracingTesting

@testable import Workflows

/// The runner's semantics, with spans recorded in memory.
@Suite("The node runner: state, retries, timeouts, cancellation, loops")
struct WorkflowRunnerTests {
    func run(
        _ yaml: String, scripts: [String: String] = [:], input: [String: JSONValue] = [:],
        registry: NodeRegistry = .init(), environment: [String: String] = [:], timeout: Duration? = nil,
        fixture: WorkflowFixture? = nil
    ) async throws -> (RunResult, [MemoryTracer.Recorded]) {
        let fixture = try fixture ?? WorkflowFixture(workflows: ["w": yaml], scripts: scripts)
        let recorder = MemoryTracer()
        let runner = try fixture.runner(tracer: recorder, registry: registry, environment: environment)
        let name = try #require(try fixture.catalog(nodeKinds: registry.kinds).workflows.keys.first)
        let result = await runner.run(RunRequest(workflow: name, input: input, runID: "r1", timeout: timeout))
        return (result, recorder.spans(inTrace: result.traceID ?? ""))
    }

    @Test("updates replace top-level keys; append: concatenates lists; set writes nested paths and templates")
    func stateMerge() async throws {
        let (result, _) = try await run(
            """
            name: merge
            entry: a
            state: {list: [1], keep: yes, nested: {x: 1, y: 2}}
            nodes:
              a:
                set: {list: [2], nested.z: 3, greeting: "hi {{ user.name }}", copy: "{{ nested }}"}
                next: b
              b:
                set: {list: [3, 4]}
                append: [list]
                next: end
            """, input: ["user": ["name": "Ada"]])
        #expect(result.status == .succeeded)
        #expect(result.state["list"] == [2, 3, 4])
        #expect(result.state["keep"] == true)
        #expect(result.state["nested"] == ["x": 1, "y": 2, "z": 3])
        #expect(result.state["greeting"] == "hi Ada")
        #expect(result.state["copy"] == ["x": 1, "y": 2])
    }

    @Test("retry: each attempt is its own span with node.attempt; the run succeeds on the third")
    func retry() async throws {
        let scripts = [
            "scripts/flaky.sh": """
            #!/bin/sh
            n=$(cat "$1/count" 2>/dev/null || echo 0)
            n=$((n + 1))
            echo $n > "$1/count"
            [ $n -ge 3 ] && echo '{"attempts": '$n'}' && exit 0
            echo "attempt $n failed" >&2
            exit 1
            """
        ]
        let probe = try WorkflowFixture(workflows: [:], scripts: scripts)
        let yaml = """
            name: flaky
            entry: fetch
            nodes:
              fetch:
                script: scripts/flaky.sh
                args: ["\(probe.shared.path)"]
                retry: {attempts: 3, backoff: 10ms}
            """
        try yaml.write(
            to: probe.directory.appendingPathComponent("workflows/w.yaml"), atomically: true, encoding: .utf8)
        let (result, spans) = try await run(yaml, fixture: probe)
        #expect(result.status == .succeeded, "\(result.error ?? "")")
        #expect(result.state["attempts"] == 3)
        #expect(result.nodes.map(\.attempt) == [1, 2, 3])
        #expect(result.nodes.map(\.status) == [.failed, .failed, .succeeded])
        let nodeSpans = spans.filter { $0.name == "fetch" }.sorted { $0.startNanos < $1.startNanos }
        #expect(nodeSpans.map { $0.int("node.attempt") } == [1, 2, 3])
        #expect(nodeSpans.map(\.isError) == [true, true, false])
        #expect(nodeSpans.map { $0.int("node.step") } == [1, 2, 3])
    }

    @Test("continue_on_error: the failed node's span is ERROR, the run goes on and succeeds")
    func continueOnError() async throws {
        let (result, spans) = try await run(
            """
            name: tolerant
            entry: optional
            nodes:
              optional:
                script: scripts/fail.sh
                continue_on_error: true
                next: after
              after:
                set: {done: true}
            """, scripts: ["scripts/fail.sh": "#!/bin/sh\necho boom >&2\nexit 2\n"])
        #expect(result.status == .succeeded)
        #expect(result.state["done"] == true)
        #expect(spans.first { $0.name == "optional" }?.isError == true)
        let root = try #require(spans.first { $0.parentSpanID == nil })
        #expect(!root.isError)
    }

    @Test("a node's timeout cancels it and kills its script; the span says so")
    func nodeTimeout() async throws {
        let clock = ContinuousClock()
        let began = clock.now
        let (result, spans) = try await run(
            """
            name: slow
            entry: wait
            nodes:
              wait:
                script: scripts/sleep.sh
                timeout: 300ms
            """, scripts: ["scripts/sleep.sh": "#!/bin/sh\nsleep 60\n"])
        // Well under the script's 60 s: it was killed (the bound is loose because a 2-core machine may be
        // busy starting MLflow for another suite).
        #expect(clock.now - began < .seconds(30))
        #expect(result.status == .failed)
        #expect(
            result.error
                == #"node "wait" failed: NodeTimedOut: node "wait" ran longer than its timeout 300ms and was cancelled"#
        )
        let tool = try #require(spans.first { $0.name == "sleep.sh" })
        #expect(tool.isError)
        #expect(tool.status?.message?.contains("cancelled") == true)
    }

    @Test("the run's timeout ends the run as timed_out, the root ERROR, the running script killed")
    func runTimeout() async throws {
        let (result, spans) = try await run(
            """
            name: slow_run
            entry: wait
            timeout: 400ms
            nodes:
              wait:
                script: scripts/sleep.sh
            """, scripts: ["scripts/sleep.sh": "#!/bin/sh\nsleep 60\n"])
        #expect(result.status == .timedOut)
        #expect(result.error == "the run took longer than its timeout 400ms and was cancelled")
        let root = try #require(spans.first { $0.parentSpanID == nil })
        #expect(root.status?.message == "RunTimedOut: the run took longer than its timeout 400ms and was cancelled")
        #expect(result.nodes.first?.status == .cancelled)
    }

    @Test("cancelling the caller's task ends the run as cancelled and stops the script")
    func cancellation() async throws {
        let fixture = try WorkflowFixture(
            workflows: [:], scripts: ["scripts/sleep.sh": "#!/bin/sh\necho started > \"$1/started\"\nsleep 60\n"])
        try
            "name: long\nentry: wait\nnodes:\n  wait:\n    script: scripts/sleep.sh\n    args: [\"\(fixture.shared.path)\"]\n"
            .write(to: fixture.directory.appendingPathComponent("workflows/w.yaml"), atomically: true, encoding: .utf8)
        let recorder = MemoryTracer()
        let runner = try fixture.runner(tracer: recorder)
        let task = Task { await runner.run(RunRequest(workflow: "long", runID: "r-cancel")) }
        let marker = fixture.shared.appendingPathComponent("started").path
        try await eventually("the script starts") { FileManager.default.fileExists(atPath: marker) }
        task.cancel()
        let result = await task.value
        #expect(result.status == .cancelled)
        #expect(result.nodes.map(\.status) == [.cancelled])
        let root = try #require(recorder.spans.first { $0.parentSpanID == nil })
        #expect(root.status?.message?.hasPrefix("RunCancelled:") == true)
    }

    @Test("a sub-workflow's own timeout stops it; the delegation node fails with that reason")
    func subWorkflowTimeout() async throws {
        let fixture = try WorkflowFixture(
            workflows: [
                "parent": "name: parent\nentry: ask\nnodes:\n  ask:\n    workflow: slow_team\n",
                "team":
                    "name: slow_team\nentry: think\ntimeout: 300ms\nnodes:\n  think:\n    script: scripts/sleep.sh\n",
            ], scripts: ["scripts/sleep.sh": "#!/bin/sh\nsleep 60\n"])
        let recorder = MemoryTracer()
        let result = try await fixture.runner(tracer: recorder).run(
            RunRequest(workflow: "parent", runID: "r-sub"))
        #expect(result.status == .failed)
        #expect(
            result.error
                == #"node "ask" failed: SubWorkflowTimedOut: workflow "slow_team" ran longer than its timeout 300ms and was cancelled"#
        )
        let team = try #require(recorder.spans.first { $0.name == "slow_team" })
        #expect(team.isError)
        #expect(recorder.spans.first { $0.name == "ask" }?.isError == true)
    }

    @Test("a route that loops stops at max_steps with a clear error")
    func loopGuard() async throws {
        let (result, spans) = try await run(
            """
            name: loop
            entry: again
            max_steps: 5
            nodes:
              again:
                route:
                  - when: "true"
                    next: again
                default: end
            """)
        #expect(result.status == .failed)
        #expect(
            result.error
                == #"workflow "loop" reached max_steps 5 at node "again"; a route probably loops, or raise max_steps"#
        )
        #expect(spans.filter { $0.name == "again" }.count == 5)
    }

    @Test("Swift nodes run with their configuration and the state; their errors fail the node")
    func swiftNodes() async throws {
        struct Refused: Error, CustomStringConvertible {
            var description: String { "quota exhausted" }
        }
        var registry = NodeRegistry()
        registry.register("count_words") { invocation in
            let text = invocation.state["text"]?.stringValue ?? ""
            let limit = invocation.configuration["limit"]?.doubleValue ?? 0
            invocation.span.setAttribute("words.limit", .int64(Int64(limit)))
            return ["words": .integer(Int64(min(Double(text.split(separator: " ").count), limit)))]
        }
        registry.register("refuse") { _ in throw Refused() }
        let yaml = """
            name: words
            entry: count
            nodes:
              count:
                swift: count_words
                with: {limit: 3}
                next: refuse
              refuse:
                swift: refuse
            """
        let (result, spans) = try await run(yaml, input: ["text": "one two three four five"], registry: registry)
        #expect(result.state["words"] == 3)
        #expect(result.status == .failed)
        #expect(result.error == #"node "refuse" failed: Refused: quota exhausted"#)
        #expect(spans.first { $0.name == "count" }?.int("words.limit") == 3)
        #expect(spans.first { $0.name == "count" }?.string("node.kind") == "count_words")
    }

    @Test("a failing parallel branch fails the run and cancels its sibling")
    func parallelFailure() async throws {
        let clock = ContinuousClock()
        let began = clock.now
        let (result, spans) = try await run(
            """
            name: fork
            entry: start
            nodes:
              start:
                set: {x: 1}
                next: [bad, slow]
              bad:
                script: scripts/fail.sh
                next: join
              slow:
                script: scripts/sleep.sh
                next: join
              join:
                set: {joined: true}
            """,
            scripts: ["scripts/fail.sh": "#!/bin/sh\nsleep 0.2\nexit 4\n", "scripts/sleep.sh": "#!/bin/sh\nsleep 60\n"])
        // Well under the script's 60 s: it was killed (the bound is loose because a 2-core machine may be
        // busy starting MLflow for another suite).
        #expect(clock.now - began < .seconds(30))
        #expect(result.status == .failed)
        #expect(result.error?.hasPrefix(#"node "bad" failed: ScriptFailed: exited with status 4"#) == true)
        #expect(spans.first { $0.name == "slow" }?.isError == true)
        #expect(!spans.contains { $0.name == "join" })
    }

    @Test("runners made from one configuration share its HTTP connections (a SIGHUP's new runner keeps them)")
    func connectionsOutliveTheRunner() async throws {
        let server = try await MLflowTestServer.shared()
        let fixture = try WorkflowFixture(
            workflows: [
                "w":
                    "name: ping\nentry: get\nnodes:\n  get:\n    http:\n      url: \"\(server.uri.absoluteString)/health\"\n      output: health\n"
            ])
        let configuration = WorkflowRunner.Configuration(
            sandbox: SandboxRunner(environment: [:], workRoot: fixture.directory.appendingPathComponent("work")))
        for runID in ["r1", "r2"] {
            let runner = WorkflowRunner(
                catalog: try fixture.catalog(), tracer: MemoryTracer(), configuration: configuration,
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            let result = await runner.run(RunRequest(workflow: "ping", runID: runID))
            #expect(result.status == .succeeded, "\(result.error ?? "")")
        }
        #expect(configuration.http.connectionsOpened == 1)
    }

    @Test("an HTTP node reports a non-2xx status, and a missing ${VAR} names the variable, not its value")
    func httpFailures() async throws {
        let server = try await MLflowTestServer.shared()
        let (notFound, spans) = try await run(
            """
            name: lookup
            entry: get
            nodes:
              get:
                http:
                  url: "\(server.uri.absoluteString)/api/2.0/mlflow/experiments/get-by-name?experiment_name=absent-x&token=s3cret"
            """)
        #expect(notFound.status == .failed)
        #expect(notFound.error?.contains("returned 404") == true)
        let tool = try #require(spans.first { $0.name == "GET 127.0.0.1/api/2.0/mlflow/experiments/get-by-name" })
        #expect(tool.int("http.response.status_code") == 404)
        #expect(tool.string("url.full")?.hasSuffix("token=REDACTED") == true)
        #expect(tool.isError)

        let (missing, _) = try await run(
            """
            name: secret
            entry: post
            nodes:
              post:
                http:
                  method: POST
                  url: "\(server.uri.absoluteString)/api/2.0/mlflow/experiments/search"
                  headers: {Authorization: "Bearer ${PRICES_TOKEN}"}
                  body: {max_results: 1}
            """)
        #expect(
            missing.error
                == #"node "post" failed: HTTPRequestFailed: header Authorization names ${PRICES_TOKEN}, which is not set in the daemon's environment"#
        )

        let (posted, _) = try await run(
            """
            name: search
            entry: post
            nodes:
              post:
                http:
                  method: POST
                  url: "\(server.uri.absoluteString)/api/2.0/mlflow/experiments/search"
                  headers: {Authorization: "Bearer ${PRICES_TOKEN}"}
                  body: {max_results: "{{ limit }}"}
                  output: found
            """, input: ["limit": 1], environment: ["PRICES_TOKEN": "t0ken"])
        #expect(posted.status == .succeeded, "\(posted.error ?? "")")
        #expect(posted.state["found"]?["experiments"]?.arrayValue?.count == 1)
    }

    @Test(
        "a run's timeout shorter than the HTTP timeout aborts the request in flight",
        .timeLimit(.minutes(1)))
    func httpAbortedByRunTimeout() async throws {
        let server = try await FixtureProcess.start(script: "http_client_server.py")
        let clock = ContinuousClock()
        let began = clock.now
        let (result, spans) = try await run(
            """
            name: stuck
            entry: get
            nodes:
              get:
                http:
                  url: "http://127.0.0.1:\(server.port)/hang"
            """, timeout: .milliseconds(500))
        #expect(result.status == .timedOut)
        // Well under the HTTP timeout of 30 s: the transfer was aborted, not waited out (the bound is
        // loose because a 2-core machine may be busy with other suites).
        #expect(clock.now - began < .seconds(20))
        let tool = try #require(spans.first { $0.name == "GET 127.0.0.1/hang" })
        #expect(tool.isError)
    }

    @Test("inputs and outputs over the limit are cut with the marker")
    func truncation() async throws {
        let big = String(repeating: "x", count: 200_000)
        let (result, spans) = try await run(
            "name: big\nentry: copy\nnodes:\n  copy:\n    set: {echo: \"{{ blob }}\"}\n", input: ["blob": .string(big)])
        #expect(result.status == .succeeded)
        let node = try #require(spans.first { $0.name == "copy" })
        let inputs = try #require(node.inputs)
        #expect(inputs.utf8.count <= 65_536)
        #expect(inputs.contains("[truncated"))
    }
}
