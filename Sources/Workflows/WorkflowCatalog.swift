import Foundation
import ProcessSandbox
import Support

/// The workflows a runner can run, with the sandbox policies their scripts use, read and checked
/// together from a schedules directory: `workflows/*.yaml` and `policies.yaml`.
///
/// ```swift
/// let catalog = try WorkflowCatalog.load(directory: URL(fileURLWithPath: "schedules"))
/// catalog.workflows["energy_analysis"]
/// ```
public struct WorkflowCatalog: Sendable {
    /// The schedules directory.
    public var directory: URL { didSet { sourceNames = Self.sourceNames(of: workflows, in: directory) } }
    /// The workflows by name.
    public var workflows: [String: Workflow] {
        didSet { sourceNames = Self.sourceNames(of: workflows, in: directory) }
    }
    /// ``relativePath(of:)`` of each workflow by name, worked out once: every traced run tags it.
    private var sourceNames: [String: String]
    /// The sandbox policies by name (`default` always present).
    public var policies: [String: SandboxPolicy]

    /// Loads and checks every workflow file in `<directory>/workflows` and the policies in
    /// `<directory>/policies.yaml` (when present).
    /// - Parameters:
    ///   - nodeKinds: the Swift node kinds the runner will have (``NodeRegistry/kinds``).
    ///   - only: check just these workflow files (other workflows in the directory are still loaded
    ///     so that delegations to them resolve); `nil`: all of them.
    /// - Throws: ``WorkflowError`` listing every problem in every file; nothing is loaded then.
    public static func load(directory: URL, nodeKinds: Set<String> = [], only: [URL]? = nil) throws(WorkflowError)
        -> WorkflowCatalog
    {
        var problems: [WorkflowError.Problem] = []
        var policies = ["default": SandboxPolicy.default]
        let policyFile = directory.appendingPathComponent("policies.yaml")
        if let text = try? String(contentsOf: policyFile, encoding: .utf8) {
            do {
                policies = try PolicyFile.parse(text, file: display(policyFile))
            } catch {
                problems += error.problems.map {
                    .init(file: $0.file, line: $0.line, column: $0.column, message: $0.message)
                }
            }
        }
        let folder = directory.appendingPathComponent("workflows")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            .map { folder.appendingPathComponent($0) }
        let checked = Set((only ?? files).map { $0.standardizedFileURL.path })
        for extra in only ?? [] where !files.contains(where: { $0.standardizedFileURL == extra.standardizedFileURL }) {
            files.append(extra)
        }
        let context = WorkflowFile.Context(directory: directory, policies: policies, nodeKinds: nodeKinds)
        var workflows: [Workflow] = []
        for file in files {
            let shown = display(file)
            guard let data = FileManager.default.contents(atPath: file.path) else {
                problems.append(.init(file: shown, line: 1, column: 1, message: "cannot be read"))
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                problems.append(.init(file: shown, line: 1, column: 1, message: "is not UTF-8 text"))
                continue
            }
            do {
                workflows.append(try WorkflowFile.parse(text, file: shown, context: context))
            } catch {
                if checked.contains(file.standardizedFileURL.path) { problems += error.problems }
            }
        }
        problems += crossCheck(workflows).filter { checked.contains(absolute($0.file)) }
        guard problems.isEmpty else { throw WorkflowError(code: .invalidFiles, problems: problems) }
        return WorkflowCatalog(
            directory: directory,
            workflows: Dictionary(workflows.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }),
            policies: policies)
    }

    /// A catalog of workflows already parsed (for programs that build workflows in code).
    /// - Throws: ``WorkflowError`` for duplicate names, unknown delegation targets and cycles.
    public init(directory: URL, workflows: [Workflow], policies: [String: SandboxPolicy]) throws(WorkflowError) {
        let problems = Self.crossCheck(workflows)
        guard problems.isEmpty else { throw WorkflowError(code: .invalidFiles, problems: problems) }
        self.init(
            directory: directory,
            workflows: Dictionary(workflows.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a }),
            policies: policies)
    }

    init(directory: URL, workflows: [String: Workflow], policies: [String: SandboxPolicy]) {
        self.directory = directory
        self.workflows = workflows
        self.policies = policies
        sourceNames = Self.sourceNames(of: workflows, in: directory)
    }

    /// Checks that span files: unique names, delegation targets that exist, no delegation cycle.
    static func crossCheck(_ workflows: [Workflow]) -> [WorkflowError.Problem] {
        var problems: [WorkflowError.Problem] = []
        var byName: [String: Workflow] = [:]
        for workflow in workflows {
            if let first = byName[workflow.name] {
                problems.append(
                    .init(
                        file: workflow.file, line: 1, column: 1,
                        message:
                            "workflow name \"\(workflow.name)\" is already used by \(first.file); workflow names must be unique"
                    ))
            } else {
                byName[workflow.name] = workflow
            }
        }
        let known = byName.keys.sorted().joined(separator: ", ")
        for workflow in byName.values.sorted(by: { $0.name < $1.name }) {
            for id in workflow.nodeOrder {
                guard let node = workflow.nodes[id], case .workflow(let delegation) = node.kind else { continue }
                if byName[delegation.workflow] == nil {
                    problems.append(
                        .init(
                            file: workflow.file, line: node.line, column: node.column,
                            message:
                                "node \"\(id)\": workflow \"\(delegation.workflow)\" is not defined; known workflows: \(known)"
                        ))
                } else if let cycle = cycle(from: workflow.name, through: delegation.workflow, in: byName) {
                    problems.append(
                        .init(
                            file: workflow.file, line: node.line, column: node.column,
                            message:
                                "node \"\(id)\": delegation cycle \(cycle.joined(separator: " → ")); a workflow may not delegate to itself, directly or through others"
                        ))
                }
            }
        }
        return problems
    }

    /// The delegation path from `start` back to `start` through `next`, if there is one.
    private static func cycle(from start: String, through next: String, in workflows: [String: Workflow]) -> [String]? {
        var visited: Set<String> = []
        func search(_ name: String, _ path: [String]) -> [String]? {
            if name == start { return path + [name] }
            guard visited.insert(name).inserted, let workflow = workflows[name] else { return nil }
            for id in workflow.nodeOrder {
                if case .workflow(let delegation)? = workflow.nodes[id]?.kind,
                    let found = search(delegation.workflow, path + [name])
                {
                    return found
                }
            }
            return nil
        }
        return search(next, [start])
    }

    /// The workflow's file relative to the schedules directory (`workflows/energy.yaml`), as the
    /// trace's `mlflow.source.name` tag names it; the path as loaded when it lies elsewhere.
    public func relativePath(of workflow: Workflow) -> String {
        if workflows[workflow.name]?.file == workflow.file, let name = sourceNames[workflow.name] { return name }
        return Self.relativePath(of: workflow.file, in: directory)
    }

    private static func relativePath(of file: String, in directory: URL) -> String {
        let path = URL(fileURLWithPath: absolute(file)).standardizedFileURL.path
        let base = directory.standardizedFileURL.path + "/"
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : file
    }

    private static func sourceNames(of workflows: [String: Workflow], in directory: URL) -> [String: String] {
        workflows.mapValues { relativePath(of: $0.file, in: directory) }
    }

    /// Paths in messages: relative to the working directory when inside it.
    package static func display(_ url: URL) -> String {
        let path = url.standardizedFileURL.path
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(cwd) ? String(path.dropFirst(cwd.count)) : path
    }

    private static func absolute(_ shown: String) -> String {
        shown.hasPrefix("/") ? shown : FileManager.default.currentDirectoryPath + "/" + shown
    }
}
