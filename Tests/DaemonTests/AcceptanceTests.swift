import Foundation
import MLflowTesting
import SchedulerTesting
import Testing
import Workflows

/// The seed's acceptance scenarios, end to end: a real MLflow server, the `schedulerd` binary with
/// the shipped `schedules/` (plus a few test-only workflows for failures, timeouts and long output),
/// runs started with the `schedule` CLI, by cron and by signed webhooks, and every trace read back
/// with MLflow's own Python client (`mlflow.search_traces`, `mlflow.get_trace`).
@Suite("Seed acceptance: the shipped workflows through the daemon, read back with MLflow's Python client", .serialized)
struct AcceptanceTests {
    /// The nine workflow types and the schedule each is run through (by `schedule run`).
    static let types: [(type: String, schedule: String)] = [
        ("conversation", "conversation_hook"), ("optimization", "optimization_weekly"),
        ("discovery", "discovery_hourly"), ("dashboard", "dashboard_quarter_hourly"), ("review", "review_on_push"),
        ("team_analysis", "team_analysis_daily"), ("automation_builder", "automation_builder"),
        ("scheduled_analysis", "nightly_energy"), ("diagnostic", "diagnostic_manual"),
    ]

    // MARK: - The end-to-end check

    @Test("end to end: one trace per workflow type, with its tags, a span per node that ran, TOOL and AGENT spans")
    func endToEnd() async throws {
        let world = try await AcceptanceWorld.shared.observed()
        for (type, schedule) in Self.types {
            let trace = try world.trace(of: "type:\(type)")
            #expect(trace.tags["workflow"] == type, "\(type)")
            #expect(trace.tags["trigger"] == "manual", "\(type)")
            #expect(trace.tags["schedule_id"] == world.scheduleIDs[schedule], "\(type)")
            let run = try world.run("type:\(type)")
            #expect(trace.state == "OK", "\(type): \(trace.state): \(run["error"]?.stringValue ?? "")")
            for node in run["nodes"]?.arrayValue ?? [] {
                let name = node["node"]?.stringValue ?? ""
                #expect(trace.spans.contains { $0.name == name }, "\(type): no span for node \(name)")
            }
            #expect(world.searched.contains(trace.traceID), "mlflow.search_traces finds \(type)")
        }
        #expect(!world.sandboxSpans.isEmpty)
        for tool in world.sandboxSpans {
            #expect(tool.missingSandboxAttributes.isEmpty, "\(tool.name): \(tool.attributes.keys.sorted())")
        }
        let webhook = try world.trace(of: "webhook:review")
        #expect(webhook.tags["trigger"] == "webhook")
        #expect(webhook.tags["delivery_id"] == "acceptance-delivery-1")
        #expect(webhook.tags["schedule_id"] == world.scheduleIDs["review_on_push"])
    }

    // MARK: - User story 1: per-node workflow tracing

    @Test("US1-1: an optimization run is a parent span with a child span per node: duration, inputs, outputs")
    func us1_1() async throws {
        let trace = try await AcceptanceWorld.shared.observed().trace(of: "type:optimization")
        let root = try #require(trace.root)
        for name in ["collect_behavioral_data", "analyze_and_suggest", "architect_review", "present_recommendations"] {
            let span = try #require(trace.span(named: name), "\(name)")
            #expect(span.parentID == root.spanID, "\(name) is a child of the workflow span")
            #expect(span.endNS > span.startNS)
            #expect(span.inputs.objectValue != nil, "\(name) has inputs")
            #expect(span.outputs.objectValue != nil, "\(name) has outputs")
            #expect(span.status == "OK")
        }
    }

