import Foundation
import Support
import Yams

// The reader of an `llm:` node: the model, its messages and settings, and where the reply goes.

extension WorkflowFile.Reader {
    mutating func readLLM(_ id: String, _ node: Yams.Node) -> WorkflowNode.Kind {
        var call = WorkflowNode.LLMCall(
            model: .init(part: .constant("")), system: nil, messages: [], temperature: nil, maxTokens: nil,
            responseFormat: .text, output: nil, baseURL: nil, apiKeyEnvironment: nil, provider: nil)
        let keys = WorkflowFile.llmKeys.joined(separator: ", ")
        guard let fields = node.mapping else {
            problem(node, "node \"\(id)\": llm must be a mapping with \(keys)")
            return .llm(call)
        }
        for (key, _) in fields where !WorkflowFile.llmKeys.contains(key.string ?? "") {
            problem(key, "node \"\(id)\": unknown llm key \"\(key.string ?? "?")\"; allowed: \(keys)")
        }
        func value(_ key: String) -> Yams.Node? { fields.first { $0.key.string == key }?.value }

        if let model = value("model"), let text = model.scalar?.string, !text.isEmpty {
            if checkVariables(id, model, "model"), let template = template(model, "node \"\(id)\": model") {
                call.model = template
            }
        } else {
            problem(
                value("model") ?? node,
                "node \"\(id)\": llm needs a model, like gpt-4o-mini or \"${LLM_MODEL}\" (from the daemon's environment)"
            )
        }
        if let system = value("system") {
            if system.scalar == nil {
                problem(system, "node \"\(id)\": system must be text, like \"You are the Architect.\"")
            } else {
                call.system = template(system, "node \"\(id)\": system")
            }
        }
        if let messages = value("messages") {
            call.messages = readMessages(id, messages)
        }
        if call.system == nil && value("messages") == nil {
            problem(
                value("messages") ?? node,
                "node \"\(id)\": llm needs messages (a list of {role: user, content: \"…\"}) or a system message")
        }
        if let temperature = value("temperature") {
            if let number = temperature.number, number >= 0, number <= 2 {
                call.temperature = number
            } else {
                problem(
                    temperature,
                    "node \"\(id)\": temperature \"\(temperature.scalar?.string ?? "")\" must be a number from 0 to 2")
            }
        }
        if let maxTokens = value("max_tokens") {
            if let number = maxTokens.integer, number >= 1, number <= 1_000_000 {
                call.maxTokens = number
            } else {
                problem(
                    maxTokens,
                    "node \"\(id)\": max_tokens \"\(maxTokens.scalar?.string ?? "")\" must be a whole number from 1 to 1000000"
                )
            }
        }
        if let format = value("response_format") {
            if let parsed = WorkflowNode.LLMCall.ResponseFormat(rawValue: format.scalar?.string ?? "") {
                call.responseFormat = parsed
            } else {
                problem(
                    format, "node \"\(id)\": response_format \"\(format.scalar?.string ?? "")\" must be text or json")
            }
        }
        if let output = value("output") {
            let key = output.scalar?.string ?? ""
            if StatePath(key)?.steps.count == 1 {
                call.output = key
            } else {
                problem(output, "node \"\(id)\": output \"\(key)\" must be a state key, like proposal")
            }
        } else if call.responseFormat == .text {
            problem(
                node,
                "node \"\(id)\": a text reply needs output: <state key> to go under; or set response_format: json for a reply that is the update"
            )
        }
        if let base = value("base_url"), let text = base.scalar?.string {
            if !(text.hasPrefix("http://") || text.hasPrefix("https://") || text.hasPrefix("${")) {
                problem(base, "node \"\(id)\": base_url \"\(text)\" must start with http://, https:// or ${VARIABLE}")
            } else if checkVariables(id, base, "base_url") {
                call.baseURL = template(base, "node \"\(id)\": base_url")
            }
        } else if let base = value("base_url") {
            problem(base, "node \"\(id)\": base_url must be a URL like http://localhost:11434/v1")
        }
        if let keyEnvironment = value("api_key_env") {
            let name = keyEnvironment.scalar?.string ?? ""
            if name.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) != nil {
                call.apiKeyEnvironment = name
            } else {
                problem(
                    keyEnvironment,
                    "node \"\(id)\": api_key_env \"\(name)\" must be the name of an environment variable, like OPENAI_API_KEY (never the key itself)"
                )
            }
        }
        if let provider = value("provider") {
            let name = provider.scalar?.string ?? ""
            if name.range(of: #"^[a-z0-9][a-z0-9._-]{0,63}$"#, options: .regularExpression) != nil {
                call.provider = name
            } else {
                problem(
                    provider,
                    "node \"\(id)\": provider \"\(name)\" must be a short lowercase name, like openai or ollama")
            }
        }
        if let tools = value("tools") {
            let names = tools.sequence?.compactMap { $0.scalar?.string } ?? []
            if let items = tools.sequence, !items.isEmpty, names.count == items.count, Set(names).count == names.count {
                call.tools = names  // that each names a node that can be a tool is checked with the graph
            } else {
                problem(
                    tools,
                    "node \"\(id)\": tools must be a list of distinct node ids, like [query_devices, consult_ds_team]")
            }
        }
        if let turns = value("max_turns") {
            if let number = turns.integer, number >= 1, number <= 100 {
                call.maxTurns = number
            } else {
                problem(
                    turns,
                    "node \"\(id)\": max_turns \"\(turns.scalar?.string ?? "")\" must be a whole number from 1 to 100")
            }
        }
        return .llm(call)
    }

    /// A tool node's `parameters:`: a JSON schema of an object.
    mutating func readParameters(_ id: String, _ node: Yams.Node) -> JSONValue? {
        let schema = WorkflowFile.json(node)
        guard let object = schema.objectValue, object["type"].map({ $0 == "object" }) ?? true else {
            problem(
                node,
                "node \"\(id)\": parameters must be a JSON schema of an object, like {type: object, properties: {room: {type: string}}, required: [room]}"
            )
            return nil
        }
        if let properties = object["properties"], properties.objectValue == nil {
            problem(node, "node \"\(id)\": parameters: properties must map argument names to their schemas")
            return nil
        }
        return schema
    }

    /// Every tool of an `llm` node names another node of the workflow that can run as a tool.
    mutating func checkTools(_ workflow: Workflow, nodes: Yams.Node.Mapping) {
        for id in workflow.nodeOrder {
            guard case .llm(let call)? = workflow.nodes[id]?.kind, !call.tools.isEmpty else { continue }
            let at = nodes.first { $0.key.string == id }?.value.mapping?.first { $0.key.string == "llm" }?.value
                .mapping?.first { $0.key.string == "tools" }?.value
            for tool in call.tools {
                guard let target = workflow.nodes[tool] else {
                    let hint = Suggestion.phrase(tool, among: workflow.nodeOrder).map { " (\($0))" } ?? ""
                    problem(
                        at,
                        "node \"\(id)\": tool \"\(tool)\" is not a node\(hint); use one of \(list(workflow.nodeOrder))")
                    continue
                }
                switch target.kind {
                case .route, .llm:
                    problem(
                        at,
                        "node \"\(id)\": tool \"\(tool)\" is a \(target.kindName) node; a tool is a script, http, workflow, set or Swift node"
                    )
                default: break
                }
            }
        }
    }

    private mutating func readMessages(_ id: String, _ node: Yams.Node) -> [(role: String, content: Template)] {
        guard let items = node.sequence, !items.isEmpty else {
            problem(node, "node \"\(id)\": messages must be a list of {role: user, content: \"…\"}")
            return []
        }
        var messages: [(role: String, content: Template)] = []
        for item in items {
            guard let fields = item.mapping, fields.count == 2,
                let role = fields.first(where: { $0.key.string == "role" })?.value,
                let content = fields.first(where: { $0.key.string == "content" })?.value
            else {
                problem(item, "node \"\(id)\": each message needs exactly role: and content:")
                continue
            }
            let roleName = role.scalar?.string ?? ""
            guard WorkflowFile.llmRoles.contains(roleName) else {
                problem(
                    role,
                    "node \"\(id)\": message role \"\(roleName)\" must be one of \(WorkflowFile.llmRoles.joined(separator: ", "))"
                )
                continue
            }
            if let template = template(content, "node \"\(id)\": message content") {
                messages.append((roleName, template))
            }
        }
        return messages
    }

    /// Whether every `${NAME}` in the node's text is a variable name; reports the first that is not.
    private mutating func checkVariables(_ id: String, _ node: Yams.Node, _ subject: String) -> Bool {
        let bad = EnvironmentReference.names(in: node.scalar?.string ?? "").first {
            $0.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) == nil
        }
        if let bad { problem(node, "node \"\(id)\": \(subject): ${\(bad)} is not an environment variable name") }
        return bad == nil
    }
}
