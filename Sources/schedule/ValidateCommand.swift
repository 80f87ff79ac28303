import ArgumentParser
import Foundation
import Workflows

/// `schedule validate`: checks workflow and policy files without a daemon.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check workflow and policy files (works without a daemon).",
        discussion: """
            PATH is a schedules directory (its workflows/*.yaml and policies.yaml are checked \
            together: node references, scripts, policies, delegations between workflows and their \
            cycles, route conditions, templates) or one workflow file inside such a directory.

            Every problem is printed on stderr as file:line:column: what is wrong; how to fix it. \
            Exit status: 0 valid, 1 problems found, 2 PATH unusable.

              $ schedule validate schedules
              schedules: 9 workflows, 4 policies, all valid
              $ schedule validate schedules/workflows/energy.yaml
              schedules/workflows/energy.yaml:12:11: node "collect": next "analyse" is not a node; …
            """
    )

    @Argument(help: "A schedules directory, or a workflow file in its workflows/ folder.")
    var path: String

    @Flag(help: "Print JSON for scripts: {valid, workflows, policies, problems}.")
    var json = false

    func run() throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            Self.fail("\(path) does not exist; give a schedules directory or a workflow file", status: 2)
        }
        let directory: URL
        var only: [URL]?
        if isDirectory.boolValue {
            directory = url
            let workflows = url.appendingPathComponent("workflows")
            guard FileManager.default.fileExists(atPath: workflows.path) else {
                Self.fail(
                    "\(path) has no workflows/ folder; a schedules directory holds workflows/*.yaml and policies.yaml",
                    status: 2)
            }
        } else {
            let parent = url.deletingLastPathComponent()
            directory = parent.lastPathComponent == "workflows" ? parent.deletingLastPathComponent() : parent
            // policies.yaml alone: only the policies are checked.
            only = url.lastPathComponent == "policies.yaml" ? [] : [url]
        }

        do {
            let catalog = try WorkflowCatalog.load(directory: directory, only: only)
            let names =
                only == nil
                ? catalog.workflows.keys.sorted()
                : catalog.workflows.values.filter {
                    URL(fileURLWithPath: $0.file).standardizedFileURL.path == url.path || $0.file == path
                }.map(\.name)
            if json {
                print(
                    Self.encode(
                        Report(valid: true, workflows: names, policies: catalog.policies.keys.sorted(), problems: [])))
            } else {
                let what =
                    only == nil
                    ? "\(catalog.workflows.count) workflow\(catalog.workflows.count == 1 ? "" : "s"), \(catalog.policies.count) polic\(catalog.policies.count == 1 ? "y" : "ies")"
                    : "workflow \(names.joined(separator: ", "))"
                print("\(path): \(what), all valid")
            }
        } catch {
            let problems = error.problems.sorted { ($0.file, $0.line, $0.column) < ($1.file, $1.line, $1.column) }
            if json {
                print(
                    Self.encode(
                        Report(
                            valid: false, workflows: [], policies: [],
                            problems: problems.map {
                                .init(file: $0.file, line: $0.line, column: $0.column, message: $0.message)
                            })))
            } else {
                for problem in problems { FileHandle.standardError.write(Data((problem.description + "\n").utf8)) }
                let files = Set(problems.map(\.file)).count
                FileHandle.standardError.write(
                    Data(
                        "\(problems.count) problem\(problems.count == 1 ? "" : "s") in \(files) file\(files == 1 ? "" : "s"); nothing was loaded\n"
                            .utf8))
            }
            throw ExitCode(1)
        }
    }

    struct Report: Encodable {
        struct Problem: Encodable {
            var file: String
            var line: Int
            var column: Int
            var message: String
        }
        var valid: Bool
        var workflows: [String]
        var policies: [String]
        var problems: [Problem]
    }

    static func encode(_ report: Report) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(report)) ?? Data("{}".utf8), as: UTF8.self)
    }

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data(("schedule validate: " + message + "\n").utf8))
        Foundation.exit(status)
    }
}