    @Test("US1-2: a node failing mid-workflow shows the exception; the nodes before it are OK")
    func us1_2() async throws {
        let world = try await AcceptanceWorld.shared.observed()
        let trace = try world.trace(of: "failing")
        #expect(trace.state == "ERROR")
        #expect(trace.span(named: "load")?.status == "OK")
        let failed = try #require(trace.span(named: "analyze"))
        #expect(failed.status == "ERROR")
        let exception = try #require(failed.events.first { $0.name == "exception" })
        #expect(exception.attributes["exception.message"]?.stringValue?.contains("out of range") == true)
        #expect(trace.span(named: "report") == nil, "the node after the failure never ran")
        #expect(trace.root?.status == "ERROR")
    }

    @Test("US1-3: a conversation shows architect_propose, the tool calls, approval_gate and developer_deploy")
    func us1_3() async throws {
        let trace = try await AcceptanceWorld.shared.observed().trace(of: "type:conversation")
        let names = ["architect_propose", "check_daemon_health", "query_devices", "approval_gate", "developer_deploy"]
        let spans = try names.map { name in try #require(trace.span(named: name), "\(name)") }
        #expect(Set(spans.map(\.spanID)).count == names.count)
        // The tool calls are TOOL spans under their nodes: an HTTP request and a sandboxed script.
        let health = try #require(trace.span(named: "check_daemon_health"))
        #expect(
            trace.children(of: health).contains {
                $0.type == "TOOL" && $0.attributes["http.response.status_code"]?.doubleValue == 200
            })
        let query = try #require(trace.span(named: "query_devices"))
        #expect(trace.children(of: query).contains { $0.type == "TOOL" && $0.attributes["exit_code"] != nil })
        let propose = try #require(trace.span(named: "architect_propose"))
        let deploy = try #require(trace.span(named: "developer_deploy"))
        #expect(propose.endNS <= health.startNS && health.endNS <= deploy.startNS, "in order")
        #expect(trace.span(named: "approval_gate")?.attributes["route.selected"]?.stringValue == "developer_deploy")
    }

    @Test(
        "US1-4: with a chat model configured, the conversation's Architect answers through an llm node with a tool call"
    )
    func us1_4() async throws {
        let world = try await AcceptanceWorld.shared.observed()
        let trace = try world.trace(of: "type:conversation")
        let answer = try #require(trace.span(named: "architect_answer"))
        #expect(answer.attributes["node.kind"]?.stringValue == "llm")
        #expect(answer.status == "OK")
        let steps = trace.children(of: answer).sorted { $0.startNS < $1.startNS }
        #expect(steps.map(\.name) == ["chat tools", "query_devices", "chat tools"])
        #expect(steps.map(\.type) == ["CHAT_MODEL", "TOOL", "CHAT_MODEL"])
        // The tool is the query_devices node: its script's TOOL span nests inside.
        #expect(trace.children(of: steps[1]).contains { $0.name == "query_devices.py" })
        // MLflow derived the token usage from the GenAI attributes.
        #expect(steps[0].attributes["mlflow.chat.tokenUsage"]?["total_tokens"] != nil, "\(steps[0].attributes)")
        #expect(trace.span(named: "llm_or_script")?.attributes["route.selected"]?.stringValue == "architect_answer")
        // The run's record (schedule run --wait --json) counts the tokens of both calls.
        let run = try world.run("type:conversation")
        #expect((run["tokens"]?["total"]?.doubleValue ?? 0) > 0, "\(run["tokens"] ?? .null)")
        // The model's key is in no span and no log line.
        let key = AcceptanceWorld.modelKey
        for span in trace.spans {
            #expect(!"\(span.attributes) \(span.inputs) \(span.outputs)".contains(key), "\(span.name)")
        }
        #expect(!world.daemonLog.contains(key))
        // The optimization took its llm path too, and went on to the DS team.
        let optimization = try world.trace(of: "type:optimization")
        #expect(optimization.span(named: "architect_brief")?.status == "OK")
        #expect(optimization.span(named: "consult_ds_team") != nil)
    }

    // MARK: - User story 2: sandbox execution tracing

