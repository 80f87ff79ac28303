import Crypto
import Foundation
import MLflowTesting
import SchedulerTesting
import Testing
import Workflows

// The acceptance suite's fixture: one MLflow server and one daemon with the shipped schedules, the
// runs it starts, and the traces read back with MLflow's Python client.

/// The shared fixture: built once, on first use, for every test of the suite.
actor AcceptanceWorld {
    static let shared = AcceptanceWorld()
    /// The webhook secrets the shipped schedule files name.
    /// The API key the daemon is given for the chat model; no span, log line or state may show it.
    static let modelKey = "sk-acceptance-d0-not-print"
    static let secrets = [
        "SCHEDULERD_DEMO_HOOK_SECRET": "acceptance-github-secret",
        "SCHEDULERD_DEMO_HOOK_TOKEN": "acceptance-token",
        "SCHEDULERD_DEMO_HOOK_STANDARD": "whsec_" + Data("acceptance-standard-key".utf8).base64EncodedString(),
    ]

    private var building: Task<Observed, any Error>?

    func observed() async throws -> Observed {
        if let building { return try await building.value }
        let task = Task { try await Self.build() }
        building = task
        return try await task.value
    }

    /// A copy of the shipped `schedules/` with the test-only workflows, scripts, schedules and policy.
    static func schedulesCopy() throws -> URL {
        let fm = FileManager.default
        let root = MLflowTestServer.packageRoot
        let copy = fm.temporaryDirectory.appendingPathComponent("acceptance-\(UUID().uuidString.prefix(8))")
        try fm.copyItem(at: root.appendingPathComponent("schedules"), to: copy)
        let fixtures = root.appendingPathComponent("Tests/Fixtures/acceptance")
        for sub in ["workflows", "scripts"] {
            for name in try fm.contentsOfDirectory(atPath: fixtures.appendingPathComponent(sub).path) {
                try fm.copyItem(
                    at: fixtures.appendingPathComponent("\(sub)/\(name)"),
                    to: copy.appendingPathComponent("\(sub)/\(name)"))
            }
        }
        for name in try fm.contentsOfDirectory(atPath: fixtures.path) where name.hasPrefix("acceptance_") {
            try fm.copyItem(at: fixtures.appendingPathComponent(name), to: copy.appendingPathComponent(name))
        }
        let policies = copy.appendingPathComponent("policies.yaml")
        let extra = try String(contentsOf: fixtures.appendingPathComponent("policies_extra.yaml"), encoding: .utf8)
        var text = try String(contentsOf: policies, encoding: .utf8)
        if !text.hasSuffix("\n") { text += "\n" }
        try (text + extra).write(to: policies, atomically: true, encoding: .utf8)
        return copy
    }

    private static func build() async throws -> Observed {
        let server = try await MLflowTestServer.shared()
        let experiment = "acceptance-\(UUID().uuidString.prefix(8))"
        // A chat model for the examples' llm paths: the local OpenAI-compatible fixture, whose `tools`
        // model calls every tool it is offered once and then answers.
        let model = try await FixtureProcess.start(script: "chat_model_server.py")
        var environment = secrets
        environment["OPENAI_BASE_URL"] = "http://127.0.0.1:\(model.port)/v1"
        environment["OPENAI_API_KEY"] = modelKey
        environment["LLM_MODEL"] = "tools"
        let daemon = try DaemonProcess(
            schedules: try schedulesCopy(), mlflow: server.uri, experiment: experiment, environment: environment)
        try await daemon.start()
        defer { daemon.signal(SIGTERM) }

        var scheduleIDs: [String: String] = [:]
        for schedule in try await daemon.request("GET", "/api/v1/schedules").json["schedules"]?.arrayValue ?? [] {
            if let name = schedule["name"]?.stringValue, let id = schedule["id"]?.stringValue {
                scheduleIDs[name] = id
            }
        }
        var runIDs: [String: String] = [:]

        // Each type through the CLI, as a user would.
        for (type, schedule) in AcceptanceTests.types {
            let output = try ScheduleCLIDaemonTests.schedule(["run", schedule, "--wait", "--json"], daemon: daemon)
            let run = try JSONValue(json: Data(output.stdout.utf8))
            guard let id = run["id"]?.stringValue else {
                throw TestFailure(description: "schedule run \(schedule): \(output.stdout) \(output.stderr)")
            }
            runIDs["type:\(type)"] = id
        }
        for (label, schedule) in [("failing", "acceptance_failing"), ("edge", "acceptance_edge")] {
            let output = try ScheduleCLIDaemonTests.schedule(["run", schedule, "--wait", "--json"], daemon: daemon)
            runIDs[label] = try JSONValue(json: Data(output.stdout.utf8))["id"]?.stringValue
        }

        // A signed GitHub-style delivery to the review hook.
        let body = #"{"ref":"refs/heads/main","proposal":{"device":"dryer","action":"off","at":"23:30"}}"#
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data(body.utf8), using: SymmetricKey(data: Data(secrets["SCHEDULERD_DEMO_HOOK_SECRET"]!.utf8)))
        let hook = try await daemon.send(
            "POST", "/hooks/review_on_push?wait=30s", body: Data(body.utf8),
            headers: [
                "Content-Type": "application/json", "X-GitHub-Event": "push",
                "X-GitHub-Delivery": "acceptance-delivery-1",
                "X-Hub-Signature-256": "sha256=" + mac.map { String(format: "%02x", $0) }.joined(),
            ])
        guard hook.status == 200 || hook.status == 202, let hookRun = hook.json["run_id"]?.stringValue
        else { throw TestFailure(description: "webhook answered \(hook.status): \(hook.json)") }
        runIDs["webhook:review"] = hookRun

        // Eight runs of one schedule at once.
        let started = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for i in 0..<8 {
                group.addTask {
                    let answer = try await daemon.request(
                        "POST", "/api/v1/schedules/acceptance_concurrent/run", body: "{}")
                    return (i, answer.json["run_id"]?.stringValue)
                }
            }
            var ids: [Int: String] = [:]
            for try await (i, id) in group { ids[i] = id }
            return ids
        }
        for (i, id) in started { runIDs["concurrent:\(i)"] = id }

        // The cron schedule fires once (every 5 s, one run left).
        try await eventually(timeout: .seconds(60), "the cron schedule fires") {
            let runs = try await daemon.request("GET", "/api/v1/runs?schedule=acceptance_cron").json["runs"]?.arrayValue
            if let id = runs?.first?["id"]?.stringValue { runIDs["cron"] = id }
            return runIDs["cron"] != nil
        }

        // Every run finished, and its trace complete in MLflow.
        var runs: [String: JSONValue] = [:]
        for (label, id) in runIDs {
            try await eventually(timeout: .seconds(120), "run \(label) finishes") {
                let run = try await daemon.request("GET", "/api/v1/runs/\(id)").json
                guard let state = run["state"]?.stringValue, !["queued", "running"].contains(state) else {
                    return false
                }
                runs[label] = run
                return true
            }
        }
        let reader = MLflowReader(uri: server.uri)
        var traceIDs: [String: String] = [:]
        for (label, run) in runs {
            let id = try #require(run["trace_id"]?.stringValue, "\(label) has a trace id")
            traceIDs[label] = id
            try await eventually(timeout: .seconds(120), "trace of \(label) complete in MLflow") {
                guard let trace = try await reader.trace(id) else { return false }
                return trace.state != "IN_PROGRESS"
            }
        }

        // Read back with MLflow's own Python client.
        let python = MLflowTestServer.packageRoot.appendingPathComponent(".venv/bin/python")
        let output = try runProcess(
            python,
            [
                MLflowTestServer.packageRoot.appendingPathComponent("Tests/Fixtures/read_traces.py").path,
                server.uri.absoluteString, experiment,
            ], environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()])
        guard output.status == 0 else {
            throw TestFailure(description: "read_traces.py exited \(output.status): \(output.stderr.suffix(2000))")
        }
        let answer = try JSONValue(json: Data(output.stdout.utf8))
        var traces: [String: TraceRecord] = [:]
        for trace in answer["traces"]?.arrayValue ?? [] {
            let record = TraceRecord(trace)
            traces[record.traceID] = record
        }
        // Every run the daemon stored by now, with its trace id.
        var runTraces: [String: String] = [:]
        for run in try await daemon.request("GET", "/api/v1/runs?limit=1000").json["runs"]?.arrayValue ?? [] {
            if let id = run["id"]?.stringValue, let trace = run["trace_id"]?.stringValue { runTraces[id] = trace }
        }
        return Observed(
            runs: runs, traceIDs: traceIDs, traces: traces, runTraces: runTraces,
            searched: (answer["searched"]?.arrayValue ?? []).compactMap { $0.stringValue }, scheduleIDs: scheduleIDs,
            daemonLog: daemon.logText(), model: model)
    }
}

