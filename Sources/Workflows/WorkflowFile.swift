import Foundation
import ProcessSandbox
import Support
import Yams

/// Reads one workflow file (`schedules/workflows/*.yaml`):
///
/// ```yaml
/// name: energy_analysis            # lowercase letters, digits, _ and -
/// type: scheduled_analysis         # the `workflow` trace tag (default: the name)
/// description: Daily energy report
/// entry: collect
/// state: {region: eu}              # initial state; a run's input is merged over it
/// timeout: 10m                     # the whole run
/// max_steps: 50                    # loop guard (default 100)
/// nodes:
///   collect:
///     script: scripts/collect.py   # relative to the schedules directory
///     policy: analysis             # from policies.yaml (default: default)
///     args: [--days, "7"]
///     retry: {attempts: 3, backoff: 2s, max_backoff: 30s}
///     timeout: 2m
///     next: [weather, prices]      # fan-out; the branches join at the first node both reach
///   weather:
///     http:
///       method: GET
///       url: "https://api.example/weather?day={{ day }}"
///       headers: {Authorization: "Bearer ${WEATHER_TOKEN}"}   # secrets from the daemon's environment
///       output: weather            # the state key for the response
///     next: check
///   prices:
///     set: {prices_checked: true, note: "prices for {{ region }}"}
///     next: check
///   check:
///     route:
///       - when: "weather.storm == true or anomalies > 3"
///         next: escalate
///     default: report
///   escalate:
///     workflow: team_analysis      # delegation, nested in the same trace
///     input: {question: "{{ anomalies }}"}
///     output: {team_report: "{{ report }}"}
///     next: report
///   report:
///     script: scripts/report.py
///     append: [history]            # lists under these keys are appended to, not replaced
///     continue_on_error: true
///     next: end
/// ```
///
/// Nodes with a `swift:` key run node kinds registered in Swift (``NodeRegistry``), with the
/// mapping under `with:` as their configuration.
public enum WorkflowFile {
    static let workflowKeys = ["name", "type", "description", "entry", "state", "timeout", "max_steps", "nodes"]
    static let kindKeys = ["script", "http", "llm", "workflow", "route", "set", "swift"]
    static let commonKeys = ["next", "retry", "timeout", "continue_on_error", "append", "description", "parameters"]
    static let extraKeys: [String: [String]] = [
        "script": ["policy", "args"], "workflow": ["input", "output"], "route": ["default"], "swift": ["with"],
        "http": [], "llm": [], "set": [],
    ]
    static let httpKeys = ["method", "url", "headers", "body", "output"]
    static let llmKeys = [
        "model", "system", "messages", "temperature", "max_tokens", "response_format", "output", "base_url",
        "api_key_env", "provider", "tools", "max_turns",
    ]
    static let llmRoles = ["system", "user", "assistant"]
    static let httpMethods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
    static let namePattern = #"^[a-z][a-z0-9_-]{0,63}$"#
    static let nodePattern = #"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"#

    /// What a workflow file is checked against.
    public struct Context: Sendable {
        /// The schedules directory: scripts are relative to it.
        public var directory: URL
        /// The sandbox policies by name.
        public var policies: [String: SandboxPolicy]
        /// The Swift node kinds registered.
        public var nodeKinds: Set<String>

        /// A context; the parameters are the properties of the same names. With no `nodeKinds`, a file
        /// with a `swift:` node is refused.
        public init(directory: URL, policies: [String: SandboxPolicy], nodeKinds: Set<String> = []) {
            self.directory = directory
            self.policies = policies
            self.nodeKinds = nodeKinds
        }
    }

    /// Parses and checks one workflow file on its own (references to other workflows are checked by
    /// ``WorkflowCatalog``).
    /// - Throws: ``WorkflowError`` listing every problem.
    public static func parse(_ text: String, file: String, context: Context) throws(WorkflowError) -> Workflow {
        var reader = Reader(file: file, context: context)
        let workflow = reader.read(text)
        guard reader.problems.isEmpty, let workflow else {
            throw WorkflowError(code: .invalidFiles, problems: reader.problems)
        }
        return workflow
    }