    @Test("US2-1: a sandboxed script is a TOOL span with duration, exit_code 0, stdout size and policy name")
    func us2_1() async throws {
        let trace = try await AcceptanceWorld.shared.observed().trace(of: "type:scheduled_analysis")
        let tools = trace.spans.filter { $0.type == "TOOL" && $0.attributes["policy_name"] != nil }
        #expect(!tools.isEmpty)
        for tool in tools {
            #expect(tool.attributes["exit_code"]?.doubleValue == 0, "\(tool.name)")
            #expect((tool.attributes["duration_ms"]?.doubleValue ?? -1) >= 0)
            #expect((tool.attributes["stdout_bytes"]?.doubleValue ?? 0) > 0, "\(tool.name) printed its update")
            #expect(tool.attributes["policy_name"]?.stringValue?.isEmpty == false)
            #expect(tool.attributes["timed_out"] == .bool(false))
            #expect(tool.status == "OK")
        }
    }

    @Test("US2-1b: a script's own steps (the examples' homelib) are spans inside its TOOL span")
    func us2_1b() async throws {
        let trace = try await AcceptanceWorld.shared.observed().trace(of: "type:scheduled_analysis")
        let tool = try #require(trace.spans.first { $0.type == "TOOL" && $0.name == "collect_readings.py" })
        #expect(tool.attributes["spans.imported"]?.doubleValue ?? 0 >= 1)
        #expect(tool.attributes["spans.rejected"]?.doubleValue == 0)
        let load = try #require(trace.children(of: tool).first { $0.name == "load_readings" })
        #expect(load.type == "RETRIEVER")
        #expect(load.startNS >= tool.startNS && load.endNS <= tool.endNS)
    }

    @Test("US2-2: a script past its timeout: the span shows timed_out=true and the threshold")
    func us2_2() async throws {
        let trace = try await AcceptanceWorld.shared.observed().trace(of: "edge")
        let node = try #require(trace.span(named: "slow"))
        let tool = try #require(trace.children(of: node).first { $0.type == "TOOL" })
        #expect(tool.attributes["timed_out"] == .bool(true))
        #expect(tool.attributes["timeout_s"]?.doubleValue == 1)
        #expect(tool.attributes["policy_name"]?.stringValue == "acceptance_short")
        #expect(tool.status == "ERROR")
        #expect((tool.attributes["duration_ms"]?.doubleValue ?? 0) < 10_000, "killed, not waited for")
        // continue_on_error: the run goes on and succeeds.
        #expect(trace.span(named: "done")?.status == "OK")
    }

    @Test("US2-3: artifacts produced: the span shows the artifact count and the rejected count")
    func us2_3() async throws {
        let world = try await AcceptanceWorld.shared.observed()
        let edge = try world.trace(of: "edge")
        let noisy = try #require(edge.span(named: "noisy").flatMap { edge.children(of: $0).first })
        #expect(noisy.attributes["artifact_count"]?.doubleValue == 1)
        #expect(noisy.attributes["rejected_count"]?.doubleValue == 1)
        // The shipped analyses leave reports, none refused.
        let reports = world.traces.values.filter { $0.traceID != edge.traceID }.flatMap(\.spans).filter {
            $0.type == "TOOL" && ($0.attributes["artifact_count"]?.doubleValue ?? 0) > 0
                && $0.attributes["policy_name"]?.stringValue == "analysis"
        }
        #expect(!reports.isEmpty)
        for report in reports {
            #expect(report.attributes["rejected_count"]?.doubleValue == 0, "\(report.name): \(report.attributes)")
        }
    }

    // MARK: - User story 3: every workflow type traced

    @Test("US3-1: a discovery run is a trace tagged workflow=discovery with node spans")
    func us3_1() async throws {
        let trace = try await AcceptanceWorld.shared.observed().trace(of: "type:discovery")
        #expect(trace.tags["workflow"] == "discovery")
        #expect(trace.spans.filter { $0.attributes["node.kind"] != nil }.count >= 3)
    }

    @Test("US3-2: a dashboard run is a trace tagged workflow=dashboard")
    func us3_2() async throws {
        let trace = try await AcceptanceWorld.shared.observed().trace(of: "type:dashboard")
        #expect(trace.tags["workflow"] == "dashboard")
        #expect(trace.state == "OK")
    }

