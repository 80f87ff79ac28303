import Foundation
import Storage
import Support
import Workflows
import Yams

/// What schedules that do not say otherwise get, from the `defaults` key of `policies.yaml` (the
/// rest of that file is the sandbox policies, read by `PolicyFile`):
///
/// ```yaml
/// defaults:
///   retry: {attempts: 2, backoff: 1m}
///   notify:
///     - {on: [failure, recovered], slack: {url_env: SLACK_WEBHOOK_URL}}
///   missed: {after_skips: 3, queued_longer_than: 15m}
/// policies:
///   default: {timeout: 60s}
/// ```
///
/// A schedule's own `retry` or `notify` replaces the default whole (`retry: {attempts: 1}` turns
/// retries off for it, `notify: []` its alerts). The daemon reads the defaults at start and on
/// SIGHUP.
public struct ScheduleDefaults: Sendable, Hashable {
    /// The retry policy of schedules without their own.
    public var retry: RetryPolicy
    /// The alert targets of schedules without their own.
    public var notify: [NotifyRule]
    /// When skipped fires and waiting runs alert `missed`.
    public var missed: MissedLimits

    /// Defaults; left out: no retries, no alerts, missed after 3 skips or 15 minutes queued.
    public init(retry: RetryPolicy = .never, notify: [NotifyRule] = [], missed: MissedLimits = MissedLimits()) {
        self.retry = retry
        self.notify = notify
        self.missed = missed
    }

    /// The keys of `defaults`.
    public static let keys = ["retry", "notify", "missed"]

    /// Reads `<directory>/policies.yaml`'s `defaults`; none without the file or the key.
    /// - Parameter environment: the daemon's environment, to check that the variables the alert
    ///   targets name are set; `nil` skips that (files checked away from the daemon).
    /// - Throws: ``WorkflowError`` with every problem, as `file:line:column: message`.
    public static func load(
        directory: URL, environment: [String: String]? = nil
    ) throws(WorkflowError) -> ScheduleDefaults {
        let url = directory.appendingPathComponent("policies.yaml")
        guard FileManager.default.fileExists(atPath: url.path) else { return ScheduleDefaults() }
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw WorkflowError.invalid([
                .init(file: WorkflowCatalog.display(url), line: 1, column: 1, message: "cannot be read as UTF-8 text")
            ])
        }
        return try parse(text, file: WorkflowCatalog.display(url), environment: environment)
    }

    /// Parses the `defaults` of a policies file's text (its syntax is `PolicyFile`'s to report).
    public static func parse(
        _ text: String, file: String, environment: [String: String]? = nil
    ) throws(WorkflowError) -> ScheduleDefaults {
        var problems: [FileProblem] = []
        func problem(_ node: Yams.Node?, _ message: String) {
            problems.append(FileProblem(file: file, at: node, message))
        }
        // UTF-8 named, not Yams's default: that reads the whole environment on every call.
        guard let root = try? Yams.compose(yaml: text, .default, .default, .utf8),
            let defaults = root.mapping?.first(where: { $0.key.string == "defaults" })?.value
        else { return ScheduleDefaults() }
        guard let fields = defaults.mapping else {
            throw WorkflowError.invalid([
                FileProblem(file: file, at: defaults, "defaults must be a mapping like {retry: …}")
            ])
        }
        var result = ScheduleDefaults()
        var marks: [String: Yams.Node] = [:]
        for (keyNode, value) in fields {
            switch keyNode.string {
            case "retry":
                guard let definition = RetryDefinition.read(value, problem: problem, mark: { marks[$0] = $1 }) else {
                    continue
                }
                if let policy = definition.validate({ field, message in
                    problem(marks[field] ?? value, "defaults.\(field): \(message)")
                }) {
                    result.retry = policy
                }
            case "notify":
                guard
                    let entries = NotifyDefinition.read(
                        value, field: "defaults.notify", problem: problem, mark: { marks[$0] = $1 })
                else { continue }
                result.notify = entries.enumerated().compactMap { index, entry in
                    entry.validate("notify[\(index)]", environment: environment) { field, message in
                        problem(marks[field] ?? value, "defaults.\(field): \(message)")
                    }
                }
            case "missed":
                if let limits = MissedLimits.read(value, problem: problem) { result.missed = limits }
            default:
                problem(
                    keyNode,
                    "unknown key \"defaults.\(keyNode.string ?? "?")\"; allowed: \(keys.joined(separator: ", "))")
            }
        }
        guard problems.isEmpty else { throw WorkflowError.invalid(problems) }
        return result
    }
}
