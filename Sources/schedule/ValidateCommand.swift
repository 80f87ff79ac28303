import ArgumentParser
import Foundation
import Scheduling
import Support
import Workflows

/// `schedule validate`: checks workflow and policy files without a daemon.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check schedule, workflow and policy files (works without a daemon).",
        discussion: """
            PATH is a schedules directory (its workflows/*.yaml and policies.yaml are checked \
            together: node references, scripts, policies, delegations between workflows and their \
            cycles, route conditions, templates; then its schedule files *.yaml: cron, time zone, \
            workflow, triggers, durations), one schedule file in such a directory (checked against \
            its workflows), or one workflow file in its workflows/ folder.

            Every problem is printed on stderr as file:line:column: what is wrong; how to fix it. \
            Exit status: 0 valid, 1 problems found, 2 PATH unusable.

              $ schedule validate schedules
              schedules: 9 workflows, 4 policies, 10 schedules, all valid
              $ schedule validate schedules/nightly_energy.yaml
              schedules/nightly_energy.yaml: schedule nightly_energy, all valid
              $ schedule validate schedules/workflows/energy.yaml
              schedules/workflows/energy.yaml:12:11: node "collect": next "analyse" is not a node; …
            """
    )

    @Argument(help: "A schedules directory, a schedule file in one, or a workflow file in its workflows/ folder.")
    var path: String

    @Flag(help: "Print JSON for scripts: {valid, workflows, policies, schedules, problems}.")
    var json = false

    func run() throws {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            Self.fail(
                "\(path) does not exist; give a schedules directory, a schedule file or a workflow file", status: 2)
        }
        let directory: URL
        /// The workflow files to check (`nil`: all of them; empty: none, only what else is named).
        var only: [URL]?
        /// The schedule files to check (`nil`: every one in the directory).
        var scheduleFile: URL?
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
            if parent.lastPathComponent == "workflows" {
                directory = parent.deletingLastPathComponent()
                only = [url]
            } else if url.lastPathComponent == "policies.yaml" {
                // policies.yaml alone: only the policies are checked.
                directory = parent
                only = []
            } else {
                // A schedule file beside workflows/: checked against every workflow there.
                directory = parent
                scheduleFile = url
            }
        }

        var problems: [WorkflowError.Problem] = []
        var report = Report(valid: false, workflows: [], policies: [], schedules: [], problems: [])
        // Every independent problem in one pass: schedule files are checked even when a workflow
        // file is broken, against the names the workflow files declare.
        var workflows: Set<String>
        do {
            let catalog = try WorkflowCatalog.load(
                directory: directory, nodeKinds: NodeRegistry.builtIn.kinds, only: only)
            workflows = Set(catalog.workflows.keys)
            report.policies = catalog.policies.keys.sorted()
            report.workflows =
                only == nil && scheduleFile == nil
                ? catalog.workflows.keys.sorted()
                : catalog.workflows.values.filter { workflow in
                    only?.contains { URL(fileURLWithPath: workflow.file).standardizedFileURL.path == $0.path } ?? false
                        || workflow.file == path
                }.map(\.name).sorted()
        } catch {
            problems += error.problems
            workflows = Self.declaredWorkflows(in: directory)
        }
        if only == nil || only?.isEmpty == true {
            do {
                _ = try ScheduleDefaults.load(directory: directory)
            } catch {
                problems += error.problems
            }
        }
        var entries: [ScheduleFile.Entry] = []
        if let scheduleFile {
            let (entry, found) = ScheduleFile.check(scheduleFile, workflows: workflows)
            problems += found
            report.schedules = entry?.definition.name.map { [$0] } ?? []
            entries = entry.map { [$0] } ?? []
        } else if only == nil {
            switch ScheduleFile.load(directory: directory, workflows: workflows) {
            case .success(let loaded):
                report.schedules = loaded.compactMap(\.definition.name).sorted()
                entries = loaded
            case .failure(let error): problems += error.problems
            }
        }
        report.warnings = entries.compactMap { entry -> String? in
            let definition = entry.definition
            guard let cron = definition.cron,
                let change = DayRuleNotice.change(
                    name: definition.name ?? entry.file, cron: cron, timeZone: definition.timeZone ?? "UTC",
                    dayMatch: definition.dayMatch)
            else { return nil }
            return "\(entry.file): warning: \(change)"
        }

        if !json {
            for warning in report.warnings { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
        }
        if problems.isEmpty {
            report.valid = true
            if json {
                print(Self.encode(report))
            } else {
                let what: String
                if scheduleFile != nil {
                    what = "schedule \(report.schedules.joined(separator: ", "))"
                } else if only == nil {
                    what = [
                        Self.count(report.workflows.count, "workflow", "workflows"),
                        Self.count(report.policies.count, "policy", "policies"),
                        Self.count(report.schedules.count, "schedule", "schedules"),
                    ].joined(separator: ", ")
                } else if only?.isEmpty == true {
                    what = Self.count(report.policies.count, "policy", "policies")
                } else {
                    what = "workflow \(report.workflows.joined(separator: ", "))"
                }
                print("\(path): \(what), all valid")
            }
            return
        }
        problems.sort { ($0.file, $0.line, $0.column) < ($1.file, $1.line, $1.column) }
        if json {
            report.problems = problems.map {
                .init(file: $0.file, line: $0.line, column: $0.column, message: $0.message)
            }
            report.workflows = []
            report.policies = []
            report.schedules = []
            print(Self.encode(report))
        } else {
            for problem in problems { FileHandle.standardError.write(Data((problem.description + "\n").utf8)) }
            let files = Set(problems.map(\.file)).count
            FileHandle.standardError.write(
                Data(
                    "\(Self.count(problems.count, "problem", "problems")) in \(Self.count(files, "file", "files")); nothing was loaded\n"
                        .utf8))
        }
        throw ExitCode(1)
    }

    static func count(_ n: Int, _ one: String, _ many: String) -> String {
        "\(n) \(n == 1 ? one : many)"
    }

    /// The workflow names the files in `<directory>/workflows` declare (`name:`, else the file name),
    /// read without checking them: what schedule files are checked against when a workflow file
    /// does not load, so that its problem hides no other.
    static func declaredWorkflows(in directory: URL) -> Set<String> {
        let folder = directory.appendingPathComponent("workflows")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var names: Set<String> = []
        for file in files where file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
            let text = (try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)) ?? ""
            let declared = text.split(separator: "\n").lazy.compactMap { line -> String? in
                guard line.hasPrefix("name:") else { return nil }
                let value = line.dropFirst(5).split(separator: "#").first?.trimmingCharacters(in: .whitespaces) ?? ""
                return value.trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            }.first
            names.insert(declared.flatMap { $0.isEmpty ? nil : $0 } ?? (file as NSString).deletingPathExtension)
        }
        return names
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
        var schedules: [String]
        var problems: [Problem]
        /// What is valid but probably not meant: schedules that fire on other days under Vixie cron's
        /// day rule than they did before it became the default.
        var warnings: [String] = []
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