    @Test("US3-3: a scheduled analysis is tagged workflow=scheduled_analysis with its schedule id")
    func us3_3() async throws {
        let world = try await AcceptanceWorld.shared.observed()
        let trace = try world.trace(of: "type:scheduled_analysis")
        #expect(trace.tags["workflow"] == "scheduled_analysis")
        #expect(trace.tags["schedule_id"] == world.scheduleIDs["nightly_energy"])
    }

    // MARK: - User story 4: delegation spans

    @Test("US4-1: the Architect's workflow contains the delegation span, which contains the DS team's work")
    func us4_1() async throws {
        for label in ["type:optimization", "type:conversation"] {
            let trace = try await AcceptanceWorld.shared.observed().trace(of: label)
            let root = try #require(trace.root)
            let delegation = try #require(trace.span(named: "consult_ds_team"), "\(label)")
            #expect(delegation.type == "AGENT")
            #expect(delegation.parentID == root.spanID)
            #expect(delegation.attributes["delegation.to"]?.stringValue == "team_analysis")
            let team = try #require(trace.children(of: delegation).first { $0.name == "team_analysis" })
            #expect(trace.children(of: team).contains { $0.name == "select_specialist" })
            #expect(team.startNS >= delegation.startNS && team.endNS <= delegation.endNS)
        }
    }

    @Test("US4-2: the DS team's specialist selection and the specialist's work are child spans")
    func us4_2() async throws {
        let trace = try await AcceptanceWorld.shared.observed().trace(of: "type:optimization")
        let team = try #require(trace.span(named: "team_analysis"))
        let select = try #require(trace.children(of: team).first { $0.name == "select_specialist" })
        let selected = try #require(select.attributes["route.selected"]?.stringValue)
        #expect(["behavioral_analyst", "energy_analyst", "device_analyst"].contains(selected))
        #expect(select.attributes["route.candidates"] != nil)
        let specialist = try #require(trace.children(of: team).first { $0.name == selected })
        #expect(specialist.status == "OK")
        #expect(specialist.startNS >= select.endNS)
    }

    // MARK: - User story 5: scheduled jobs

