import Foundation
import Support
import Yams

/// When fires that go unrun make a `missed` alert, beside those lost to a downtime (which always
/// do): fires skipped in a row by a schedule's overlap policy, and a run waiting for a slot. Set for
/// the daemon in `policies.yaml`:
///
/// ```yaml
/// defaults:
///   missed: {after_skips: 3, queued_longer_than: 15m}
/// ```
public struct MissedLimits: Sendable, Hashable {
    /// The skipped fire in a row that alerts (the third by default), once per streak.
    public var skips: Int
    /// How long a run may wait for a slot before its schedule alerts (15 minutes by default).
    public var queued: Duration

    /// Limits; left out: 3 skips, 15 minutes.
    public init(skips: Int = 3, queued: Duration = .seconds(900)) {
        self.skips = skips
        self.queued = queued
    }

    /// The keys of `missed`.
    static let keys = ["after_skips", "queued_longer_than"]

    /// Reads and checks a `missed:` mapping of a YAML file.
    /// - Parameter problem: told each problem with the node it is at.
    /// - Returns: the limits, or `nil` when a problem was found.
    static func read(_ node: Yams.Node, problem: (Yams.Node, String) -> Void) -> MissedLimits? {
        guard let fields = node.mapping else {
            problem(node, "defaults.missed must be a mapping like {after_skips: 3, queued_longer_than: 15m}")
            return nil
        }
        var limits = MissedLimits()
        var valid = true
        for (keyNode, value) in fields {
            switch keyNode.string {
            case "after_skips":
                guard let n = value.integer, (1...1000).contains(n) else {
                    problem(value, "defaults.missed.after_skips must be a whole number from 1 to 1000")
                    valid = false
                    continue
                }
                limits.skips = n
            case "queued_longer_than":
                guard let text = value.scalar?.string, let duration = DurationText.parse(text),
                    duration >= .seconds(60), duration <= .seconds(7 * 86_400)
                else {
                    problem(value, "defaults.missed.queued_longer_than must be a duration from 1m to 7d, like 15m")
                    valid = false
                    continue
                }
                limits.queued = duration
            default:
                problem(
                    keyNode,
                    "unknown key \"defaults.missed.\(keyNode.string ?? "?")\"; allowed: \(keys.joined(separator: ", "))"
                )
                valid = false
            }
        }
        return valid ? limits : nil
    }
}
