import Foundation
import Support
import Synchronization
import Workflows
import Yams

/// Reads schedule files (`schedules/*.yaml`), one schedule per file:
///
/// ```yaml
/// name: nightly_energy          # default: the file name without .yaml
/// cron: "0 2 * * *"             # and/or webhook: true; or manual: true (only `schedule run`)
/// webhook_scheme: github        # standard, token
/// webhook_secret_env: HOOK_KEY  # the secret from the daemon's environment (default: one is made)
/// time_zone: Europe/Berlin      # default UTC
/// workflow: energy_analysis
/// input: {region: eu}           # merged over the workflow's initial state
/// overlap: skip                 # allow, buffer-one, cancel-other
/// catchup: 1h                   # window for fires missed while down (0: none)
/// catchup_mode: latest          # all, none
/// jitter: 30s
/// timeout: 20m
/// paused: false
/// remaining_runs: 10
/// day_match: and                # both day fields must match (default vixie; or: either)
/// dst_gap: shift                # coalesce (default), skip
/// dst_fold: both                # first (default), last
/// retry: {attempts: 3, backoff: 30s, max_backoff: 10m, on: [failed, timed_out, interrupted]}
/// notify:                       # who is told (default: the defaults of policies.yaml)
///   - {on: [failure, recovered], webhook: {url: "${ALERT_URL}", secret_env: ALERT_SECRET}}
/// expected_duration: 20m        # past it, an overdue alert while the run goes on
/// ```
public enum ScheduleFile {
    static let keys = [
        "name", "cron", "webhook", "manual", "webhook_scheme", "webhook_secret_env", "workflow", "time_zone", "input",
        "overlap",
        "catchup", "catchup_mode", "jitter", "timeout", "paused", "pause_note", "remaining_runs", "day_match",
        "dst_gap", "dst_fold", "retry", "notify", "expected_duration",
    ]

    /// One file read.
    public struct Entry: Sendable {
        /// The schedule as the file defines it, not yet checked against the store.
        public var definition: ScheduleDefinition
        /// The file, as shown in messages.
        public var file: String
        /// Where each key's value is (line, column), for messages.
        var marks: [String: (line: Int, column: Int)]
    }

