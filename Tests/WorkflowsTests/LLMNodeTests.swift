import Foundation
import SchedulerTesting
import Testing
import Tracing
import TracingTesting

@testable import Workflows

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `llm` nodes against a local OpenAI-compatible server (Tests/Fixtures/chat_model_server.py): the
/// request, the CHAT_MODEL span, the reply in the state, retries that honour Retry-After, and the
/// failures that are not retried.
@Suite("llm nodes")
struct LLMNodeTests {
    static let key = "sk-test-d0-not-print-me"

    struct Server {
        let process: FixtureProcess
        var base: String { "http://127.0.0.1:\(process.port)/v1" }

        /// What the server was sent, oldest first.
        func requests() async throws -> [[String: Any]] {
            let url = try #require(URL(string: "http://127.0.0.1:\(process.port)/requests"))
            let (data, _) = try await URLSession.shared.data(from: url)
            return try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        }
    }

    static func server() async throws -> Server {
        Server(process: try await FixtureProcess.start(script: "chat_model_server.py"))
    }

    static func workflow(model: String, extra: String = "", node: String = "") -> String {
        """
        name: ask
        entry: ask
        state: {question: "how warm is the living room"}
        nodes:
          ask:
            llm:
              model: \(model)
              system: "You are the Architect."
              messages: [{role: user, content: "{{ question }}"}]
        \(extra.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
        \(node.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
    }

    func run(_ yaml: String, environment: [String: String]) async throws -> (RunResult, [MemoryTracer.Recorded]) {
        let fixture = try WorkflowFixture(workflows: ["ask": yaml])
        let tracer = MemoryTracer()
        let runner = try fixture.runner(tracer: tracer, environment: environment)
        let result = await runner.run(RunRequest(workflow: "ask", runID: "r1"))
        return (result, tracer.spans(inTrace: result.traceID ?? ""))
    }

    @Test("a text reply goes under output; the call is a CHAT_MODEL span under the node with tokens and chat inputs")
    func textReply() async throws {
        let server = try await Self.server()
        let (result, spans) = try await run(
            Self.workflow(model: "echo", extra: "temperature: 0.2\nmax_tokens: 100\noutput: proposal"),
            environment: ["OPENAI_BASE_URL": server.base, "OPENAI_API_KEY": Self.key])
        #expect(result.status == .succeeded, "\(result.error ?? "")")
        #expect(result.state["proposal"] == "how warm is the living room")

        let node = try #require(spans.first { $0.name == "ask" })
        let chat = try #require(spans.first { $0.name == "chat echo" })
        #expect(chat.parentSpanID == node.spanID)
        #expect(node.string("node.kind") == "llm")
        #expect(chat.spanType == "CHAT_MODEL")
        #expect(chat.string("gen_ai.operation.name") == "chat")
        #expect(chat.string("gen_ai.request.model") == "echo")
        #expect(chat.string("gen_ai.response.model") == "echo-0001")
        #expect(chat.int("gen_ai.usage.input_tokens") == 16)
        #expect(chat.int("gen_ai.usage.output_tokens") == 6)
        #expect(chat.attributes["gen_ai.response.finish_reasons"]?.toSpanAttribute() == .stringArray(["stop"]))
        #expect(chat.string("mlflow.llm.model") == "echo")
        #expect(chat.string("mlflow.llm.provider") == "127.0.0.1")
        let inputs = try #require(chat.inputs.flatMap { try? JSONValue(json: Data($0.utf8)) })
        #expect(
            inputs["messages"]
                == [
                    ["role": "system", "content": "You are the Architect."],
                    ["role": "user", "content": "how warm is the living room"],
                ])
        #expect(inputs["temperature"] == 0.2)
        #expect(inputs["max_tokens"] == 100)
        let outputs = try #require(chat.outputs.flatMap { try? JSONValue(json: Data($0.utf8)) })
        #expect(outputs["choices"]?.arrayValue?.first?["message"]?["content"] == "how warm is the living room")

        // The node's record, and so the run's, counts the tokens.
        #expect(result.nodes.first?.inputTokens == 16 && result.nodes.first?.outputTokens == 6)
        #expect(result.tokens?.input == 16 && result.tokens?.output == 6)

        let sent = try await server.requests()
        #expect(sent.count == 1)
        #expect(sent.first?["authorization"] as? String == "Bearer \(Self.key)")
        // The key is in no span: names, inputs, outputs, attributes, events.
        for span in spans {
            let text = "\(span.name) \(span.inputs ?? "") \(span.outputs ?? "") \(span.attributes) \(span.events)"
            #expect(!text.contains(Self.key), "span \(span.name) holds the API key")
        }
        #expect(!result.state.description.contains(Self.key))
    }

    @Test("a JSON reply, even in a code fence, is the node's update; the provider is asked for a JSON object")
    func jsonReply() async throws {
        let server = try await Self.server()
        let (result, _) = try await run(
            Self.workflow(model: "json", extra: "response_format: json\nbase_url: \"${MODEL_URL}\"\nprovider: local"),
            environment: ["MODEL_URL": server.base])
        #expect(result.status == .succeeded, "\(result.error ?? "")")
        #expect(result.state["answer"] == 42)
        #expect(result.state["asked"] == "how warm is the living room")
        let sent = try await server.requests()
        #expect(
            (sent.first?["body"] as? [String: Any])?["response_format"] as? [String: String] == ["type": "json_object"])
        // No key in the environment: the request goes without one.
        #expect(sent.first?["authorization"] == nil || sent.first?["authorization"] is NSNull)
    }

    @Test("429 is retried after the provider's Retry-After, even with no backoff of the node's own")
    func retryAfter() async throws {
        let server = try await Self.server()
        let clock = ContinuousClock()
        let began = clock.now
        let (result, spans) = try await run(
            Self.workflow(model: "rate-limit", extra: "output: reply", node: "retry: {attempts: 3, backoff: 0s}"),
            environment: ["OPENAI_BASE_URL": server.base])
        #expect(result.status == .succeeded, "\(result.error ?? "")")
        #expect(clock.now - began >= .seconds(1))
        let calls = spans.filter { $0.name == "chat rate-limit" }.sorted { $0.startNanos < $1.startNanos }
        #expect(calls.count == 2)
        #expect(calls.first?.isError == true)
        #expect(calls.first?.status?.message?.contains("answered 429: Rate limit reached") == true)
        #expect(calls.last?.isError == false)
        #expect(try await server.requests().count == 2)
        // The failed attempt's call answered 429 and counted nothing; the run counts the second's.
        #expect(result.nodes.map(\.inputTokens) == [nil, 16])
    }

    @Test("a 500 is retried; a 401 is not, and says the provider's message")
    func failures() async throws {
        let server = try await Self.server()
        let (flaky, _) = try await run(
            Self.workflow(model: "flaky", extra: "output: reply", node: "retry: {attempts: 2, backoff: 0s}"),
            environment: ["OPENAI_BASE_URL": server.base])
        #expect(flaky.status == .succeeded, "\(flaky.error ?? "")")

        let (refused, spans) = try await run(
            Self.workflow(model: "refuse", extra: "output: reply", node: "retry: {attempts: 3, backoff: 0s}"),
            environment: ["OPENAI_BASE_URL": server.base, "OPENAI_API_KEY": Self.key])
        #expect(refused.status == .failed)
        #expect(
            refused.error
                == #"node "ask" failed: LLMRequestFailed: the model provider (127.0.0.1) answered 401: Incorrect API key provided"#
        )
        #expect(spans.filter { $0.name == "chat refuse" }.count == 1)

        let (garbled, _) = try await run(
            Self.workflow(model: "garbled", extra: "output: reply"), environment: ["OPENAI_BASE_URL": server.base])
        #expect(garbled.error?.contains("not a chat completion (it starts with \"<html>not json</html>\")") == true)

        let (unset, _) = try await run(Self.workflow(model: "echo", extra: "output: reply"), environment: [:])
        #expect(unset.error?.contains("no model provider: set OPENAI_BASE_URL") == true)

        let (variable, _) = try await run(
            Self.workflow(model: "\"${LLM_MODEL}\"", extra: "output: reply"),
            environment: ["OPENAI_BASE_URL": server.base])
        #expect(
            variable.error
                == #"node "ask" failed: LLMRequestFailed: model names ${LLM_MODEL}, which is not set in the daemon's environment"#
        )
    }

    @Test("the node's timeout aborts a slow model's request")
    func timeout() async throws {
        let server = try await Self.server()
        let clock = ContinuousClock()
        let began = clock.now
        let (result, spans) = try await run(
            Self.workflow(model: "slow", extra: "output: reply", node: "timeout: 500ms"),
            environment: ["OPENAI_BASE_URL": server.base])
        #expect(clock.now - began < .seconds(20))
        #expect(result.status == .failed)
        // The node's deadline and the request's own timeout (the same 500 ms) race; either ends it.
        let error = result.error ?? ""
        #expect(error.contains("NodeTimedOut") || error.contains("timed out"), "\(error)")
        let chat = try #require(spans.first { $0.name == "chat slow" })
        #expect(chat.isError)
        let message = chat.status?.message ?? ""
        #expect(message.contains("the request was aborted") || message.contains("timed out"), "\(message)")
    }

    static let toolWorkflow = """
        name: ask
        entry: ask
        state: {question: "living room"}
        nodes:
          ask:
            llm:
              model: MODEL
              messages: [{role: user, content: "{{ question }}"}]
              tools: [query_devices, consult_team]
              max_turns: 3
              output: answer
          query_devices:
            description: "The devices in a room and their readings."
            parameters: {type: object, properties: {room: {type: string}}, required: [room]}
            set: {devices: "thermostat in {{ room }}"}
          consult_team:
            workflow: team
            input: {topic: "{{ room }}"}
            output: {team: "{{ verdict }}"}
        """

    static let team = "name: team\nentry: judge\nnodes:\n  judge:\n    set: {verdict: \"team agrees on {{ topic }}\"}\n"

    func runTools(model: String, server: Server) async throws -> (RunResult, [MemoryTracer.Recorded]) {
        let fixture = try WorkflowFixture(workflows: [
            "ask": Self.toolWorkflow.replacingOccurrences(of: "MODEL", with: model), "team": Self.team,
        ])
        let tracer = MemoryTracer()
        let runner = try fixture.runner(tracer: tracer, environment: ["OPENAI_BASE_URL": server.base])
        let result = await runner.run(RunRequest(workflow: "ask", runID: "r1"))
        return (result, tracer.spans(inTrace: result.traceID ?? ""))
    }

    @Test("tool calls: each tool runs in its span under the node, in order, and its result goes back to the model")
    func toolLoop() async throws {
        let server = try await Self.server()
        let (result, spans) = try await runTools(model: "tools", server: server)
        #expect(result.status == .succeeded, "\(result.error ?? "")")
        #expect(
            result.state["answer"]
                == #"done: {"devices":"thermostat in living room"} | {"team":"team agrees on living room"}"#)
        // The tools' updates go to the model only, not into the state.
        #expect(result.state["devices"] == nil)

        let node = try #require(spans.first { $0.name == "ask" })
        let children = spans.filter { $0.parentSpanID == node.spanID }.sorted { $0.startNanos < $1.startNanos }
        #expect(children.map(\.name) == ["chat tools", "query_devices", "consult_team", "chat tools"])
        #expect(children.map(\.spanType) == ["CHAT_MODEL", "TOOL", "AGENT", "CHAT_MODEL"])
        let query = children[1]
        #expect(query.inputs == #"{"room":"living room"}"#)
        #expect(query.outputs == #"{"devices":"thermostat in living room"}"#)
        #expect(query.string("gen_ai.tool.call.id") == "call_1_0")
        // The sub-workflow nests in its AGENT span, as a delegation does.
        #expect(spans.contains { $0.name == "team" && $0.parentSpanID == children[2].spanID })

        let sent = try await server.requests()
        #expect(sent.count == 2)
        let first = try #require(sent.first?["body"] as? [String: Any])
        let offered = try #require(first["tools"] as? [[String: Any]])
        let function = try #require(offered.first?["function"] as? [String: Any])
        #expect(function["name"] as? String == "query_devices")
        #expect(function["description"] as? String == "The devices in a room and their readings.")
        #expect((function["parameters"] as? [String: Any])?["required"] as? [String] == ["room"])
        let second = try #require((sent.last?["body"] as? [String: Any])?["messages"] as? [[String: Any]])
        #expect(second.map { $0["role"] as? String } == ["user", "assistant", "tool", "tool"])
        #expect(second[2]["tool_call_id"] as? String == "call_1_0")
    }

    @Test("a model that never stops asking for tools is stopped at max_turns; an unknown tool is told so")
    func toolLimits() async throws {
        let server = try await Self.server()
        let (looping, spans) = try await runTools(model: "loop", server: server)
        #expect(looping.status == .failed)
        #expect(looping.error?.contains("the model still asked for tools after max_turns 3 calls") == true)
        #expect(spans.filter { $0.name == "chat loop" }.count == 3)

        let (stranger, _) = try await runTools(model: "stranger", server: server)
        #expect(stranger.status == .succeeded, "\(stranger.error ?? "")")
        #expect(
            stranger.state["answer"]
                == #"done: error: there is no tool named "nobody"; the tools are query_devices, consult_team"#)
    }

    @Test("cancelling the run aborts a model request in flight")
    func cancel() async throws {
        let server = try await Self.server()
        let fixture = try WorkflowFixture(workflows: ["ask": Self.workflow(model: "slow", extra: "output: reply")])
        let tracer = MemoryTracer()
        let runner = try fixture.runner(tracer: tracer, environment: ["OPENAI_BASE_URL": server.base])
        let clock = ContinuousClock()
        let began = clock.now
        let run = Task { await runner.run(RunRequest(workflow: "ask", runID: "r1")) }
        try await eventually(timeout: .seconds(20), "the request reached the model") {
            try await server.requests().count == 1
        }
        run.cancel()
        let result = await run.value
        #expect(clock.now - began < .seconds(20), "the slow model answers after 30 s")
        #expect(result.status == .cancelled)
        let chat = try #require(tracer.spans(inTrace: result.traceID ?? "").first { $0.name == "chat slow" })
        #expect(chat.status?.message?.contains("the request was aborted") == true, "\(chat.status?.message ?? "")")
    }

    @Test("bad llm settings are refused at load with the file, line and field")
    func validation() throws {
        let cases: [(String, String)] = [
            (
                "name: a\nentry: n\nnodes:\n  n:\n    llm: {messages: [{role: user, content: hi}], output: r}\n",
                #"a.yaml:5:10: node "n": llm needs a model, like gpt-4o-mini or "${LLM_MODEL}" (from the daemon's environment)"#
            ),
            (
                "name: a\nentry: n\nnodes:\n  n:\n    llm: {model: m, messages: [{role: user, content: hi}]}\n",
                #"a.yaml:5:10: node "n": a text reply needs output: <state key> to go under; or set response_format: json for a reply that is the update"#
            ),
            (
                "name: a\nentry: n\nnodes:\n  n:\n    llm: {model: m, messages: [{role: boss, content: hi}], output: r}\n",
                #"a.yaml:5:39: node "n": message role "boss" must be one of system, user, assistant"#
            ),
            (
                "name: a\nentry: n\nnodes:\n  n:\n    llm: {model: m, system: s, temperature: 3, output: r}\n",
                #"a.yaml:5:45: node "n": temperature "3" must be a number from 0 to 2"#
            ),
            (
                "name: a\nentry: n\nnodes:\n  n:\n    llm: {model: m, system: s, api_key_env: sk-live-123, output: r}\n",
                #"a.yaml:5:45: node "n": api_key_env "sk-live-123" must be the name of an environment variable, like OPENAI_API_KEY (never the key itself)"#
            ),
            (
                "name: a\nentry: n\nnodes:\n  n:\n    llm: {model: m, system: s, tool: [x], output: r}\n",
                #"a.yaml:5:32: node "n": unknown llm key "tool"; allowed: model, system, messages, temperature, max_tokens, response_format, output, base_url, api_key_env, provider, tools, max_turns"#
            ),
            (
                "name: a\nentry: n\nnodes:\n  n:\n    llm: {model: m, system: s, tools: [qeury], output: r}\n  query:\n    set: {x: 1}\n",
                #"a.yaml:5:39: node "n": tool "qeury" is not a node (did you mean "query"?); use one of n, query"#
            ),
            (
                "name: a\nentry: n\nnodes:\n  n:\n    llm: {model: m, system: s, tools: [n], output: r}\n",
                #"a.yaml:5:39: node "n": tool "n" is a llm node; a tool is a script, http, workflow, set or Swift node"#
            ),
            (
                "name: a\nentry: n\nnodes:\n  n:\n    llm: {model: m, system: s, tools: [q], output: r}\n  q:\n    set: {x: 1}\n    parameters: [room]\n",
                #"a.yaml:8:17: node "q": parameters must be a JSON schema of an object, like {type: object, properties: {room: {type: string}}, required: [room]}"#
            ),
        ]
        for (yaml, expected) in cases {
            let fixture = try WorkflowFixture(workflows: ["a": yaml])
            #expect(fixture.problems() == [expected], "\(yaml)")
        }
    }
}
