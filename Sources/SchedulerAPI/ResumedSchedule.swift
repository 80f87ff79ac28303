import Foundation

/// `POST /api/v1/schedules/{id}/resume`: the schedule with one next fire, and whether it was paused
/// (fires missed while paused are not caught up).
public struct ResumedSchedule: Sendable, Hashable {
    /// The schedule, with one next fire.
    public var schedule: Schedule
    /// `false` when it was not paused: then nothing changed.
    public var resumed: Bool
    /// Says so when nothing changed (`schedule nightly was not paused`).
    public var message: String?

    /// A resume's answer.
    public init(schedule: Schedule, resumed: Bool, message: String?) {
        self.schedule = schedule
        self.resumed = resumed
        self.message = message
    }
}

extension ResumedSchedule: Codable {
    enum CodingKeys: String, CodingKey {
        case resumed, message
    }

    /// Reads the schedule's fields, `resumed` and `message` from the same object.
    public init(from decoder: any Decoder) throws {
        schedule = try Schedule(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        resumed = try c.decode(Bool.self, forKey: .resumed)
        message = try c.decodeIfPresent(String.self, forKey: .message)
    }

    /// Writes the schedule's fields, `resumed`, and `message` when there is one.
    public func encode(to encoder: any Encoder) throws {
        try schedule.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(resumed, forKey: .resumed)
        try c.encodeIfPresent(message, forKey: .message)
    }
}
