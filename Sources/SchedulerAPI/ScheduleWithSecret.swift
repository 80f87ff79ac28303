import Foundation

/// A schedule with a webhook secret made for it: the 201 of `POST /api/v1/schedules` and the answer
/// of `POST /api/v1/schedules/{id}/secret/rotate`. The secret is shown this once.
public struct ScheduleWithSecret: Sendable, Hashable {
    /// The schedule (with one next fire when it was just created).
    public var schedule: Schedule
    /// The secret as the sender needs it; `nil` when none was made (no webhook, or one whose secret
    /// comes from the daemon's environment).
    public var webhookSecret: String?

    /// A schedule and its new secret.
    public init(schedule: Schedule, webhookSecret: String?) {
        self.schedule = schedule
        self.webhookSecret = webhookSecret
    }
}

extension ScheduleWithSecret: Codable {
    enum CodingKeys: String, CodingKey {
        case webhookSecret = "webhook_secret"
    }

    /// Reads the schedule's fields and `webhook_secret` from the same object.
    public init(from decoder: any Decoder) throws {
        schedule = try Schedule(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        webhookSecret = try c.decodeIfPresent(String.self, forKey: .webhookSecret)
    }

    /// Writes the schedule's fields and, when one was made, `webhook_secret`.
    public func encode(to encoder: any Encoder) throws {
        try schedule.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(webhookSecret, forKey: .webhookSecret)
    }
}
