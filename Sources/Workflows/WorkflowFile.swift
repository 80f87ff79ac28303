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
    static let kindKeys = ["script", "http", "workflow", "route", "set", "swift"]
    static let commonKeys = ["next", "retry", "timeout", "continue_on_error", "append", "description"]
    static let extraKeys: [String: [String]] = [
        "script": ["policy", "args"], "workflow": ["input", "output"], "route": ["default"], "swift": ["with"],
        "http": [], "set": [],
    ]
    static let httpKeys = ["method", "url", "headers", "body", "output"]
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
                root = try Yams.compose(yaml: text)
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
            }
            for id in workflow.nodeOrder where !seen.contains(id) {
                let idNode = nodes.first { $0.key.string == id }?.key
                problem(
                    idNode,
                    "node \"\(id)\" is unreachable from entry \"\(workflow.entry)\"; lead to it with next from another node, or remove it"
                )
            }
        }

        mutating func readNode(id: String, idNode: Yams.Node, body: Yams.Node) -> WorkflowNode? {
            guard let fields = body.mapping else {
                problem(body, "node \"\(id)\" must be a mapping with one of \(kindKeys.joined(separator: ", "))")
                return nil
            }
            let kinds = fields.compactMap { kindKeys.contains($0.key.string ?? "") ? $0.key.string : nil }
            if kinds.count != 1 {
                problem(
                    kinds.isEmpty ? idNode : fields.first { $0.key.string == kinds[1] }?.key,
                    kinds.isEmpty
                        ? "node \"\(id)\" has no kind; give it one of \(kindKeys.joined(separator: ", "))"
                        : "node \"\(id)\" has several kinds (\(kinds.joined(separator: ", "))); give it exactly one")
            }
            let kindKey = kinds.count == 1 ? kinds[0] : ""
            let allowed = commonKeys + [kindKey] + (extraKeys[kindKey] ?? [])
            for (key, _) in fields where kinds.count == 1 && !allowed.contains(key.string ?? "") {
                problem(
                    key,
                    "node \"\(id)\": unknown key \"\(key.string ?? "?")\" for a \(kindKey) node; allowed: \(allowed.joined(separator: ", "))"
                )
            }
            func value(_ key: String) -> Yams.Node? { fields.first { $0.key.string == key }?.value }
            // A node with problems is still returned, so that the graph checks see its edges; the file
            // fails as a whole.
            var node = WorkflowNode(
                id: id, kind: .set([]), next: .end, retry: .init(), timeout: nil, continueOnError: false, append: [],
                description: value("description")?.scalar?.string, line: idNode.mark?.line ?? 1,
                column: idNode.mark?.column ?? 1)
            switch kindKey {
            case "": break
            case "script": node.kind = readScript(id, value(kindKey)!, policy: value("policy"), args: value("args"))
            case "http": node.kind = readHTTP(id, value(kindKey)!)
            case "workflow":
                node.kind = readDelegation(id, value(kindKey)!, input: value("input"), output: value("output"))
            case "route": node.kind = readRoute(id, value(kindKey)!, defaultNode: value("default"), body: body)
            case "set": node.kind = readSet(id, value(kindKey)!)
            default: node.kind = readSwift(id, value(kindKey)!, with: value("with"))
            }
            if let next = value("next") {
                if kindKey == "route" {
                    problem(next, "node \"\(id)\": a route node picks its next node with route and default, not next")
                } else {
                    node.next = readNext(id, next)
                }
            }
            if let retry = value("retry") { node.retry = readRetry(id, retry) }
            if let timeout = value("timeout") { node.timeout = duration(timeout, "node \"\(id)\": timeout") }
            if let flag = value("continue_on_error") {
                if let bool = flag.bool {
                    node.continueOnError = bool
                } else {
                    problem(flag, "node \"\(id)\": continue_on_error must be true or false")
                }
            }
            if let append = value("append") {
                let keys = append.sequence?.compactMap { $0.scalar?.string } ?? []
                if keys.count == append.sequence?.count, keys.allSatisfy({ StatePath($0)?.steps.count == 1 }) {
                    node.append = Set(keys)
                } else {
                    problem(append, "node \"\(id)\": append must be a list of state keys, like [history, notes]")
                }
            }
            return node
        }

        mutating func readScript(_ id: String, _ node: Yams.Node, policy: Yams.Node?, args: Yams.Node?)
            -> WorkflowNode.Kind
        {
            let path = node.scalar?.string ?? ""
            var resolved = ""
            if path.isEmpty {
                problem(node, "node \"\(id)\": script must be a file path relative to the schedules directory")
            } else if path.hasPrefix("/") || path.split(separator: "/").contains("..") {
                problem(
                    node,
                    "node \"\(id)\": script \"\(path)\" must be relative to the schedules directory and stay inside it")
            } else {
                resolved = context.directory.appendingPathComponent(path).standardizedFileURL.path
                var isDirectory: ObjCBool = false
                if !FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) || isDirectory.boolValue
                {
                    problem(node, "node \"\(id)\": script \"\(path)\" does not exist in \(context.directory.path)")
                } else if !FileManager.default.isExecutableFile(atPath: resolved) {
                    problem(
                        node,
                        "node \"\(id)\": script \"\(path)\" is not executable; run chmod +x \(path) and start it with a #! line"
                    )
                }
            }
            var policyName = "default"
            if let policy {
                policyName = policy.scalar?.string ?? ""
                if context.policies[policyName] == nil {
                    problem(
                        policy,
                        "node \"\(id)\": policy \"\(policyName)\" is not in policies.yaml; known: \(list(context.policies.keys.sorted()))"
                    )
                }
            }
            var arguments: [String] = []
            if let args {
                if let items = args.sequence, items.allSatisfy({ $0.scalar != nil }) {
                    arguments = items.map { $0.scalar!.string }
                } else {
                    problem(args, "node \"\(id)\": args must be a list of constant strings")
                }
            }
            return .script(.init(path: path, resolvedPath: resolved, policy: policyName, arguments: arguments))
        }

        mutating func readHTTP(_ id: String, _ node: Yams.Node) -> WorkflowNode.Kind {
            var request = WorkflowNode.HTTPRequest(method: "GET", url: .init(part: .constant("")), headers: [])
            guard let fields = node.mapping else {
                problem(node, "node \"\(id)\": http must be a mapping with \(httpKeys.joined(separator: ", "))")
                return .http(request)
            }
            for (key, _) in fields where !httpKeys.contains(key.string ?? "") {
                problem(
                    key,
                    "node \"\(id)\": unknown http key \"\(key.string ?? "?")\"; allowed: \(httpKeys.joined(separator: ", "))"
                )
            }
            func value(_ key: String) -> Yams.Node? { fields.first { $0.key.string == key }?.value }
            if let method = value("method") {
                let text = (method.scalar?.string ?? "").uppercased()
                if httpMethods.contains(text) {
                    request.method = text
                } else {
                    problem(
                        method,
                        "node \"\(id)\": method \"\(method.scalar?.string ?? "")\" is not allowed; use \(httpMethods.joined(separator: ", "))"
                    )
                }
            }
            if let url = value("url"), let text = url.scalar?.string {
                let badNames = EnvironmentReference.names(in: text).filter {
                    $0.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) == nil
                }
                if !(text.hasPrefix("http://") || text.hasPrefix("https://") || text.hasPrefix("{{")
                    || text.hasPrefix("${"))
                {
                    problem(
                        url,
                        "node \"\(id)\": url \"\(text)\" must start with http://, https://, {{ path }} or ${VARIABLE}")
                } else if let bad = badNames.first {
                    problem(url, "node \"\(id)\": ${\(bad)} is not an environment variable name")
                } else if let template = template(url, "node \"\(id)\": url") {
                    request.url = template
                }
            } else {
                problem(value("url") ?? node, "node \"\(id)\": http needs a url")
            }
            if let headers = value("headers") {
                if let pairs = headers.mapping {
                    for (name, headerValue) in pairs {
                        let headerName = name.string ?? ""
                        guard headerName.range(of: #"^[A-Za-z0-9-]+$"#, options: .regularExpression) != nil else {
                            problem(name, "node \"\(id)\": header name \"\(headerName)\" must be letters, digits and -")
                            continue
                        }
                        for variable in EnvironmentReference.names(in: headerValue.scalar?.string ?? "")
                        where variable.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) == nil {
                            problem(headerValue, "node \"\(id)\": ${\(variable)} is not an environment variable name")
                        }
                        if let template = template(headerValue, "node \"\(id)\": header \(headerName)") {
                            request.headers.append((headerName, template))
                        }
                    }
                } else {
                    problem(headers, "node \"\(id)\": headers must map header names to values")
                }
            }
            if let body = value("body") {
                if request.method == "GET" || request.method == "HEAD" {
                    problem(body, "node \"\(id)\": a \(request.method) request has no body; use POST, PUT or PATCH")
                }
                request.body = template(body, "node \"\(id)\": body")
            }
            if let output = value("output") {
                let key = output.scalar?.string ?? ""
                if StatePath(key)?.steps.count == 1 {
                    request.output = key
                } else {
                    problem(output, "node \"\(id)\": output \"\(key)\" must be a state key, like prices")
                }
            }
            return .http(request)
        }

        mutating func readDelegation(_ id: String, _ node: Yams.Node, input: Yams.Node?, output: Yams.Node?)
            -> WorkflowNode.Kind
        {
            let target = node.scalar?.string ?? ""
            if target.range(of: namePattern, options: .regularExpression) == nil {
                problem(node, "node \"\(id)\": workflow must name a workflow, like team_analysis")
            }
            return .workflow(
                .init(
                    workflow: target, input: input.flatMap { mapping($0, "node \"\(id)\": input") },
                    output: output.flatMap { mapping($0, "node \"\(id)\": output") }))
        }

        mutating func readRoute(_ id: String, _ node: Yams.Node, defaultNode: Yams.Node?, body: Yams.Node)
            -> WorkflowNode.Kind
        {
            var route = WorkflowNode.Route(cases: [], defaultNext: "end")
            if let items = node.sequence, !items.isEmpty {
                for item in items {
                    guard let fields = item.mapping, fields.count == 2,
                        let when = fields.first(where: { $0.key.string == "when" })?.value,
                        let next = fields.first(where: { $0.key.string == "next" })?.value
                    else {
                        problem(
                            item, "node \"\(id)\": each route entry needs exactly when: <condition> and next: <node>")
                        continue
                    }
                    let text = when.scalar?.string ?? ""
                    do {
                        route.cases.append((try Condition(text), next.scalar?.string ?? ""))
                    } catch {
                        problems.append(
                            .init(
                                file: file, line: when.mark?.line ?? 1,
                                column: (when.mark?.column ?? 1) + (when.scalar?.style == .plain ? 0 : 1)
                                    + error.offset,
                                message: "node \"\(id)\": condition \"\(text)\": \(error.message)"))
                    }
                }
            } else {
                problem(node, "node \"\(id)\": route must be a list of {when: <condition>, next: <node>}")
            }
            if let defaultNode {
                route.defaultNext = defaultNode.scalar?.string ?? ""
            } else {
                problem(
                    body,
                    "node \"\(id)\": a route node needs default: <node> (or default: end) for when no condition holds")
            }
            return .route(route)
        }

        mutating func readSet(_ id: String, _ node: Yams.Node) -> WorkflowNode.Kind {
            guard let pairs = node.mapping, !pairs.isEmpty else {
                problem(node, "node \"\(id)\": set must map state paths to values")
                return .set([])
            }
            var assignments: [(StatePath, Template)] = []
            for (key, value) in pairs {
                guard let path = StatePath(key.string ?? "") else {
                    problem(
                        key,
                        "node \"\(id)\": \"\(key.string ?? "")\" is not a state path (like report.status or items[0], an index up to \(StatePath.maximumIndex))"
                    )
                    continue
                }
                if let template = template(value, "node \"\(id)\": set \(path)") {
                    assignments.append((path, template))
                }
            }
            return .set(assignments)
        }

        mutating func readSwift(_ id: String, _ node: Yams.Node, with configuration: Yams.Node?) -> WorkflowNode.Kind {
            let name = node.scalar?.string ?? ""
            if !context.nodeKinds.contains(name) {
                problem(
                    node,
                    "node \"\(id)\": swift node kind \"\(name)\" is not registered"
                        + (context.nodeKinds.isEmpty
                            ? "; this program registers none" : "; registered: \(list(context.nodeKinds.sorted()))"))
            }
            return .swift(name: name, configuration: configuration.map(WorkflowFile.json) ?? .object([:]))
        }

        mutating func readNext(_ id: String, _ node: Yams.Node) -> WorkflowNode.Next {
            if let single = node.scalar?.string {
                return single == "end" ? .end : .node(single)
            }
            if let items = node.sequence {
                let ids = items.map { $0.scalar?.string ?? "" }
                if ids.count < 2 || Set(ids).count != ids.count || ids.contains("end") {
                    problem(node, "node \"\(id)\": a next list fans out to two or more distinct nodes (not end)")
                    return .parallel(ids.filter { $0 != "end" })
                }
                return .parallel(ids)
            }
            problem(node, "node \"\(id)\": next must be a node id, a list of node ids, or end")
            return .end
        }

        mutating func readRetry(_ id: String, _ node: Yams.Node) -> WorkflowNode.Retry {
            var retry = WorkflowNode.Retry()
            guard let fields = node.mapping else {
                problem(node, "node \"\(id)\": retry must be a mapping like {attempts: 3, backoff: 2s}")
                return retry
            }
            for (key, value) in fields {
                switch key.string ?? "" {
                case "attempts":
                    if let n = value.integer, n >= 1, n <= 100 {
                        retry.attempts = n
                    } else {
                        problem(
                            value,
                            "node \"\(id)\": retry attempts \"\(value.scalar?.string ?? "")\" must be a whole number from 1 to 100"
                        )
                    }
                case "backoff":
                    retry.backoff = duration(value, "node \"\(id)\": retry backoff", allowZero: true) ?? .zero
                case "max_backoff":
                    retry.maxBackoff = duration(value, "node \"\(id)\": retry max_backoff") ?? retry.maxBackoff
                default:
                    problem(
                        key,
                        "node \"\(id)\": unknown retry key \"\(key.string ?? "?")\"; allowed: attempts, backoff, max_backoff"
                    )
                }
            }
            return retry
        }

        mutating func duration(_ node: Yams.Node, _ subject: String, allowZero: Bool = false) -> Duration? {
            let text = node.scalar?.string ?? ""
            guard let value = DurationText.parse(text), allowZero || value > .zero else {
                problem(
                    node,
                    "\(subject) \"\(text)\" is not a duration from \(allowZero ? "0s" : "1ms") to \(DurationText.maximumText); use 500ms, 90s, 5m or 1h30m"
                )
                return nil
            }
            return value
        }

        mutating func template(_ node: Yams.Node, _ subject: String) -> Template? {
            do {
                return try Template(WorkflowFile.json(node))
            } catch {
                problem(node, "\(subject): \(error.message)")
                return nil
            }
        }

        mutating func mapping(_ node: Yams.Node, _ subject: String) -> [String: Template]? {
            guard let pairs = node.mapping else {
                problem(node, "\(subject) must map state keys to values or {{ paths }}")
                return nil
            }
            var result: [String: Template] = [:]
            for (key, value) in pairs {
                let name = key.string ?? ""
                guard StatePath(name)?.steps.count == 1 else {
                    problem(key, "\(subject): \"\(name)\" must be a state key")
                    continue
                }
                if let template = template(value, "\(subject) \(name)") { result[name] = template }
            }
            return result
        }

        func list(_ names: [String]) -> String {
            names.isEmpty ? "(none)" : names.joined(separator: ", ")
        }
    }
}
