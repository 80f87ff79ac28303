import Foundation
import HTTPClient
import RunTracing
import Tracing

// An `llm` node: the request from the node and the state, a CHAT_MODEL span per model call, the
// tools the model asks for, and the reply into the state.

extension WorkflowRunner {
    /// Where a model call goes and how it authenticates, resolved from the node and the daemon's
    /// environment when the call is made.
    struct ChatProvider {
        /// `<base>/chat/completions`.
        var url: String
        var host: String
        var name: String
        /// The `Authorization` header's value; `nil` when no key is set.
        var authorization: String?
    }

    /// One attempt of an `llm` node: model calls, each in a CHAT_MODEL span named `chat <model>`,
    /// with the tools the model asks for run in between, until a reply without tool calls, which
    /// becomes the update.
    func performLLM(
        _ call: WorkflowNode.LLMCall, node: WorkflowNode, in workflow: Workflow, state: [String: JSONValue],
        execution: Execution
    ) async throws -> [String: JSONValue] {
        let stateValue = JSONValue.object(state)
        let environment = configuration.environment
        func text(_ template: Template, _ subject: String) throws(LLMRequestFailed) -> String {
            do {
                return try template.text(stateValue, environment: environment)
            } catch {
                throw LLMRequestFailed(
                    description: "\(subject) names ${\(error.name)}, which is not set in the daemon's environment",
                    retryable: false)
            }
        }
        let model = try text(call.model, "model")
        guard !model.isEmpty else {
            throw LLMRequestFailed(description: "the model's name is empty", retryable: false)
        }
        let provider = try chatProvider(call, baseURL: call.baseURL.map { try text($0, "base_url") })
        var messages: [JSONValue] = []
        if let system = call.system {
            messages.append(ChatCompletion.message(role: "system", content: try text(system, "system")))
        }
        for message in call.messages {
            messages.append(
                ChatCompletion.message(role: message.role, content: try text(message.content, "message content")))
        }
        let tools = call.tools.compactMap { name in
            workflow.nodes[name].map {
                ChatCompletion.tool(name: name, description: $0.description, parameters: $0.parameters)
            }
        }
        for _ in 0..<call.maxTurns {
            let body = ChatCompletion.body(
                model: model, messages: messages, tools: tools, temperature: call.temperature,
                maxTokens: call.maxTokens, json: call.responseFormat == .json)
            let reply = try await chat(body, model: model, call: call, provider: provider, node: node)
            if reply.toolCalls.isEmpty { return try update(from: reply, call) }
            messages.append(reply.message)
            for toolCall in reply.toolCalls {
                let result = try await runTool(
                    toolCall, offered: call.tools, in: workflow, state: state, execution: execution)
                messages.append(ChatCompletion.toolResult(id: toolCall.id, content: result))
            }
        }
        throw LLMRequestFailed(
            description:
                "the model still asked for tools after max_turns \(call.maxTurns) calls; raise max_turns, or tell the model in the messages when to stop",
            retryable: false)
    }

