import ArgumentParser
import Foundation
import SchedulerAPI
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
            var items: [ApplyRequest.Item] = []
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
                    items.append(
                        .init(
                            source: root.appendingPathComponent(name).path, schedule: ScheduleFields(entry.definition)))
                }
            }
            guard problems.isEmpty else {
                for problem in problems { FileHandle.standardError.write(Data((problem + "\n").utf8)) }
                throw DaemonClient.Failure(description: "\(problems.count) problem(s); nothing was applied")
            }
            let answer = try await DaemonClient().request(
                "POST", "/api/v1/apply",
                body: ApplyRequest(schedules: items, prune: prune, dryRun: dryRun, directory: root.path),
                as: ApplyResult.self)
            if json {
                print(answer.jsonText)
                return
            }
            let plan = answer.value
            for (mark, names) in [("+", plan.create), ("~", plan.update), ("-", plan.delete), ("=", plan.unchanged)] {
                for name in names { print("\(mark) \(name)") }
            }
            for (name, secret) in (plan.webhookSecrets ?? [:]).sorted(by: { $0.key < $1.key }) {
                print("webhook secret for \(name): \(secret)  (shown once)")
            }
            if dryRun { print("(dry run: nothing changed)") }
        }
    }
}
