import Foundation

/// `DELETE /api/v1/schedules/{id}`: which schedule is gone (its runs stay in the history).
public struct DeletedSchedule: Codable, Sendable, Hashable {
    /// The deleted schedule's id.
    public var deleted: String
    /// Its name.
    public var name: String

    /// A delete's answer.
    public init(deleted: String, name: String) {
        self.deleted = deleted
        self.name = name
    }
}
