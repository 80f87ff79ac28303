import Foundation

/// `GET /api/v1/schedules/{id}`: the schedule, its next five fires, its last ten runs and, when it
/// cannot run, why.
public struct ScheduleDetail: Sendable, Hashable {
    /// The schedule, with five next fires.
    public var schedule: Schedule
    /// What keeps it from running; `nil` when nothing does.
    public var problem: String?
    /// Its latest runs, newest first, without detail.
    public var runs: [Run]

    /// A schedule's detail.
    public init(schedule: Schedule, problem: String?, runs: [Run]) {
        self.schedule = schedule
        self.problem = problem
        self.runs = runs
    }
}

extension ScheduleDetail: Codable {
    enum CodingKeys: String, CodingKey {
        case problem, runs
    }

    /// Reads the schedule's fields and the detail's own from the same object.
    public init(from decoder: any Decoder) throws {
        schedule = try Schedule(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        problem = try c.decodeIfPresent(String.self, forKey: .problem)
        runs = try c.decodeIfPresent([Run].self, forKey: .runs) ?? []
    }

    /// Writes the schedule's fields, `problem` when there is one, and `runs`.
    public func encode(to encoder: any Encoder) throws {
        try schedule.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(problem, forKey: .problem)
        try c.encode(runs, forKey: .runs)
    }
}
