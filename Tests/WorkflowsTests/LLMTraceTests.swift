import Foundation
import MLflowTesting
import SchedulerTesting
import Testing

@testable import Workflows

/// An `llm` node's trace read back from a real MLflow server: the CHAT_MODEL span with the token usage
/// MLflow derives from the GenAI attributes, and the trace's summed tokens (the trace list's Tokens
/// column).
@Suite("llm nodes in MLflow", .serialized)
struct LLMTraceTests {
    @Test("two model calls: each CHAT_MODEL span has its token usage, and the trace has their sum")
    func tokenUsage() async throws {
        let server = try await MLflowTestServer.shared()
        let model = try await FixtureProcess.start(script: "chat_model_server.py")
        let running = try RunningExporter.start(uri: server.uri)
        try await stopping(running) { running in
            let fixture = try WorkflowFixture(workflows: [
                "ask": """
                name: ask
                entry: propose
                state: {question: "how warm is the living room"}
                nodes:
                  propose:
                    llm:
                      model: echo
                      system: "You are the Architect."
                      messages: [{role: user, content: "{{ question }}"}]
                      output: proposal
                    next: review
                  review:
                    llm:
                      model: json
                      messages: [{role: user, content: "review: {{ proposal }}"}]
                      response_format: json
                      output: review
                """
            ])
            let runner = try fixture.runner(
                tracer: running.tracer,
                environment: ["OPENAI_BASE_URL": "http://127.0.0.1:\(model.port)/v1", "OPENAI_API_KEY": "sk-x"])
            var request = RunRequest(workflow: "ask", trigger: "webhook", runID: "run-llm")
            request.session = "architect-hook"
            request.user = "architect-hook"
            let result = await runner.run(request)
            #expect(result.status == .succeeded, "\(result.error ?? "")")
            try await running.flush()

            let trace = try await readTrace(server, result)
            #expect(trace.state == "OK")
            let chat = try #require(trace.span(named: "chat echo"))
            #expect(chat.string("mlflow.spanType") == "CHAT_MODEL")
            #expect(chat.parentSpanID == trace.span(named: "propose")?.spanID)
            let usage = try #require(chat.attribute("mlflow.chat.tokenUsage") as? [String: Any])
            #expect(usage["input_tokens"] as? Int == 16)
            #expect(usage["output_tokens"] as? Int == 6)
            #expect(usage["total_tokens"] as? Int == 22)
            let second = try #require(trace.span(named: "chat json"))
            let secondUsage = try #require(second.attribute("mlflow.chat.tokenUsage") as? [String: Any])
            let secondTotal = try #require(secondUsage["total_tokens"] as? Int)

            // The trace list's Session and User columns, and the workflow file as the source.
            #expect(trace.metadata["mlflow.trace.session"] == "architect-hook", "\(trace.metadata)")
            #expect(trace.metadata["mlflow.trace.user"] == "architect-hook")
            #expect(trace.tags["mlflow.source.name"] == "workflows/ask.yaml")

            let summed = try #require(trace.metadata["mlflow.trace.tokenUsage"])
            let total = try JSONSerialization.jsonObject(with: Data(summed.utf8)) as? [String: Any]
            #expect(total?["total_tokens"] as? Int == 22 + secondTotal, "\(summed)")
        }
    }
}