    @Test("US5-1: a cron fire is a trace tagged trigger=cron and schedule_id, with the full node tree")
    func us5_1() async throws {
        let world = try await AcceptanceWorld.shared.observed()
        let trace = try world.trace(of: "cron")
        #expect(trace.tags["trigger"] == "cron")
        #expect(trace.tags["schedule_id"] == world.scheduleIDs["acceptance_cron"])
        #expect(trace.tags["fire_time"] != nil)
        #expect(trace.tags["workflow"] == "scheduled_analysis")
        let run = try world.run("cron")
        let nodes = (run["nodes"]?.arrayValue ?? []).compactMap { $0["node"]?.stringValue }
        #expect(nodes.count >= 3)
        for node in nodes { #expect(trace.span(named: node) != nil, "span for \(node)") }
    }

    // MARK: - Edge cases

    @Test("edge: MLflow unavailable: the run succeeds, one warning is logged, nothing crashes")
    func mlflowUnavailable() async throws {
        let dead = try freeTCPPort()
        let daemon = try DaemonProcess(
            schedules: try AcceptanceWorld.schedulesCopy(), mlflow: URL(string: "http://127.0.0.1:\(dead)")!,
            environment: AcceptanceWorld.secrets)
        try await daemon.start()
        for _ in 0..<2 {
            let run = try ScheduleCLIDaemonTests.schedule(
                ["run", "diagnostic_manual", "--wait", "--json"], daemon: daemon)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try JSONValue(json: Data(run.stdout.utf8))["state"]?.stringValue == "succeeded")
        }
        #expect(try await daemon.request("GET", "/healthz", authorized: false).status == 200)
        let warnings = daemon.logText().split(separator: "\n").filter { $0.contains("is unavailable") }
        #expect(warnings.count == 1, "\(warnings)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("edge: a trace within a trace: the delegated workflow is nested, never a trace of its own")
    func nested() async throws {
        let world = try await AcceptanceWorld.shared.observed()
        let trace = try world.trace(of: "type:optimization")
        let team = try #require(trace.span(named: "team_analysis"))
        #expect(team.parentID == trace.span(named: "consult_ds_team")?.spanID)
        #expect(trace.children(of: team).contains { $0.name == "select_specialist" })
        // Every trace in the experiment is one run's: the delegations made no trace of their own.
        var runsSeen = Set<String>()
        for other in world.traces.values where other.state != "IN_PROGRESS" {  // a cron fire still running
            let runID = try #require(other.tags["run_id"], "trace \(other.traceID) belongs to a run")
            #expect(world.runTraces[runID] == other.traceID, "\(runID)")
            #expect(runsSeen.insert(runID).inserted, "one trace per run")
        }
    }

    @Test("edge: very long output: stdout and stderr attributes are cut to 4 KiB and 2 KiB with the marker")
    func truncated() async throws {
        let trace = try await AcceptanceWorld.shared.observed().trace(of: "edge")
        let tool = try #require(trace.span(named: "noisy").flatMap { trace.children(of: $0).first })
        let stdout = try #require(tool.attributes["stdout"]?.stringValue)
        let stderr = try #require(tool.attributes["stderr"]?.stringValue)
        #expect(stdout.utf8.count <= 4096 && stdout.contains("[truncated"))
        #expect(stderr.utf8.count <= 2048 && stderr.contains("[truncated"))
        #expect(tool.attributes["stdout_bytes"]?.doubleValue == 100_001)
        #expect(tool.attributes["stderr_bytes"]?.doubleValue == 10_000)
    }

    @Test("edge: concurrent workflows: eight runs at once make eight traces, none sharing a span")
    func concurrent() async throws {
        let world = try await AcceptanceWorld.shared.observed()
        let traces = try (0..<8).map { try world.trace(of: "concurrent:\($0)") }
        #expect(Set(traces.map(\.traceID)).count == 8)
        let spanIDs = traces.flatMap { $0.spans.map(\.spanID) }
        #expect(Set(spanIDs).count == spanIDs.count)
        for trace in traces {
            #expect(trace.state == "OK")
            #expect(trace.spans.filter { $0.parentID == nil }.count == 1)
            #expect(trace.tags["run_id"] != nil)
        }
        #expect(Set(traces.compactMap { $0.tags["run_id"] }).count == 8)
    }

    // MARK: - Functional requirements

    @Test("FR-001: every node execution is a span with its name, a duration and a status")
    func fr001() async throws {
        let world = try await AcceptanceWorld.shared.observed()
        for (label, run) in world.runs {
            let trace = try world.trace(of: label)
            for node in run["nodes"]?.arrayValue ?? [] {
                let name = try #require(node["node"]?.stringValue)
                let span = try #require(trace.span(named: name), "\(label): \(name)")
                #expect(span.endNS >= span.startNS)
                #expect(["OK", "ERROR"].contains(span.status), "\(label): \(name) \(span.status)")
            }
        }
    }

    @Test("FR-002: sandbox spans carry exit_code, duration, timed_out, policy_name, artifact_count")
    func fr002() async throws {
        let world = try await AcceptanceWorld.shared.observed()
        #expect(world.sandboxSpans.count >= 9)
        for span in world.sandboxSpans {
            #expect(span.missingSandboxAttributes.isEmpty, "\(span.name): \(span.missingSandboxAttributes)")
        }
    }

    @Test("FR-003: all nine workflow types create traces tagged with their type")
    func fr003() async throws {
        let world = try await AcceptanceWorld.shared.observed()
        let tagged = Set(world.traces.values.compactMap { $0.tags["workflow"] })
        #expect(Set(Self.types.map(\.type)).isSubset(of: tagged), "\(tagged)")
    }

    @Test("FR-004: delegations are AGENT spans marking the boundary: from, to, the sub-workflow inside")
    func fr004() async throws {
        let world = try await AcceptanceWorld.shared.observed()
        let agents = world.allSpans.filter { $0.type == "AGENT" }
        #expect(agents.count >= 2)
        for agent in agents {
            #expect(agent.attributes["delegation.from"]?.stringValue?.isEmpty == false)
            let to = try #require(agent.attributes["delegation.to"]?.stringValue)
            let trace = try #require(world.traces.values.first { $0.spans.contains(agent) })
            #expect(trace.children(of: agent).contains { $0.name == to })
        }
    }

    @Test("FR-005: scheduled runs carry trigger metadata: trigger, schedule_id, run_id, and fire_time for cron")
    func fr005() async throws {
        let world = try await AcceptanceWorld.shared.observed()
        for (label, _) in world.runs {
            let trace = try world.trace(of: label)
            #expect(["manual", "cron", "webhook"].contains(trace.tags["trigger"] ?? ""), "\(label)")
            #expect(trace.tags["schedule_id"]?.hasPrefix("sch_") == true, "\(label)")
            #expect(trace.tags["run_id"]?.hasPrefix("run_") == true, "\(label)")
        }
        #expect(try world.trace(of: "cron").tags["fire_time"] != nil)
    }

    @Test("FR-006: without MLflow runs go on and their spans wait in the spool; once it is back they arrive")
    func fr006() async throws {
        let server = try await MLflowTestServer.shared()
        let schedules = try AcceptanceWorld.schedulesCopy()
        let experiment = "fr006-\(UUID().uuidString.prefix(8))"
        let dead = try freeTCPPort()
        let offline = try DaemonProcess(
            schedules: schedules, mlflow: URL(string: "http://127.0.0.1:\(dead)")!, experiment: experiment,
            environment: AcceptanceWorld.secrets)
        try await offline.start()
        let output = try ScheduleCLIDaemonTests.schedule(
            ["run", "discovery_hourly", "--wait", "--json"], daemon: offline)
        let run = try JSONValue(json: Data(output.stdout.utf8))
        #expect(run["state"]?.stringValue == "succeeded", "\(output.stdout) \(output.stderr)")
        let traceID = try #require(run["trace_id"]?.stringValue)
        #expect(try await offline.stop() == 0)
        #expect(!offline.logText().contains("Fatal error"))

        // The same data directory, MLflow reachable: the spooled spans are delivered.
        let online = try DaemonProcess(
            schedules: schedules, dataDirectory: offline.dataDirectory, mlflow: server.uri, experiment: experiment,
            environment: AcceptanceWorld.secrets)
        try await online.start()
        let reader = MLflowReader(uri: server.uri)
        try await eventually(timeout: .seconds(90), "the trace spooled while MLflow was away arrives") {
            guard let trace = try await reader.trace(traceID) else { return false }
            return trace.state == "OK" && trace.tags["workflow"] == "discovery"
        }
        #expect(try await online.stop() == 0)
    }

    @Test("FR-007: no span attribute is over its limit: stdout 4 KiB, stderr 2 KiB, inputs and outputs 64 KiB")
    func fr007() async throws {
        let world = try await AcceptanceWorld.shared.observed()
        var cut = 0
        for span in world.allSpans {
            if let stdout = span.attributes["stdout"]?.stringValue {
                #expect(stdout.utf8.count <= 4096, "\(span.name)")
                if stdout.contains("[truncated") { cut += 1 }
            }
            if let stderr = span.attributes["stderr"]?.stringValue {
                #expect(stderr.utf8.count <= 2048, "\(span.name)")
            }
            #expect(span.inputs.jsonText.utf8.count <= 70_000, "\(span.name)")
            #expect(span.outputs.jsonText.utf8.count <= 70_000, "\(span.name)")
        }
        #expect(cut >= 1, "the long output was cut")
    }
}
