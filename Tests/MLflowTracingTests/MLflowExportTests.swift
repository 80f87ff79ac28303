import Foundation
import HTTPClient
import Logging
import MLflowTesting
import RunTracing
import SchedulerTesting
import Testing
import Tracing

@testable import MLflowTracing

struct ReportError: Error, CustomStringConvertible {
    var description: String { "the report template is missing" }
}

@Suite("Export to a real MLflow server")
struct MLflowExportTests {
    @Test("a trace's tree, names, types, tags, inputs/outputs, statuses and exception event read back exactly")
    func tree() async throws {
        let server = try await MLflowTestServer.shared()
        let running = try RunningExporter.start(uri: server.uri)
        try await stopping(running) { running in
            let tracer = running.tracer

            var traceID: TraceID?
            do {
                try tracer.withSpan("energy_analysis") { root in
                    traceID = root.traceID
                    root.setSpanType(.chain)
                    root.setTraceName("energy_analysis")
                    root.setTraceTag("trigger", "cron")
                    root.setTraceTag("schedule_id", "nightly")
                    root.setTraceTag("workflow", "energy_analysis")
                    root.setTraceTag("run_id", "run-1")
                    root.setInputs(json: #"{"day":"2024-01-01"}"#)
                    tracer.withSpan("collect") { node in
                        node.setSpanType(.chain)
                        node.setInputs(json: #"{"day":"2024-01-01"}"#)
                        tracer.withSpan("collect.py") { tool in
                            tool.setSpanType(.tool)
                            tool.setAttribute("exit_code", .int64(0))
                            tool.setAttribute("duration_ms", .int64(12))
                            tool.setAttribute("timed_out", .bool(false))
                            tool.setAttribute("policy_name", .string("default"))
                            tool.setAttribute("stdout", .string("{\"kwh\": 12.5}"))
                        }
                        node.setOutputs(json: #"{"kwh":12.5}"#)
                    }
                    tracer.withSpan("ds_team") { agent in
                        agent.setSpanType(.agent)
                        agent.setAttribute("delegation.from", .string("energy_analysis"))
                        agent.setAttribute("delegation.to", .string("team_analysis"))
                        tracer.withSpan("team_analysis") { sub in
                            sub.setSpanType(.chain)
                            tracer.withSpan("behavioral") { $0.setSpanType(.chain) }
                        }
                    }
                    try tracer.withSpan("report") { node in
                        node.setSpanType(.chain)
                        throw ReportError()
                    }
                }
                Issue.record("the report node should have thrown")
            } catch is ReportError {}

            try await running.flush()
            let reader = MLflowReader(uri: server.uri)
            let id = try #require(traceID)
            let trace = try #require(try await reader.trace(id.mlflowTraceID))
            #expect(trace.state == "ERROR")
            #expect(trace.tags["trigger"] == "cron")
            #expect(trace.tags["schedule_id"] == "nightly")
            #expect(trace.tags["workflow"] == "energy_analysis")
            #expect(trace.tags["run_id"] == "run-1")
            #expect(trace.tags["mlflow.traceName"] == "energy_analysis")
            #expect(trace.spans.count == 7)

            let root = try #require(trace.root)
            #expect(root.name == "energy_analysis")
            #expect(root.string("mlflow.spanType") == "CHAIN")
            #expect((root.json("mlflow.spanInputs") as? [String: Any])?["day"] as? String == "2024-01-01")
            #expect(root.statusCode == "STATUS_CODE_ERROR")

            func child(_ name: String, of parent: MLflowReader.Span) throws -> MLflowReader.Span {
                try #require(trace.children(of: parent).first { $0.name == name }, "\(name) under \(parent.name)")
            }
            let collect = try child("collect", of: root)
            let tool = try child("collect.py", of: collect)
            let agent = try child("ds_team", of: root)
            let sub = try child("team_analysis", of: agent)
            let behavioral = try child("behavioral", of: sub)
            let report = try child("report", of: root)
            #expect(trace.children(of: root).map(\.name).sorted() == ["collect", "ds_team", "report"])

            #expect(collect.string("mlflow.spanType") == "CHAIN")
            #expect((collect.json("mlflow.spanOutputs") as? [String: Any])?["kwh"] as? Double == 12.5)
            #expect(tool.string("mlflow.spanType") == "TOOL")
            #expect(tool.int("exit_code") == 0)
            #expect(tool.int("duration_ms") == 12)
            #expect(tool.bool("timed_out") == false)
            #expect(tool.string("policy_name") == "default")
            #expect(agent.string("mlflow.spanType") == "AGENT")
            #expect(agent.string("delegation.to") == "team_analysis")
            #expect(behavioral.string("mlflow.spanType") == "CHAIN")
            for span in [collect, tool, agent, sub, behavioral] {
                #expect(span.statusCode == "STATUS_CODE_OK", "\(span.name)")
                #expect(span.events.isEmpty)
            }
            #expect(report.statusCode == "STATUS_CODE_ERROR")
            #expect(report.statusMessage == "ReportError: the report template is missing")
            let exception = try #require(report.events.first { $0.name == "exception" })
            #expect(exception.attributes["exception.type"] as? String == "ReportError")
            #expect(exception.attributes["exception.message"] as? String == "the report template is missing")
            #expect(tool.startNanos >= collect.startNanos && tool.endNanos <= collect.endNanos)
        }
    }

    @Test("200 concurrent tasks of 20 spans each: 200 traces, each with exactly its own 20 spans")
    func concurrentTraces() async throws {
        let server = try await MLflowTestServer.shared()
        let running = try RunningExporter.start(uri: server.uri)
        try await stopping(running) { running in
            let tracer = running.tracer

            let ids = await withTaskGroup(of: (Int, TraceID?).self) { group in
                for task in 0..<200 {
                    group.addTask {
                        await tracer.withSpan("task-\(task)") { root in
                            root.setTraceTag("task", "\(task)")
                            for node in 0..<19 {
                                await tracer.withSpan("task-\(task)-node-\(node)") { span in
                                    span.setAttribute("task", .int64(Int64(task)))
                                    await Task.yield()
                                }
                            }
                            return (task, root.traceID)
                        }
                    }
                }
                var ids: [Int: TraceID] = [:]
                for await (task, id) in group { ids[task] = id }
                return ids
            }
            #expect(Set(ids.values).count == 200)
            try await running.flush()

            let reader = MLflowReader(uri: server.uri)
            let experimentID = try await reader.experimentID(named: running.experiment)
            let found = try await reader.search(experimentID: experimentID)
            #expect(found.count == 200)
            for (task, id) in ids {
                let trace = try #require(try await reader.trace(id.mlflowTraceID))
                #expect(trace.spans.count == 20, "task \(task)")
                #expect(
                    trace.spans.allSatisfy {
                        $0.name.hasPrefix("task-\(task)")
                            && ($0.name == "task-\(task)" || $0.name.hasPrefix("task-\(task)-"))
                    })
                #expect(trace.tags["task"] == "\(task)")
                #expect(trace.state == "OK")
            }
        }
    }

    @Test("a refused trace is isolated and dead-lettered; the others in its batch land")
    func deadLetter() async throws {
        let server = try await MLflowTestServer.shared()
        let spoolPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("spool-\(UUID().uuidString)/trace-spool.sqlite").path
        // Spool a batch by hand: good traces around one whose payload MLflow cannot read.
        let spool = try SpanSpool(path: spoolPath)
        var good: [TraceID] = []
        var rows: [(span: FinishedSpan, payload: [UInt8])] = []
        for i in 0..<6 {
            let span = FinishedSpan(
                traceID: .random(), spanID: .random(), parentSpanID: nil, name: "good-\(i)", kind: .internal,
                startNanos: 1_700_000_000_000_000_000, endNanos: 1_700_000_001_000_000_000,
                attributes: SpanAttributeList(), events: [],
                links: [], status: nil)
            if i == 3 {
                rows.append((span, Array(#"{"traceId":"not-hex","spanId":"zz","name":"bad"}"#.utf8)))
            } else {
                good.append(span.traceID)
                rows.append((span, OTLPJSON.encode(span)))
            }
        }
        _ = try await spool.append(rows, maxCount: 1000, maxBytes: 1 << 20)

        let running = try RunningExporter.start(uri: server.uri, spoolPath: spoolPath)
        try await stopping(running) { running in
            try await running.flush()
            #expect(try spool.deadLetterCount() == 1)
            #expect(running.exporter.statistics.deadLettered == 1)
            #expect(running.logs.matching(.error, "MLflow refused a trace").count == 1)
            let reader = MLflowReader(uri: server.uri)
            for id in good {
                #expect(try await reader.trace(id.mlflowTraceID)?.spans.count == 1)
            }
        }
    }

    @Test("spans refused on a re-send but already stored by MLflow count as delivered, not dead-lettered")
    func refusedButStored() async throws {
        let server = try await MLflowTestServer.shared()
        let proxy = try await FixtureProcess.start(script: "refusing_proxy.py", arguments: [server.uri.absoluteString])
        let running = try RunningExporter.start(uri: URL(string: "http://127.0.0.1:\(proxy.port)")!)
        try await stopping(running) { running in
            var ids: [TraceID] = []
            for i in 0..<3 {
                ids.append(
                    running.tracer.withSpan("stored-\(i)") { root in
                        running.tracer.withSpan("child") { _ in }
                        return root.traceID!
                    })
            }
            try await running.flush()
            let statistics = running.exporter.statistics
            #expect(statistics.delivered == 6, "\(statistics)")
            #expect(statistics.deadLettered == 0)
            #expect(running.logs.matching(.notice, "MLflow refused spans it already stores").count >= 1)
            let reader = MLflowReader(uri: server.uri)
            for id in ids {
                #expect(try await reader.trace(id.mlflowTraceID)?.spans.count == 2)
            }
        }
    }

    @Test("MLflow stopped while 50 traces are made, started again: all arrive complete, one warning")
    func outage() async throws {
        let server = try MLflowTestServer()
        try await server.start()  // stopped below; the test process's exit stops it if the test fails first
        let running = try RunningExporter.start(uri: server.uri)
        try await stopping(running) { running in
            let tracer = running.tracer

            // One trace while MLflow is up, so the experiment is resolved before the outage.
            tracer.withSpan("before") { _ in }
            try await running.flush()

            server.stop()
            var ids: [TraceID] = []
            for i in 0..<50 {
                let id = tracer.withSpan("outage-\(i)") { root -> TraceID? in
                    for j in 0..<4 { tracer.withSpan("outage-\(i)-\(j)") { _ in } }
                    return root.traceID
                }
                ids.append(try #require(id))
            }
            try await eventually("the exporter notices the outage") {
                !running.logs.matching(.warning, "MLflow is unavailable").isEmpty
            }
            // Every span reaches the spool (the writer may still be at it when the warning appears); none
            // can have been delivered.
            #expect(await running.exporter.flushToSpool(timeout: .seconds(30)))
            #expect(running.exporter.statistics.pending == 250)

            try await server.start()
            try await running.flush(timeout: .seconds(90))
            let reader = MLflowReader(uri: server.uri)
            for id in ids {
                let trace = try #require(try await reader.trace(id.mlflowTraceID))
                #expect(trace.spans.count == 5)
                #expect(Set(trace.spans.map(\.spanID)).count == 5)
                #expect(trace.state == "OK")
            }
            #expect(running.logs.matching(.warning, "MLflow is unavailable").count == 1)
            #expect(running.logs.matching(.info, "MLflow is reachable again").count == 1)
            server.stop()
        }
    }

    @Test("without a tracking URI tracing is off, said once, and spans record nothing")
    func off() throws {
        let logs = LogCapture()
        let exporter = try TraceExporter(
            configuration: MLflowTracingConfiguration(trackingURI: nil, spoolPath: "/nonexistent/spool.sqlite"),
            logger: logs.logger())
        #expect(!exporter.tracer.isEnabled)
        exporter.tracer.withSpan("nothing") { span in #expect(!span.isRecording) }
        #expect(logs.matching(.info, "MLflow tracing is off").count == 1)
    }
}

@Suite("A second destination: any OTLP/HTTP JSON collector")
struct OTLPCollectorTests {
    @Test("spans reach MLflow and the collector named by OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, with its headers")
    func both() async throws {
        let server = try await MLflowTestServer.shared()
        let collector = try await RecordingCollector.start()
        let configuration = try MLflowTracingConfiguration(
            environment: [
                "MLFLOW_TRACKING_URI": server.uri.absoluteString,
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": collector.endpoint.absoluteString,
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-team=analysis,authorization=Bearer%20abc",
            ], dataDirectory: FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path)
        let running = try RunningExporter.start(uri: server.uri, spoolPath: configuration.spoolPath) {
            $0.otlpEndpoint = configuration.otlpEndpoint
            $0.otlpHeaders = configuration.otlpHeaders
        }
        try await stopping(running) { running in
            let id = running.tracer.withSpan("twice") { root in
                running.tracer.withSpan("child") { _ in }
                return root.traceID
            }
            try await running.flush()
            let statistics = running.exporter.statistics
            #expect(
                statistics.delivered == 2,
                "\(statistics); logs: \(running.logs.all.filter { $0.level >= .warning }.map { "\($0.message) \($0.metadata)" })"
            )
            #expect(statistics.deliveredToCollector == 2)
            #expect(statistics.pending == 0)
            #expect(collector.spanNames.sorted() == ["child", "twice"])
            let request = try #require(collector.requests.first)
            #expect(request.path == "/v1/traces")
            #expect(request.headers["x-team"] == "analysis")
            #expect(request.headers["authorization"] == "Bearer abc")
            #expect(request.headers["content-type"] == "application/json")
            let traceID = try #require(id)
            #expect(try await MLflowReader(uri: server.uri).trace(traceID.mlflowTraceID)?.spans.count == 2)
        }
    }
}

@Suite("Configuration from MLflow's environment variables")
struct ConfigurationTests {
    @Test("MLflow's variables, with Basic winning over a token")
    func variables() throws {
        let c = try MLflowTracingConfiguration(
            environment: [
                "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000", "MLFLOW_EXPERIMENT_NAME": "nightly",
                "MLFLOW_TRACKING_USERNAME": "ops", "MLFLOW_TRACKING_PASSWORD": "pw", "MLFLOW_TRACKING_TOKEN": "t",
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "a=1, b = x%20y",
            ], dataDirectory: "/var/lib/schedulerd")
        #expect(c.trackingURI?.absoluteString == "http://127.0.0.1:5000")
        #expect(c.experimentName == "nightly")
        #expect(c.authentication == .basic(username: "ops", password: "pw"))
        #expect(c.otlpHeaders == ["a": "1", "b": "x y"])
        #expect(c.spoolPath == "/var/lib/schedulerd/trace-spool.sqlite")
        let token = try MLflowTracingConfiguration(
            environment: ["MLFLOW_TRACKING_URI": "https://mlflow.internal", "MLFLOW_TRACKING_TOKEN": "t"],
            dataDirectory: "/d")
        #expect(token.authentication == .bearer("t"))
        #expect(token.experimentName == "schedulerd")
        let off = try MLflowTracingConfiguration(environment: [:], dataDirectory: "/d")
        #expect(off.trackingURI == nil)
    }

    @Test(
        "a malformed URI or header list is refused with the variable's name",
        arguments: [
            ["MLFLOW_TRACKING_URI": "localhost:5000"],
            ["MLFLOW_TRACKING_URI": "ftp://x"],
            ["MLFLOW_TRACKING_URI": "http://x", "OTEL_EXPORTER_OTLP_TRACES_HEADERS": "novalue"],
        ])
    func malformed(_ environment: [String: String]) {
        #expect(throws: MLflowTracingError.self) {
            try MLflowTracingConfiguration(environment: environment, dataDirectory: "/d")
        }
    }
}

@Suite("TLS to the destinations")
struct TLSTests {
    func export(to collector: RecordingCollector, tls: TLSOptions) async throws -> RunningExporter {
        let server = try await MLflowTestServer.shared()
        let running = try RunningExporter.start(uri: server.uri) {
            $0.otlpEndpoint = collector.endpoint
            $0.otlpTLS = tls
        }
        running.tracer.withSpan("over tls") { _ in }
        return running
    }

    @Test("a collector with a private CA is reached with its certificate file, and refused without it")
    func certificate() async throws {
        let collector = try await RecordingCollector.start(tls: true)
        let verified = try await export(to: collector, tls: TLSOptions(caPath: collector.certificatePath))
        try await stopping(verified) { verified in
            try await verified.flush()
            #expect(collector.spanNames == ["over tls"])

            let unverified = try await export(to: collector, tls: TLSOptions())
            try await stopping(unverified) { unverified in
                try await eventually("the certificate is refused") {
                    !unverified.logs.matching(.warning, "The OTLP collector is unavailable").isEmpty
                }
                let warning = try #require(
                    unverified.logs.matching(.warning, "The OTLP collector is unavailable").first)
                #expect(warning.metadata["reason"]?.lowercased().contains("certificate") == true)
                #expect(unverified.exporter.statistics.deliveredToCollector == 0)
            }
        }
    }

    @Test("MLFLOW_TRACKING_INSECURE_TLS-style insecure mode skips verification")
    func insecure() async throws {
        let collector = try await RecordingCollector.start(tls: true)
        let running = try await export(to: collector, tls: TLSOptions(insecure: true))
        try await stopping(running) { running in
            try await running.flush()
            #expect(collector.spanNames == ["over tls"])
        }
    }

    @Test("the TLS variables are read as MLflow's and OpenTelemetry's clients read them")
    func variables() throws {
        let c = try MLflowTracingConfiguration(
            environment: [
                "MLFLOW_TRACKING_URI": "https://mlflow.internal", "MLFLOW_TRACKING_INSECURE_TLS": "true",
                "MLFLOW_TRACKING_SERVER_CERT_PATH": "/etc/ssl/ca.pem",
                "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE": "/etc/ssl/otel.pem",
            ], dataDirectory: "/d")
        #expect(c.tls == TLSOptions(insecure: true, caPath: "/etc/ssl/ca.pem"))
        #expect(c.otlpTLS == TLSOptions(insecure: false, caPath: "/etc/ssl/otel.pem"))
    }
}

@Suite("Credentials for MLflow")
struct AuthenticationTests {
    @Test(
        "Basic (username and password) wins over a token; a token alone is sent as Bearer",
        arguments: [
            (
                ["MLFLOW_TRACKING_USERNAME": "ops", "MLFLOW_TRACKING_PASSWORD": "pw", "MLFLOW_TRACKING_TOKEN": "t"],
                "Basic b3BzOnB3"
            ),
            (["MLFLOW_TRACKING_TOKEN": "tok-123"], "Bearer tok-123"),
        ])
    func headers(_ credentials: [String: String], _ expected: String) async throws {
        // The recording collector answers the experiment lookup like MLflow, so it stands in for MLflow.
        let fake = try await RecordingCollector.start()
        let uri = URL(string: "http://127.0.0.1:\(fake.port)")!
        let configuration = try MLflowTracingConfiguration(
            environment: credentials.merging(["MLFLOW_TRACKING_URI": uri.absoluteString]) { a, _ in a },
            dataDirectory: FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path)
        let running = try RunningExporter.start(uri: uri) { $0.authentication = configuration.authentication }
        try await stopping(running) { running in
            running.tracer.withSpan("with credentials") { _ in }
            try await running.flush()
            let requests = fake.requests
            #expect(requests.contains { $0.path.hasPrefix("/api/2.0/mlflow/experiments/get-by-name") })
            #expect(requests.contains { $0.path == "/v1/traces" && $0.headers["x-mlflow-experiment-id"] == "7" })
            #expect(!requests.isEmpty && requests.allSatisfy { $0.headers["authorization"] == expected })
        }
    }
}
