import Foundation

/// The wire format of an OpenAI-compatible `POST /chat/completions`: the request an `llm` node sends
/// and what is read from the answer. Only the fields schedulerd uses are read; the rest of the
/// answer is kept whole for the span's outputs.
struct ChatCompletion {
    /// A tool call the model asked for.
    struct ToolCall {
        /// The provider's id of the call, which the tool's result message names.
        var id: String
        /// The tool's name: a node id.
        var name: String
        /// The arguments as the model wrote them: a JSON text, not checked.
        var arguments: String
    }

    /// What was read from a successful answer.
    struct Reply {
        /// The first choice's message text; empty when the model gave none.
        var content: String
        /// Why the model stopped (`stop`, `length`, `tool_calls`, `content_filter`); `nil` when not given.
        var finishReason: String?
        /// The model that answered, as the provider names it; `nil` when not given.
        var model: String?
        /// The provider's id of the answer; `nil` when not given.
        var id: String?
        /// Tokens of the prompt, of the reply, and both; each `nil` when the provider did not count it.
        var inputTokens: Int64?
        var outputTokens: Int64?
        var totalTokens: Int64?
        /// The tool calls the model asked for, in order; empty when it replied.
        var toolCalls: [ToolCall]
        /// The first choice's message as it came, to send back in the conversation before the tools'
        /// results.
        var message: JSONValue
        /// The whole answer, for the span's outputs.
        var answer: JSONValue
    }

    /// The request body.
    static func body(
        model: String, messages: [JSONValue], tools: [JSONValue], temperature: Double?, maxTokens: Int?, json: Bool
    ) -> JSONValue {
        var body: [String: JSONValue] = ["model": .string(model), "messages": .array(messages)]
        if !tools.isEmpty { body["tools"] = .array(tools) }
        if let temperature { body["temperature"] = .number(temperature) }
        if let maxTokens { body["max_tokens"] = .integer(Int64(maxTokens)) }
        if json { body["response_format"] = ["type": "json_object"] }
        return .object(body)
    }

    /// Reads a successful answer; `nil` when it is not a chat completion (no `choices` with a message).
    static func reply(_ answer: JSONValue) -> Reply? {
        guard let choice = answer["choices"]?.arrayValue?.first, let message = choice["message"] else { return nil }
        let usage = answer["usage"]
        func count(_ key: String) -> Int64? {
            if case .integer(let n)? = usage?[key] { return n }
            return nil
        }
        let toolCalls = (message["tool_calls"]?.arrayValue ?? []).compactMap { call -> ToolCall? in
            guard let function = call["function"], let name = function["name"]?.stringValue else { return nil }
            return ToolCall(
                id: call["id"]?.stringValue ?? "", name: name, arguments: function["arguments"]?.stringValue ?? "{}")
        }
        return Reply(
            content: message["content"]?.stringValue ?? "", finishReason: choice["finish_reason"]?.stringValue,
            model: answer["model"]?.stringValue, id: answer["id"]?.stringValue, inputTokens: count("prompt_tokens"),
            outputTokens: count("completion_tokens"), totalTokens: count("total_tokens"), toolCalls: toolCalls,
            message: message, answer: answer)
    }

    /// A message of the conversation.
    static func message(role: String, content: String) -> JSONValue {
        ["role": .string(role), "content": .string(content)]
    }

    /// A tool's result, answering the call with `id`.
    static func toolResult(id: String, content: String) -> JSONValue {
        ["role": "tool", "tool_call_id": .string(id), "content": .string(content)]
    }

    /// A node offered as a tool: its id, description and parameters schema.
    static func tool(name: String, description: String?, parameters: JSONValue?) -> JSONValue {
        var function: [String: JSONValue] = [
            "name": .string(name), "parameters": parameters ?? ["type": "object", "properties": [:]],
        ]
        if let description { function["description"] = .string(description) }
        return ["type": "function", "function": .object(function)]
    }

    /// The provider's own message from an error answer (`{"error": {"message": …}}`, or
    /// `{"error": "…"}` as some local servers send), else the start of the body.
    static func errorMessage(_ body: [UInt8]) -> String {
        if let answer = try? JSONValue(json: Data(body)) {
            if let message = answer["error"]?["message"]?.stringValue { return message }
            if let message = answer["error"]?.stringValue { return message }
        }
        return String(decoding: body.prefix(200), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
    }

    /// The reply's text as JSON: the text itself, or the inside of a Markdown code fence around it
    /// (models often wrap JSON in ```json … ```).
    static func json(in content: String) -> JSONValue? {
        var text = content.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("```") {
            text = String(text.drop { $0 != "\n" }.dropFirst())
            if text.hasSuffix("```") { text = String(text.dropLast(3)) }
        }
        return try? JSONValue(json: Data(text.utf8))
    }
}