    /// Reads every `*.yaml` file directly in `directory` (not `policies.yaml`, not subfolders) and checks
    /// each schedule against the loaded workflows.
    /// - Parameter environment: the daemon's environment, to check that the variables a file names
    ///   are set; `nil` (files checked away from the daemon) skips that.
    /// - Returns: the definitions, or every problem as `file:line:column: field: message`.
    public static func load(
        directory: URL, workflows: Set<String>, environment: [String: String]? = nil
    ) -> Result<[Entry], WorkflowError> {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
            .filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && $0 != "policies.yaml" }
        var entries: [Entry] = []
        var problems: [FileProblem] = []
        for (entry, found) in checkAll(
            names.map { directory.appendingPathComponent($0) }, workflows: workflows, environment: environment)
        {
            problems += found
            if let entry { entries.append(entry) }
        }
        var seen: [String: String] = [:]
        for entry in entries {
            guard let name = entry.definition.name else { continue }
            if let first = seen[name] {
                problems.append(
                    entry.problem(
                        .init(field: "name", message: "\"\(name)\" is also the name of the schedule in \(first)")))
            } else {
                seen[name] = entry.file
            }
        }
        guard problems.isEmpty else { return .failure(WorkflowError.invalid(problems)) }
        return .success(entries)
    }

    /// ``check(_:workflows:)`` of every file in `urls`, in their order, read on every core: a daemon
    /// with ten thousand schedule files reads them all at each start, and parsing is most of that.
    static func checkAll(
        _ urls: [URL], workflows: Set<String>, environment: [String: String]? = nil
    ) -> [(Entry?, [FileProblem])] {
        let chunk = 64
        let chunks = (urls.count + chunk - 1) / chunk
        let results = Mutex<[[(Entry?, [FileProblem])]]>(Array(repeating: [], count: chunks))
        DispatchQueue.concurrentPerform(iterations: chunks) { index in
            let checked = urls[(index * chunk)..<min(urls.count, (index + 1) * chunk)].map {
                check($0, workflows: workflows, environment: environment)
            }
            results.withLock { $0[index] = checked }
        }
        return results.withLock { $0.flatMap { $0 } }
    }

    /// Reads one schedule file and checks it against the loaded workflows (and, given the daemon's
    /// environment, that the variables it names are set).
    /// - Returns: the schedule when the file parses, and every problem found (none: valid).
    public static func check(
        _ url: URL, workflows: Set<String>, environment: [String: String]? = nil
    ) -> (Entry?, [FileProblem]) {
        let shown = WorkflowCatalog.display(url)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            return (nil, [.init(file: shown, line: 1, column: 1, message: "cannot be read as UTF-8 text")])
        }
        let (entry, problems) = read(
            text, file: shown, defaultName: (url.lastPathComponent as NSString).deletingPathExtension)
        guard let entry else { return (nil, problems) }
        // A key the file gets wrong hides no other field's problem: the fields that were read are
        // checked too.
        guard
            case .failure(let fieldProblems) = entry.definition.validate(workflows: workflows, environment: environment)
        else {
            return (entry, problems)
        }
        return (entry, problems + fieldProblems.problems.map { entry.problem($0) })
    }

    /// Parses one file (no checks against workflows).
    public static func parse(_ text: String, file: String, defaultName: String) -> Result<Entry, WorkflowError> {
        let (entry, problems) = read(text, file: file, defaultName: defaultName)
        guard let entry, problems.isEmpty else { return .failure(WorkflowError.invalid(problems)) }
        return .success(entry)
    }

    /// Parses one file: the schedule as far as it could be read (`nil` when the file is no YAML
    /// mapping), and the problems with its keys and values.
    static func read(_ text: String, file: String, defaultName: String) -> (Entry?, [FileProblem]) {
        var problems: [FileProblem] = []
        func problem(_ node: Yams.Node?, _ message: String) {
            problems.append(FileProblem(file: file, at: node, message))
        }
        let root: Yams.Node?
        do {
            // UTF-8 named, not Yams's default: that reads the whole environment on every call.
            root = try Yams.compose(yaml: text, .default, .default, .utf8)
        } catch {
            return (nil, [FileProblem(file: file, syntax: error)])
        }
        guard let root, let fields = root.mapping else {
            return (nil, [.init(file: file, line: 1, column: 1, message: "must be a mapping with cron and workflow")])
        }
        var definition = ScheduleDefinition(name: defaultName)
        var marks: [String: (line: Int, column: Int)] = [:]
        for (keyNode, value) in fields {
            let key = keyNode.string ?? ""
            marks[key] = (value.mark?.line ?? 1, value.mark?.column ?? 1)
            func text() -> String? {
                guard let scalar = value.scalar else {
                    problem(value, "\(key) must be a single value")
                    return nil
                }
                return scalar.string
            }
            switch key {
            case "name": definition.name = text()
            case "cron": definition.cron = text()
            case "workflow": definition.workflow = text()
            case "time_zone": definition.timeZone = text()
            case "webhook_scheme": definition.webhookScheme = text()
            case "webhook_secret_env": definition.webhookSecretEnv = text()
            case "overlap": definition.overlap = text()
            case "catchup": definition.catchup = text()
            case "catchup_mode": definition.catchupMode = text()
            case "jitter": definition.jitter = text()
            case "timeout": definition.timeout = text()
            case "pause_note": definition.pauseNote = text()
            case "day_match": definition.dayMatch = text()
            case "dst_gap": definition.dstGap = text()
            case "dst_fold": definition.dstFold = text()
            case "expected_duration": definition.expectedDuration = text()
            case "webhook", "paused", "manual":
                guard let flag = value.bool else {
                    problem(value, "\(key) must be true or false")
                    continue
                }
                switch key {
                case "webhook": definition.webhook = flag
                case "manual": definition.manual = flag
                default: definition.paused = flag
                }
            case "remaining_runs":
                guard let n = value.integer else {
                    problem(value, "remaining_runs must be a whole number")
                    continue
                }
                definition.remainingRuns = n
            case "input": definition.input = WorkflowFile.json(value)
            case "notify":
                definition.notify = NotifyDefinition.read(
                    value, problem: problem, mark: { marks[$0] = ($1.mark?.line ?? 1, $1.mark?.column ?? 1) })
            case "retry":
                // A key left out is told at the mapping.
                for field in RetryDefinition.keys { marks["retry.\(field)"] = marks["retry"] }
                definition.retry = RetryDefinition.read(
                    value, problem: problem, mark: { marks[$0] = ($1.mark?.line ?? 1, $1.mark?.column ?? 1) })
            default:
                problem(keyNode, "unknown key \"\(key)\"; allowed: \(keys.joined(separator: ", "))")
            }
        }
        return (Entry(definition: definition, file: file, marks: marks), problems)
    }
}

extension ScheduleFile.Entry {
    func problem(_ problem: ScheduleDefinition.Problem) -> FileProblem {
        let mark = marks[problem.field] ?? (1, 1)
        return .init(file: file, line: mark.line, column: mark.column, message: problem.description)
    }
}
