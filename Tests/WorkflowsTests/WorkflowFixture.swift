import Foundation
import Logging
import MLflowTracing
import ProcessSandbox
import RunTracing
import Support

@testable import Workflows

/// A schedules directory in a temporary folder: workflow files, executable scripts, a policies file.
struct WorkflowFixture {
    let directory: URL

    /// - Parameters:
    ///   - workflows: file name (without `.yaml`) → YAML text.
    ///   - scripts: path relative to the directory → script text (made executable).
    init(workflows: [String: String], scripts: [String: String] = [:], policies: String? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("wf-\(UUID().uuidString.prefix(8))")
        let folder = directory.appendingPathComponent("workflows")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in workflows {
            try text.write(to: folder.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
        }
        for (path, text) in scripts {
            let url = directory.appendingPathComponent(path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        }
        // Scripts run as nobody when the tests run as root: give them one folder they may write to.
        try FileManager.default.createDirectory(at: shared, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: shared.path)
        if let policies {
            try policies.write(to: directory.appendingPathComponent("policies.yaml"), atomically: true, encoding: .utf8)
        }
    }

    /// A folder every script may write to (scripts get its path as an argument where they need it).
    var shared: URL { directory.appendingPathComponent("shared") }

    func catalog(nodeKinds: Set<String> = []) throws -> WorkflowCatalog {
        try WorkflowCatalog.load(directory: directory, nodeKinds: nodeKinds)
    }

    /// The problems loading reports, as `file:line:col: message` with the file relative to `workflows/`.
    func problems(nodeKinds: Set<String> = []) -> [String] {
        do {
            _ = try WorkflowCatalog.load(directory: directory, nodeKinds: nodeKinds)
            return []
        } catch {
            let prefix = directory.appendingPathComponent("workflows").path + "/"
            return error.problems.map { $0.description.replacingOccurrences(of: prefix, with: "") }
        }
    }

    func runner(
        tracer: any RunTracer, registry: NodeRegistry = .init(), environment: [String: String] = [:]
    ) throws -> WorkflowRunner {
        let sandbox = SandboxRunner(
            environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"],
            workRoot: directory.appendingPathComponent("work"))
        return WorkflowRunner(
            catalog: try catalog(nodeKinds: registry.kinds), tracer: tracer,
            configuration: .init(sandbox: sandbox, environment: environment), registry: registry,
            logger: Logger(label: "test.workflows", factory: { _ in SwiftLogNoOpLogHandler() }))
    }
}

/// A shell script that prints a JSON update (and reads its state on stdin).
func emit(_ json: String, sleep seconds: Double = 0) -> String {
    "#!/bin/sh\ncat > /dev/null\n" + (seconds > 0 ? "sleep \(seconds)\n" : "") + "echo '\(json)'\n"
}