    /// YAML scalars become JSON values the way YAML's core schema reads them; quoted scalars stay strings.
    package static func json(_ node: Yams.Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain {
                if node.null != nil { return .null }
                if let flag = node.bool { return .bool(flag) }
                if let n = node.integer { return .integer(Int64(n)) }
                if let x = node.number, x.isFinite { return .number(x) }
            }
            return .string(scalar.string)
        case .sequence(let sequence): return .array(sequence.map(json))
        case .mapping(let mapping):
            var members: [String: JSONValue] = [:]
            for (key, value) in mapping { members[key.string ?? ""] = json(value) }
            return .object(members)
        case .alias: return .null
        }
    }

    struct Reader {
        let file: String
        let context: Context
        var problems: [WorkflowError.Problem] = []

        mutating func problem(_ node: Yams.Node?, _ message: String) {
            problems.append(FileProblem(file: file, at: node, message))
        }

        mutating func read(_ text: String) -> Workflow? {
            let root: Yams.Node?
            do {
                // UTF-8 named, not Yams's default: that reads the whole environment on every call.
                root = try Yams.compose(yaml: text, .default, .default, .utf8)
            } catch {
                problems.append(FileProblem(file: file, syntax: error, keys: "node ids and keys"))
                return nil
            }
            guard let root, let top = root.mapping else {
                problem(root, "must be a mapping with name, entry and nodes")
                return nil
            }
            for (key, _) in top where !workflowKeys.contains(key.string ?? "") {
                problem(key, "unknown key \"\(key.string ?? "?")\"; allowed: \(workflowKeys.joined(separator: ", "))")
            }
            func value(_ key: String) -> Yams.Node? { top.first { $0.key.string == key }?.value }

            var workflow = Workflow(
                name: "", type: "", description: nil, entry: "", state: [:], timeout: nil,
                maxSteps: Workflow.defaultMaxSteps, nodes: [:], nodeOrder: [], file: file)
            if let name = value("name") {
                if let text = name.scalar?.string, text.range(of: namePattern, options: .regularExpression) != nil {
                    workflow.name = text
                } else {
                    problem(
                        name,
                        "name \"\(name.scalar?.string ?? "")\" must be lowercase letters, digits, _ and -, starting with a letter"
                    )
                }
            } else {
                problem(root, "has no name; add name: <lowercase_name>")
            }
            workflow.type = workflow.name
            if let type = value("type") {
                if let text = type.scalar?.string, !text.isEmpty, text.count <= 64 {
                    workflow.type = text
                } else {
                    problem(type, "type must be a short text (the workflow trace tag)")
                }
            }
            workflow.description = value("description")?.scalar?.string
            if let state = value("state") {
                if case .object(let members) = WorkflowFile.json(state) {
                    workflow.state = members
                } else if state.null == nil {
                    problem(state, "state must be a mapping (the initial state)")
                }
            }
            if let timeout = value("timeout") {
                workflow.timeout = duration(timeout, "timeout")
            }
            if let steps = value("max_steps") {
                if let n = steps.integer, n >= 1, n <= 100_000 {
                    workflow.maxSteps = n
                } else {
                    problem(
                        steps, "max_steps \"\(steps.scalar?.string ?? "")\" must be a whole number from 1 to 100000")
                }
            }
            guard let nodesNode = value("nodes") else {
                problem(root, "has no nodes; add nodes: with at least one node")
                return nil
            }
            guard let nodes = nodesNode.mapping, !nodes.isEmpty else {
                problem(nodesNode, "nodes must map node ids to their settings")
                return nil
            }
            for (idNode, body) in nodes {
                guard let id = idNode.scalar?.string, id.range(of: nodePattern, options: .regularExpression) != nil,
                    id != "end"
                else {
                    problem(
                        idNode,
                        "node id \"\(idNode.scalar?.string ?? "")\" must be letters, digits, _ and -, starting with a letter, and not \"end\""
                    )
                    continue
                }
                if let node = readNode(id: id, idNode: idNode, body: body) {
                    workflow.nodes[id] = node
                    workflow.nodeOrder.append(id)
                }
            }
            if let entry = value("entry") {
                let id = entry.scalar?.string ?? ""
                if workflow.nodes[id] != nil {
                    workflow.entry = id
                } else if nodes.contains(where: { $0.key.string == id }) {
                    workflow.entry = id  // the node itself has problems, already reported
                } else {
                    problem(entry, "entry \"\(id)\" is not a node; nodes are: \(list(workflow.nodeOrder))")
                }
            } else {
                problem(root, "has no entry; add entry: <first node id>")
            }
            checkGraph(workflow, nodes: nodes)
            checkTools(workflow, nodes: nodes)
            return workflow
        }

        mutating func checkGraph(_ workflow: Workflow, nodes: Yams.Node.Mapping) {
            let known = Set(nodes.compactMap { $0.key.string })
            var unknownTargets = false
            for id in workflow.nodeOrder {
                guard let node = workflow.nodes[id] else { continue }
                let body = nodes.first { $0.key.string == id }?.value
                for target in node.successors where !known.contains(target) {
                    let at = body?.mapping?.first { ["next", "route", "default"].contains($0.key.string ?? "") }?.value
                    let hint = Suggestion.phrase(target, among: workflow.nodeOrder + ["end"]).map { " (\($0))" } ?? ""
                    problem(
                        at ?? body,
                        "node \"\(id)\": next \"\(target)\" is not a node\(hint); use one of \(list(workflow.nodeOrder)) or end"
                    )
                    unknownTargets = true
                }
                if case .llm(let call) = node.kind, !call.tools.allSatisfy(known.contains) { unknownTargets = true }
            }
            // Reachability from the entry; not judged when a next names no node, since nodes after
            // the misspelt name only look unreachable.
            guard workflow.nodes[workflow.entry] != nil, !unknownTargets else { return }
            var seen: Set<String> = [workflow.entry]
            var queue = [workflow.entry]
            while let id = queue.popLast() {
                for target in workflow.nodes[id]?.successors ?? [] where !seen.contains(target) {
                    seen.insert(target)
                    queue.append(target)
                }
                // An llm node's tools run when its model asks for them, not through next.
                if case .llm(let call)? = workflow.nodes[id]?.kind { seen.formUnion(call.tools) }
            }
            for id in workflow.nodeOrder where !seen.contains(id) {
                let idNode = nodes.first { $0.key.string == id }?.key
                problem(
                    idNode,
                    "node \"\(id)\" is unreachable from entry \"\(workflow.entry)\"; lead to it with next from another node, or remove it"
                )
            }
        }
    }
}
