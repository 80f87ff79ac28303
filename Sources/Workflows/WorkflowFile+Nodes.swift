import Foundation
import ProcessSandbox
import Support
import Yams

// The readers of one node each: its kind (script, http, delegation, route, set, swift; llm in
// WorkflowFile+LLM.swift), its next,
// retry and timeout, and the value helpers they share (durations, templates, mappings).

extension WorkflowFile.Reader {
    mutating func readNode(id: String, idNode: Yams.Node, body: Yams.Node) -> WorkflowNode? {
        guard let fields = body.mapping else {
            problem(
                body, "node \"\(id)\" must be a mapping with one of \(WorkflowFile.kindKeys.joined(separator: ", "))")
            return nil
        }
        let kinds = fields.compactMap { WorkflowFile.kindKeys.contains($0.key.string ?? "") ? $0.key.string : nil }
        if kinds.count != 1 {
            problem(
                kinds.isEmpty ? idNode : fields.first { $0.key.string == kinds[1] }?.key,
                kinds.isEmpty
                    ? "node \"\(id)\" has no kind; give it one of \(WorkflowFile.kindKeys.joined(separator: ", "))"
                    : "node \"\(id)\" has several kinds (\(kinds.joined(separator: ", "))); give it exactly one")
        }
        let kindKey = kinds.count == 1 ? kinds[0] : ""
        let allowed = WorkflowFile.commonKeys + [kindKey] + (WorkflowFile.extraKeys[kindKey] ?? [])
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
        if !kindKey.isEmpty, let kindNode = value(kindKey) {
            switch kindKey {
            case "script": node.kind = readScript(id, kindNode, policy: value("policy"), args: value("args"))
            case "http": node.kind = readHTTP(id, kindNode)
            case "llm": node.kind = readLLM(id, kindNode)
            case "workflow":
                node.kind = readDelegation(id, kindNode, input: value("input"), output: value("output"))
            case "route": node.kind = readRoute(id, kindNode, defaultNode: value("default"), body: body)
            case "set": node.kind = readSet(id, kindNode)
            default: node.kind = readSwift(id, kindNode, with: value("with"))
            }
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
        if let parameters = value("parameters") { node.parameters = readParameters(id, parameters) }
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
            if !FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) || isDirectory.boolValue {
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
                arguments = items.compactMap { $0.scalar?.string }
            } else {
                problem(args, "node \"\(id)\": args must be a list of constant strings")
            }
        }
        return .script(.init(path: path, resolvedPath: resolved, policy: policyName, arguments: arguments))
    }

    mutating func readHTTP(_ id: String, _ node: Yams.Node) -> WorkflowNode.Kind {
        var request = WorkflowNode.HTTPRequest(method: "GET", url: .init(part: .constant("")), headers: [])
        guard let fields = node.mapping else {
            problem(
                node, "node \"\(id)\": http must be a mapping with \(WorkflowFile.httpKeys.joined(separator: ", "))")
            return .http(request)
        }
        for (key, _) in fields where !WorkflowFile.httpKeys.contains(key.string ?? "") {
            problem(
                key,
                "node \"\(id)\": unknown http key \"\(key.string ?? "?")\"; allowed: \(WorkflowFile.httpKeys.joined(separator: ", "))"
            )
        }
        func value(_ key: String) -> Yams.Node? { fields.first { $0.key.string == key }?.value }
        if let method = value("method") {
            let text = (method.scalar?.string ?? "").uppercased()
            if WorkflowFile.httpMethods.contains(text) {
                request.method = text
            } else {
                problem(
                    method,
                    "node \"\(id)\": method \"\(method.scalar?.string ?? "")\" is not allowed; use \(WorkflowFile.httpMethods.joined(separator: ", "))"
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
        if target.range(of: WorkflowFile.namePattern, options: .regularExpression) == nil {
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
                                + (error.offset ?? 0),
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
