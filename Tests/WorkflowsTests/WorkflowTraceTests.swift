import Foundation
import MLflowTesting
import MLflowTracing
import RunTracing
import SchedulerTesting
import Testing

@testable import Workflows

/// The seed's user stories, run against a real MLflow server and read back through its REST API.
@Suite("Workflow runs as MLflow traces", .serialized)
struct WorkflowTraceTests {
    static let optimization = """
        name: optimization
        type: optimization
        entry: collect_behavioral_data
        state: {home: demo}
        nodes:
          collect_behavioral_data:
            script: scripts/collect.sh
            next: analyze_and_suggest
          analyze_and_suggest:
            script: scripts/analyze.sh
            next: architect_review
          architect_review:
            set: {review: "approved for {{ home }}"}
            next: present_recommendations
          present_recommendations:
            script: scripts/present.sh
            next: end
        """

    static func optimizationFixture(analyze: String) throws -> WorkflowFixture {
        try WorkflowFixture(
            workflows: ["optimization": optimization],
            scripts: [
                "scripts/collect.sh": emit(#"{"events": 42}"#),
                "scripts/analyze.sh": analyze,
                "scripts/present.sh": emit(#"{"presented": true}"#),
            ])
    }

    @Test("US1: a four-node workflow is a root with four node spans, each with duration, inputs and outputs")
    func fourNodes() async throws {
        let server = try await MLflowTestServer.shared()
        let running = try RunningExporter.start(uri: server.uri)
        try await stopping(running) { running in
            let fixture = try Self.optimizationFixture(analyze: emit(#"{"suggestions": ["lower the heating"]}"#))
            let runner = try fixture.runner(tracer: running.tracer)

            let result = await runner.run(
                RunRequest(workflow: "optimization", input: ["day": "2024-03-10"], trigger: "manual", runID: "run-us1"))
            #expect(result.status == .succeeded, "\(result.error ?? "")")
            #expect(result.state["review"] == "approved for demo")
            #expect(result.state["presented"] == true)
            #expect(
                result.nodes.map(\.node) == [
                    "collect_behavioral_data", "analyze_and_suggest", "architect_review", "present_recommendations",
                ])
            try await running.flush()

            let trace = try await readTrace(server, result)
            #expect(trace.state == "OK")
            #expect(trace.tags["trigger"] == "manual")
            #expect(trace.tags["run_id"] == "run-us1")
            #expect(trace.tags["workflow"] == "optimization")
            let root = try #require(trace.root)
            #expect(root.name == "optimization")
            let nodes = trace.children(of: root).sorted { $0.startNanos < $1.startNanos }
            #expect(nodes.map(\.name) == result.nodes.map(\.node))
            for (index, node) in nodes.enumerated() {
                #expect(node.string("mlflow.spanType") == "CHAIN")
                #expect(node.int("node.step") == index + 1)
                #expect(node.int("node.attempt") == 1)
                #expect(node.endNanos > node.startNanos)
                #expect(node.statusCode == "STATUS_CODE_OK")
                #expect((node.json("mlflow.spanInputs") as? [String: Any])?["day"] as? String == "2024-03-10")
                #expect(node.json("mlflow.spanOutputs") is [String: Any])
            }
            #expect((nodes[0].json("mlflow.spanOutputs") as? [String: Any])?["events"] as? Int == 42)
            #expect(
                (nodes[2].json("mlflow.spanOutputs") as? [String: Any])?["review"] as? String == "approved for demo")
            #expect(nodes[2].string("node.kind") == "set")
            // Each script node has its TOOL span inside it.
            let tool = try #require(trace.children(of: nodes[1]).first)
            #expect(tool.name == "analyze.sh")
            #expect(tool.string("mlflow.spanType") == "TOOL")
            #expect(tool.int("exit_code") == 0)
            #expect(trace.spans.count == 1 + 4 + 3)
        }
    }

    @Test("US1: a node failing in the middle is ERROR with the exception; earlier nodes OK, later ones absent")
    func failureInTheMiddle() async throws {
        let server = try await MLflowTestServer.shared()
        let running = try RunningExporter.start(uri: server.uri)
        try await stopping(running) { running in
            let fixture = try Self.optimizationFixture(
                analyze: "#!/bin/sh\necho 'no behavioral data for demo' >&2\nexit 3\n")
            let runner = try fixture.runner(tracer: running.tracer)

            let result = await runner.run(RunRequest(workflow: "optimization", runID: "run-us1-fail"))
            #expect(result.status == .failed)
            #expect(
                result.error
                    == #"node "analyze_and_suggest" failed: ScriptFailed: exited with status 3: no behavioral data for demo"#
            )
            #expect(result.nodes.map(\.status) == [.succeeded, .failed])
            try await running.flush()

            let trace = try await readTrace(server, result)
            #expect(trace.state == "ERROR")
            let root = try #require(trace.root)
            #expect(root.statusCode == "STATUS_CODE_ERROR")
            #expect(root.statusMessage.hasPrefix("NodeFailed: node \"analyze_and_suggest\" failed"))
            let nodes = trace.children(of: root).sorted { $0.startNanos < $1.startNanos }
            #expect(nodes.map(\.name) == ["collect_behavioral_data", "analyze_and_suggest"])
            #expect(nodes[0].statusCode == "STATUS_CODE_OK")
            #expect(nodes[1].statusCode == "STATUS_CODE_ERROR")
            #expect(nodes[1].statusMessage == "ScriptFailed: exited with status 3: no behavioral data for demo")
            let exception = try #require(nodes[1].events.first { $0.name == "exception" })
            #expect(exception.attributes["exception.type"] as? String == "ScriptFailed")
            #expect(
                exception.attributes["exception.message"] as? String
                    == "exited with status 3: no behavioral data for demo")
            #expect(trace.span(named: "architect_review") == nil)
            #expect(trace.span(named: "present_recommendations") == nil)
        }
    }