/// What the fixture saw: the finished runs (the API's detail) and their traces as MLflow's Python
/// client returned them.
struct Observed: Sendable {
    var runs: [String: JSONValue]
    var traceIDs: [String: String]
    var traces: [String: TraceRecord]
    /// Every run stored when the traces were read: run id → trace id.
    var runTraces: [String: String]
    var searched: [String]
    var scheduleIDs: [String: String]
    var daemonLog: String
    /// The chat model fixture the daemon's llm nodes talked to (kept running with the fixture).
    var model: FixtureProcess

    func run(_ label: String) throws -> JSONValue {
        try #require(runs[label], "no run \(label)")
    }

    func trace(of label: String) throws -> TraceRecord {
        let id = try #require(traceIDs[label], "no run \(label)")
        return try #require(traces[id], "MLflow's client did not return the trace of \(label) (\(id))")
    }

    var allSpans: [SpanRecord] { traces.values.flatMap(\.spans) }
    /// The TOOL spans of sandboxed script executions.
    var sandboxSpans: [SpanRecord] { allSpans.filter { $0.type == "TOOL" && $0.attributes["policy_name"] != nil } }
}

/// A trace as `mlflow.get_trace` gives it.
struct TraceRecord: Sendable {
    var traceID: String
    var state: String
    var tags: [String: String]
    var spans: [SpanRecord]

