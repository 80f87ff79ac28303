import Foundation
import Storage
import Support
import Yams

/// A retry policy as people write it, in a schedule (`retry:`) or as the daemon's default
/// (`defaults: {retry: …}` in `policies.yaml`), before it is checked:
///
/// ```yaml
/// retry:
///   attempts: 3          # runs per fire at most, the first included (1: no retries)
///   backoff: 30s         # the wait before the second attempt; it doubles for each one after
///   max_backoff: 10m     # the longest wait
///   on: [failed, timed_out, interrupted]   # which ends are retried (the default: all three)
/// ```
public struct RetryDefinition: Sendable, Hashable {
    /// Runs per fire at most, the first included: 1 to ``RetryPolicy/mostAttempts``.
    public var attempts: Int?
    /// The first wait (`30s`, the default).
    public var backoff: String?
    /// The longest wait (`10m`, the default, or the backoff when that is longer).
    public var maxBackoff: String?
    /// The ends retried: `failed`, `timed_out`, `interrupted`.
    public var on: [String]?

    /// A definition; what is left out takes its default when it is checked.
    public init(attempts: Int? = nil, backoff: String? = nil, maxBackoff: String? = nil, on: [String]? = nil) {
        self.attempts = attempts
        self.backoff = backoff
        self.maxBackoff = maxBackoff
        self.on = on
    }

    /// The policy's own keys, as a file or a request writes them.
    public static let keys = ["attempts", "backoff", "max_backoff", "on"]

    /// The longest wait a policy may give, first or last: a day.
    static let longestWait = 86_400

    /// Checks every field.
    /// - Parameter problem: told each problem, with the field as `retry.KEY`.
    /// - Returns: the policy, or `nil` when a problem was found.
    func validate(_ problem: (_ field: String, _ message: String) -> Void) -> RetryPolicy? {
        var valid = true
        func refuse(_ key: String, _ message: String) {
            problem("retry.\(key)", message)
            valid = false
        }
        let attempts = self.attempts ?? 0
        if self.attempts == nil {
            refuse("attempts", "is missing; say how many runs a fire gets at most, the first included (2: one retry)")
        } else if !(1...RetryPolicy.mostAttempts).contains(attempts) {
            refuse("attempts", "\(attempts) is not allowed; use 1 to \(RetryPolicy.mostAttempts) (1: no retries)")
        }
        func seconds(_ key: String, _ text: String?) -> Int? {
            guard let text else { return nil }
            guard let duration = DurationText.parse(text), DurationText.wholeSeconds(duration) >= 1,
                DurationText.wholeSeconds(duration) <= Self.longestWait
            else {
                refuse(key, "\"\(text)\" is not a duration from 1s to 1d; use 30s, 5m, 1h30m (no sign)")
                return nil
            }
            return DurationText.wholeSeconds(duration)
        }
        let backoff = seconds("backoff", backoff) ?? 30
        let longest = seconds("max_backoff", maxBackoff)
        if let longest, longest < backoff {
            refuse(
                "max_backoff",
                "\"\(maxBackoff ?? "")\" is shorter than the backoff (\(DurationText.format(.seconds(backoff)))); the longest wait cannot be shorter than the first"
            )
        }
        var states: Set<RunState> = Set(RetryPolicy.retriable)
        if let on {
            let allowed = RetryPolicy.retriable.map(\.rawValue)
            if on.isEmpty { refuse("on", "is empty; name the ends to retry: \(allowed.joined(separator: ", "))") }
            for name in on where !allowed.contains(name) {
                refuse(
                    "on",
                    name == RunState.cancelled.rawValue
                        ? "cancelled runs are never retried (someone or something meant them to stop); use \(allowed.joined(separator: ", "))"
                        : "\"\(name)\" is not allowed; use \(allowed.joined(separator: ", "))")
            }
            states = Set(on.compactMap(RunState.init(rawValue:)))
        }
        guard valid else { return nil }
        return RetryPolicy(
            attempts: attempts, backoffSeconds: backoff, maxBackoffSeconds: longest ?? max(600, backoff), on: states)
    }

    /// Reads a `retry:` mapping of a YAML file.
    /// - Parameters:
    ///   - node: the value of the `retry` key.
    ///   - problem: told each problem with the node it is at.
    ///   - mark: told where each key's value is, as `retry.KEY`, for the problems found later.
    /// - Returns: the definition as far as it could be read; `nil` when the value is no mapping.
    static func read(
        _ node: Yams.Node, problem: (Yams.Node, String) -> Void, mark: (String, Yams.Node) -> Void = { _, _ in }
    ) -> RetryDefinition? {
        guard let fields = node.mapping else {
            problem(node, "retry must be a mapping like {attempts: 3, backoff: 30s}")
            return nil
        }
        var definition = RetryDefinition()
        for (keyNode, value) in fields {
            let key = keyNode.string ?? ""
            mark("retry.\(key)", value)
            switch key {
            case "attempts":
                guard let n = value.integer else {
                    problem(value, "retry.attempts must be a whole number")
                    continue
                }
                definition.attempts = n
            case "backoff", "max_backoff":
                guard let text = value.scalar?.string else {
                    problem(value, "retry.\(key) must be a duration like 30s")
                    continue
                }
                if key == "backoff" { definition.backoff = text } else { definition.maxBackoff = text }
            case "on":
                guard let ends = value.texts else {
                    problem(value, "retry.on must be a list like [failed, timed_out]")
                    continue
                }
                definition.on = ends
            default:
                problem(keyNode, "unknown key \"retry.\(key)\"; allowed: \(keys.joined(separator: ", "))")
            }
        }
        return definition
    }
}