    /// One model call inside its CHAT_MODEL span.
    private func chat(
        _ body: JSONValue, model: String, call: WorkflowNode.LLMCall, provider: ChatProvider, node: WorkflowNode
    ) async throws -> ChatCompletion.Reply {
        let span = tracer.startSpan("chat \(model)", context: ServiceContext.current ?? .topLevel)
        defer { span.end() }
        span.setSpanType(.chatModel)
        span.setInputs(json: body.jsonText)
        span.setAttribute("mlflow.llm.model", .string(model))
        span.setAttribute("mlflow.llm.provider", .string(provider.name))
        span.setAttribute("gen_ai.operation.name", .string("chat"))
        span.setAttribute("gen_ai.provider.name", .string(provider.name))
        span.setAttribute("gen_ai.request.model", .string(model))
        if let temperature = call.temperature { span.setAttribute("gen_ai.request.temperature", .double(temperature)) }
        if let maxTokens = call.maxTokens { span.setAttribute("gen_ai.request.max_tokens", .int64(Int64(maxTokens))) }
        span.setAttribute("server.address", .string(provider.host))

        var headers = [("Content-Type", "application/json"), ("Accept", "application/json")]
        if let authorization = provider.authorization { headers.append(("Authorization", authorization)) }
        let clock = ContinuousClock()
        let began = clock.now
        do {
            let response: HTTPClient.Response
            do {
                response = try await configuration.http.perform(
                    method: "POST", url: provider.url, headers: headers, body: Array(body.jsonText.utf8),
                    timeout: node.timeout.map { min($0, configuration.httpTimeout) } ?? configuration.httpTimeout)
            } catch {
                if error.code == .cancelled { throw CancellationError() }
                throw LLMRequestFailed(
                    description: "POST \(provider.host)/…/chat/completions failed: \(error.message)", retryable: true)
            }
            span.setAttribute("duration_ms", .int64(Int64(Self.milliseconds(clock.now - began))))
            span.setAttribute("http.response.status_code", .int64(Int64(response.status)))
            guard (200..<300).contains(response.status) else {
                let retryable = response.status == 408 || response.status == 429 || response.status >= 500
                throw LLMRequestFailed(
                    description:
                        "the model provider (\(provider.host)) answered \(response.status): \(ChatCompletion.errorMessage(response.body))",
                    retryable: retryable,
                    retryAfter: response.retryAfter.flatMap { Int($0) }.map { .seconds(max(0, min($0, 3600))) })
            }
            guard let answer = try? JSONValue(json: Data(response.body)), let reply = ChatCompletion.reply(answer)
            else {
                let start = String(decoding: response.body.prefix(40), as: UTF8.self)
                throw LLMRequestFailed(
                    description:
                        "the model provider (\(provider.host)) answered with something that is not a chat completion (it starts with \(start.debugDescription))",
                    retryable: true)
            }
            span.setOutputs(json: reply.answer.jsonText)
            record(reply, on: span)
            TokenMeter.current?.add(input: reply.inputTokens, output: reply.outputTokens)
            return reply
        } catch is CancellationError {
            span.recordError(
                LLMRequestFailed(
                    description: "the request was aborted: the node or the run timed out, or the run was cancelled",
                    retryable: false))
            throw CancellationError()
        } catch {
            span.recordError(error)
            throw error
        }
    }

    /// Runs a node the model asked for, in a TOOL span named after it (AGENT for a `workflow:`
    /// node), with the call's arguments over the state. Its update is the result the model gets;
    /// a failure is given to the model as the result (`error: …`), so that it can answer it, and
    /// marks the span ERROR. Only cancellation ends the node's attempt.
    private func runTool(
        _ toolCall: ChatCompletion.ToolCall, offered: [String], in workflow: Workflow, state: [String: JSONValue],
        execution: Execution
    ) async throws -> String {
        guard offered.contains(toolCall.name), let node = workflow.nodes[toolCall.name] else {
            return
                "error: there is no tool named \"\(toolCall.name)\"; the tools are \(offered.joined(separator: ", "))"
        }
        let span = tracer.startSpan(node.id, context: ServiceContext.current ?? .topLevel)
        defer { span.end() }
        if case .workflow = node.kind { span.setSpanType(.agent) } else { span.setSpanType(.tool) }
        span.setAttribute("node.kind", .string(node.kindName))
        span.setAttribute("gen_ai.tool.name", .string(node.id))
        span.setAttribute("gen_ai.tool.call.id", .string(toolCall.id))
        var toolState = state
        do {
            let arguments = try JSONValue(json: Data(toolCall.arguments.utf8))
            span.setInputs(json: arguments.jsonText)
            guard let object = arguments.objectValue else {
                throw LLMRequestFailed(
                    description: "the arguments are \(arguments.typeWithArticle), not an object", retryable: false)
            }
            toolState.merge(object) { $1 }
        } catch {
            span.setInputs(json: JSONValue.string(toolCall.arguments).jsonText)
            let message = "error: the arguments are not a JSON object: \(error)"
            span.recordError(LLMRequestFailed(description: message, retryable: false))
            return message
        }
        do {
            let outcome = try await ServiceContext.withValue(span.context) {
                try await self.perform(
                    node, in: workflow, state: toolState, span: span, attempt: 1, execution: execution)
            }
            let result = JSONValue.object(outcome.update).jsonText
            span.setOutputs(json: result)
            return result
        } catch let error where error is CancellationError || error is NodeCancelled || Task.isCancelled {
            span.recordError(error)
            throw error
        } catch {
            span.recordError(error)
            return "error: \(error)"
        }
    }

