import ArgumentParser
import Foundation
import Scheduling
import Support
import Workflows

/// `schedule apply DIR`: makes the daemon's schedules match the schedule files in a directory.
struct ApplyCommand: AsyncParsableCommand, DaemonCommandRunner {
    static let commandName = "apply"
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Create and update schedules from the *.yaml files in DIR (and with --prune delete missing ones).",
        discussion: """
            Prints the plan: + created, ~ updated, - deleted, = unchanged. All or nothing: when any \
            file is invalid, nothing changes. --prune deletes schedules that were applied from files \
            of this directory and are no longer there; schedules made with `schedule add`, and those \
            applied from another directory (the daemon's own schedules directory included), are \
            never pruned.
            """)

    @Argument(help: "A directory of schedule files (schedules/).")
    var directory: String

    @Flag(help: "Delete schedules applied from files that are gone.")
    var prune = false

    @Flag(help: "Print the plan without changing anything.")
    var dryRun = false

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        await Self.guarded {
            let url = URL(fileURLWithPath: directory)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                throw DaemonClient.Failure(description: "\(directory) is not a directory of schedule files", status: 2)
            }
            // Each schedule remembers its file's full path: --prune deletes only what this directory
            // applied before, never the schedules of another one.
            let root = url.absoluteURL.standardizedFileURL.resolvingSymlinksInPath()
            var items: [JSONValue] = []
            var problems: [String] = []
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            for name in names.sorted()
            where (name.hasSuffix(".yaml") || name.hasSuffix(".yml")) && name != "policies.yaml" {
                let file = url.appendingPathComponent(name)
                let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
                switch ScheduleFile.parse(text, file: file.path, defaultName: (name as NSString).deletingPathExtension)
                {
                case .failure(let error): problems += error.problems.map(\.description)
                case .success(let entry):
                    let definition = try JSONValue(json: JSONEncoder().encode(entry.definition))
                    items.append(["source": .string(root.appendingPathComponent(name).path), "schedule": definition])
                }
            }
            guard problems.isEmpty else {
                for problem in problems { FileHandle.standardError.write(Data((problem + "\n").utf8)) }
                throw DaemonClient.Failure(description: "\(problems.count) problem(s); nothing was applied")
            }
            let answer = try await DaemonClient().request(
                "POST", "/api/v1/apply",
                body: [
                    "schedules": .array(items), "prune": .bool(prune), "dry_run": .bool(dryRun),
                    "directory": .string(root.path),
                ])
            if json {
                print(answer.jsonText)
                return
            }
            for (mark, key) in [("+", "create"), ("~", "update"), ("-", "delete"), ("=", "unchanged")] {
                for name in answer[key]?.arrayValue ?? [] { print("\(mark) \(Table.text(name))") }
            }
            for (name, secret) in (answer["webhook_secrets"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                print("webhook secret for \(name): \(Table.text(secret))  (shown once)")
            }
            if dryRun { print("(dry run: nothing changed)") }
        }
    }
}