    init(_ json: JSONValue) {
        traceID = json["trace_id"]?.stringValue ?? ""
        state = json["state"]?.stringValue ?? ""
        tags = (json["tags"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        spans = (json["spans"]?.arrayValue ?? []).map(SpanRecord.init)
    }

    var root: SpanRecord? { spans.first { $0.parentID == nil } }
    func span(named name: String) -> SpanRecord? { spans.first { $0.name == name } }
    func children(of span: SpanRecord) -> [SpanRecord] { spans.filter { $0.parentID == span.spanID } }
}

struct SpanRecord: Sendable, Equatable {
    struct Event: Sendable, Equatable {
        var name: String
        var attributes: [String: JSONValue]
    }

    var name: String
    var spanID: String
    var parentID: String?
    var type: String
    var status: String
    var startNS: Int64
    var endNS: Int64
    var attributes: [String: JSONValue]
    var inputs: JSONValue
    var outputs: JSONValue
    var events: [Event]

    /// The sandbox attributes docs/traces.md promises that this span lacks (no exit code after a timeout).
    var missingSandboxAttributes: [String] {
        ["exit_code", "duration_ms", "timed_out", "policy_name", "artifact_count", "rejected_count"].filter {
            attributes[$0] == nil && ($0 != "exit_code" || attributes["timed_out"] == .bool(false))
        }
    }

    init(_ json: JSONValue) {
        name = json["name"]?.stringValue ?? ""
        spanID = json["span_id"]?.stringValue ?? ""
        parentID = json["parent_id"]?.stringValue
        type = json["span_type"]?.stringValue ?? ""
        status = json["status"]?.stringValue ?? ""
        startNS = Int64(json["start_ns"]?.doubleValue ?? 0)
        endNS = Int64(json["end_ns"]?.doubleValue ?? 0)
        attributes = json["attributes"]?.objectValue ?? [:]
        inputs = json["inputs"] ?? .null
        outputs = json["outputs"] ?? .null
        events = (json["events"]?.arrayValue ?? []).map {
            Event(name: $0["name"]?.stringValue ?? "", attributes: $0["attributes"]?.objectValue ?? [:])
        }
    }
}
