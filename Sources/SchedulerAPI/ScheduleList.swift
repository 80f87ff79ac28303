import Foundation

/// `GET /api/v1/schedules`: every schedule.
public struct ScheduleList: Codable, Sendable, Hashable {
    /// The schedules, each with its next fire and latest run.
    public var schedules: [ScheduleListItem]

    /// A list of schedules.
    public init(schedules: [ScheduleListItem]) {
        self.schedules = schedules
    }
}

/// One schedule of ``ScheduleList``: the schedule with its next fire, its latest run (`null` when it
/// has none) and, when it cannot run, why.
public struct ScheduleListItem: Sendable, Hashable {
    /// The schedule, with one next fire.
    public var schedule: Schedule
    /// What keeps it from running (`workflow "x" is not loaded`); `nil` when nothing does.
    public var problem: String?
    /// Its latest run, without detail.
    public var lastRun: Run?

    /// A list entry.
    public init(schedule: Schedule, problem: String?, lastRun: Run?) {
        self.schedule = schedule
        self.problem = problem
        self.lastRun = lastRun
    }
}

extension ScheduleListItem: Codable {
    enum CodingKeys: String, CodingKey {
        case problem
        case lastRun = "last_run"
    }

    /// Reads the schedule's fields and the entry's own from the same object.
    public init(from decoder: any Decoder) throws {
        schedule = try Schedule(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        problem = try c.decodeIfPresent(String.self, forKey: .problem)
        lastRun = try c.decodeIfPresent(Run.self, forKey: .lastRun)
    }

    /// Writes the schedule's fields, `problem` when there is one, and `last_run` (or `null`).
    public func encode(to encoder: any Encoder) throws {
        try schedule.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(problem, forKey: .problem)
        try c.encodeNullable(lastRun, forKey: .lastRun)
    }
}