    @Test(
        "US1-3: propose → a script tool call → an http tool call → approval_gate → deploy, as distinct spans in order")
    func conversation() async throws {
        let server = try await MLflowTestServer.shared()
        let running = try RunningExporter.start(uri: server.uri)
        try await stopping(running) { running in
            let fixture = try WorkflowFixture(
                workflows: [
                    "conversation": """
                    name: conversation
                    entry: architect_propose
                    nodes:
                      architect_propose:
                        set: {proposal: {action: dim_lights, risk: low}}
                        next: run_query
                      run_query:
                        script: scripts/query.sh
                        next: lookup_experiment
                      lookup_experiment:
                        http:
                          method: GET
                          url: "\(server.uri.absoluteString)/api/2.0/mlflow/experiments/get-by-name?experiment_name={{ experiment }}"
                          headers: {X-Request-Source: "schedulerd ${SOURCE_TAG}"}
                          output: lookup
                        next: approval_gate
                      approval_gate:
                        route:
                          - when: "proposal.risk == 'high'"
                            next: reject
                          - when: "lookup.experiment.name == experiment and readings > 10"
                            next: developer_deploy
                        default: reject
                      developer_deploy:
                        set: {deployed: "{{ proposal.action }}"}
                        next: end
                      reject:
                        set: {deployed: false}
                        next: end
                    """
                ],
                scripts: ["scripts/query.sh": emit(#"{"readings": 96}"#)])
            let runner = try fixture.runner(tracer: running.tracer, environment: ["SOURCE_TAG": "tests"])

            let result = await runner.run(
                RunRequest(workflow: "conversation", input: ["experiment": "Default"], runID: "run-conv"))
            #expect(result.status == .succeeded, "\(result.error ?? "")")
            #expect(result.state["deployed"] == "dim_lights")
            try await running.flush()

            let trace = try await readTrace(server, result)
            let root = try #require(trace.root)
            let nodes = trace.children(of: root).sorted { $0.startNanos < $1.startNanos }
            #expect(
                nodes.map(\.name) == [
                    "architect_propose", "run_query", "lookup_experiment", "approval_gate", "developer_deploy",
                ])
            #expect(nodes.map { $0.int("node.step") } == [1, 2, 3, 4, 5])
            #expect(zip(nodes, nodes.dropFirst()).allSatisfy { $0.endNanos <= $1.startNanos })
            let http = try #require(trace.children(of: nodes[2]).first)
            #expect(http.name == "GET 127.0.0.1/api/2.0/mlflow/experiments/get-by-name")
            #expect(http.string("mlflow.spanType") == "TOOL")
            #expect(http.int("http.response.status_code") == 200)
            #expect(http.string("http.request.method") == "GET")
            #expect(http.string("url.full")?.hasSuffix("experiment_name=Default") == true)
            let gate = nodes[3]
            #expect(gate.string("node.kind") == "route")
            #expect(gate.string("route.selected") == "developer_deploy")
            let candidates = try #require(gate.json("route.candidates") as? [[String: Any]])
            #expect(candidates.map { $0["matched"] as? Bool } == [false, true, false])
        }
    }

    @Test("US4: architect → consult_team (AGENT) → team_analysis → select_specialist → specialist, nested")
    func delegation() async throws {
        let server = try await MLflowTestServer.shared()
        let running = try RunningExporter.start(uri: server.uri)
        try await stopping(running) { running in
            let fixture = try WorkflowFixture(
                workflows: [
                    "architect": """
                    name: architect
                    entry: architect
                    nodes:
                      architect:
                        set: {question: "why is the energy use high?", focus: behavioral}
                        next: consult_team
                      consult_team:
                        workflow: team_analysis
                        input: {question: "{{ question }}", specialist: "{{ focus }}"}
                        output: {team_answer: "{{ answer }}"}
                        next: summarize
                      summarize:
                        set: {summary: "team says: {{ team_answer }}"}
                        next: end
                    """,
                    "team": """
                    name: team_analysis
                    type: team_analysis
                    entry: select_specialist
                    nodes:
                      select_specialist:
                        route:
                          - when: "specialist == 'behavioral'"
                            next: behavioral_analyst
                        default: energy_analyst
                      behavioral_analyst:
                        script: scripts/behavioral.sh
                        next: end
                      energy_analyst:
                        set: {answer: energy}
                        next: end
                    """,
                ],
                scripts: ["scripts/behavioral.sh": emit(#"{"answer": "evening habits"}"#)])
            let runner = try fixture.runner(tracer: running.tracer)

            let result = await runner.run(RunRequest(workflow: "architect", runID: "run-us4"))
            #expect(result.status == .succeeded, "\(result.error ?? "")")
            #expect(result.state["summary"] == "team says: evening habits")
            #expect(result.state["team_answer"] == "evening habits")
            try await running.flush()

            let trace = try await readTrace(server, result)
            let root = try #require(trace.root)
            #expect(root.name == "architect")
            let consult = try #require(trace.span(named: "consult_team"))
            #expect(consult.parentSpanID == root.spanID)
            #expect(consult.string("mlflow.spanType") == "AGENT")
            #expect(consult.string("delegation.from") == "architect")
            #expect(consult.string("delegation.to") == "team_analysis")
            let team = try #require(trace.children(of: consult).first)
            #expect(team.name == "team_analysis")
            #expect(team.string("mlflow.spanType") == "CHAIN")
            let inner = trace.children(of: team).sorted { $0.startNanos < $1.startNanos }
            #expect(inner.map(\.name) == ["select_specialist", "behavioral_analyst"])
            #expect(inner[0].string("route.selected") == "behavioral_analyst")
            #expect(trace.children(of: inner[1]).first?.name == "behavioral.sh")
            // One trace: every span shares it, and the node steps count across the delegation.
            #expect(trace.spans.count == 8)  // root, 3 nodes, team_analysis, 2 nodes, 1 TOOL
            #expect(trace.span(named: "summarize")?.int("node.step") == 5)
        }
    }

    @Test("parallel branches are sibling spans that overlap in time, joined before the next node")
    func parallel() async throws {
        let server = try await MLflowTestServer.shared()
        let running = try RunningExporter.start(uri: server.uri)
        try await stopping(running) { running in
            let fixture = try WorkflowFixture(
                workflows: [
                    "fanout": """
                    name: fanout
                    entry: start
                    state: {history: [start]}
                    nodes:
                      start:
                        set: {started: true}
                        next: [weather, prices]
                      weather:
                        script: scripts/weather.sh
                        append: [history]
                        next: report
                      prices:
                        script: scripts/prices.sh
                        append: [history]
                        next: report
                      report:
                        set: {report: "{{ weather }} / {{ prices }}"}
                        next: end
                    """
                ],
                scripts: [
                    "scripts/weather.sh": emit(#"{"weather": "sunny", "history": ["weather"]}"#, sleep: 0.6),
                    "scripts/prices.sh": emit(#"{"prices": "low", "history": ["prices"]}"#, sleep: 0.6),
                ])
            let runner = try fixture.runner(tracer: running.tracer)
            let result = await runner.run(RunRequest(workflow: "fanout", runID: "run-par"))
            #expect(result.status == .succeeded, "\(result.error ?? "")")
            #expect(result.state["report"] == "sunny / low")
            #expect(result.state["history"] == ["start", "weather", "prices"])
            try await running.flush()

            let trace = try await readTrace(server, result)
            let root = try #require(trace.root)
            let weather = try #require(trace.span(named: "weather"))
            let prices = try #require(trace.span(named: "prices"))
            let report = try #require(trace.span(named: "report"))
            #expect(weather.parentSpanID == root.spanID && prices.parentSpanID == root.spanID)
            #expect(weather.startNanos < prices.endNanos && prices.startNanos < weather.endNanos)
            #expect(report.startNanos >= max(weather.endNanos, prices.endNanos))
        }
    }

    @Test("100 runs of different workflows at once: 100 traces, and no span in another run's trace")
    func concurrentRuns() async throws {
        let server = try await MLflowTestServer.shared()
        let running = try RunningExporter.start(uri: server.uri)
        try await stopping(running) { running in
            var workflows: [String: String] = [:]
            for kind in 0..<4 {
                workflows["w\(kind)"] = """
                    name: w\(kind)
                    entry: first
                    nodes:
                      first:
                        set: {seen_\(kind): "{{ token }}"}
                        next: \(kind % 2 == 0 ? "[left, right]" : "middle")
                      \(kind % 2 == 0 ? "left" : "middle"):
                        script: scripts/echo.sh
                        next: last
                      \(kind % 2 == 0 ? "right:\n    set: {right: \"{{ token }}\"}\n    next: last" : "")
                      last:
                        set: {done: "{{ token }}"}
                        next: end
                    """
            }
            let fixture = try WorkflowFixture(
                workflows: workflows,
                scripts: ["scripts/echo.sh": "#!/bin/sh\nsed 's/.*\"token\":\"\\([^\"]*\\)\".*/{\"echo\":\"\\1\"}/'\n"])
            let runner = try fixture.runner(tracer: running.tracer)

            let results = await withTaskGroup(of: RunResult.self) { group in
                for i in 0..<100 {
                    group.addTask {
                        await runner.run(
                            RunRequest(workflow: "w\(i % 4)", input: ["token": .string("t\(i)")], runID: "run-\(i)"))
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.count == 100)
            #expect(results.allSatisfy { $0.status == .succeeded })
            #expect(Set(results.compactMap(\.traceID)).count == 100)
            try await running.flush()

            for result in results {
                let token = try #require(result.state["token"]?.stringValue)
                #expect(result.state["done"]?.stringValue == token)
                #expect(result.state["echo"]?.stringValue == token)
                let trace = try await readTrace(server, result)
                #expect(trace.tags["run_id"] == "run-\(token.dropFirst())")
                let parallel = Int(token.dropFirst())! % 4 % 2 == 0
                #expect(trace.spans.count == (parallel ? 6 : 5), "trace of \(token) has \(trace.spans.map(\.name))")
                for span in trace.spans {
                    let inputs = span.json("mlflow.spanInputs") as? [String: Any]
                    if let inputs {
                        #expect(inputs["token"] as? String == token, "span \(span.name) in \(token)'s trace")
                    }
                }
            }
        }
    }
}

/// The run's trace, read back from MLflow.
func readTrace(_ server: MLflowTestServer, _ result: RunResult) async throws -> MLflowReader.Trace {
    let id = try #require(result.traceID, "the run has no trace id")
    return try #require(try await MLflowReader(uri: server.uri).trace(id), "MLflow has no trace \(id)")
}