    /// The token usage, finish reason and response model on the CHAT_MODEL span, in OpenTelemetry's
    /// GenAI names; MLflow derives `mlflow.chat.tokenUsage` and the trace's token count from them.
    private func record(_ reply: ChatCompletion.Reply, on span: some RunSpan) {
        if let model = reply.model { span.setAttribute("gen_ai.response.model", .string(model)) }
        if let id = reply.id { span.setAttribute("gen_ai.response.id", .string(id)) }
        if let reason = reply.finishReason {
            span.setAttribute("gen_ai.response.finish_reasons", .stringArray([reason]))
        }
        if let tokens = reply.inputTokens { span.setAttribute("gen_ai.usage.input_tokens", .int64(tokens)) }
        if let tokens = reply.outputTokens { span.setAttribute("gen_ai.usage.output_tokens", .int64(tokens)) }
    }

    /// The node's update from the reply: its text, or its JSON.
    private func update(from reply: ChatCompletion.Reply, _ call: WorkflowNode.LLMCall) throws -> [String: JSONValue] {
        switch call.responseFormat {
        case .text:
            return [call.output ?? "reply": .string(reply.content)]
        case .json:
            guard let value = ChatCompletion.json(in: reply.content) else {
                throw LLMRequestFailed(
                    description:
                        "the reply is not JSON (it starts with \(String(reply.content.prefix(40)).debugDescription)); ask for JSON in the messages, or use response_format: text",
                    retryable: true)
            }
            if let key = call.output { return [key: value] }
            guard let object = value.objectValue else {
                throw LLMRequestFailed(
                    description:
                        "the reply is JSON but \(value.typeWithArticle), not an object; set output: <key> to store it under a state key",
                    retryable: true)
            }
            return object
        }
    }

    /// The endpoint and key for a call: the node's `base_url` or `OPENAI_BASE_URL`, and the key from
    /// the node's `api_key_env` or `OPENAI_API_KEY`.
    func chatProvider(_ call: WorkflowNode.LLMCall, baseURL: String?) throws -> ChatProvider {
        let environment = configuration.environment
        guard let base = baseURL ?? environment["OPENAI_BASE_URL"], !base.isEmpty else {
            throw LLMRequestFailed(
                description:
                    "no model provider: set OPENAI_BASE_URL in the daemon's environment (like https://api.openai.com/v1 or http://localhost:11434/v1), or base_url on the node",
                retryable: false)
        }
        guard let components = URLComponents(string: base), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw LLMRequestFailed(
                description: "the base URL \"\(Self.redact(base))\" is not an http:// or https:// URL with a host",
                retryable: false)
        }
        let url = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/chat/completions"
        let keyName = call.apiKeyEnvironment ?? "OPENAI_API_KEY"
        let key = environment[keyName].flatMap { $0.isEmpty ? nil : $0 }
        let name = call.provider ?? (host == "api.openai.com" ? "openai" : host)
        return ChatProvider(url: url, host: host, name: name, authorization: key.map { "Bearer \($0)" })
    }
}
