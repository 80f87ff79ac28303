import Foundation

/// `POST /api/v1/apply`'s answer: the plan by schedule name, whether it was applied, and the webhook
/// secrets made for it (shown this once).
public struct ApplyResult: Sendable, Hashable {
    /// Schedules created.
    public var create: [String]
    /// Schedules changed.
    public var update: [String]
    /// Schedules deleted (pruned).
    public var delete: [String]
    /// Schedules the files have as they are stored.
    public var unchanged: [String]
    /// `false` for a dry run.
    public var applied: Bool
    /// Secrets made for created or updated webhook schedules, by name; `nil` when none were (and for
    /// a dry run).
    public var webhookSecrets: [String: String]?

    /// An apply's answer.
    public init(
        create: [String], update: [String], delete: [String], unchanged: [String], applied: Bool,
        webhookSecrets: [String: String]?
    ) {
        self.create = create
        self.update = update
        self.delete = delete
        self.unchanged = unchanged
        self.applied = applied
        self.webhookSecrets = webhookSecrets
    }
}

extension ApplyResult: Codable {
    enum CodingKeys: String, CodingKey {
        case create, update, delete, unchanged, applied
        case webhookSecrets = "webhook_secrets"
    }
}
