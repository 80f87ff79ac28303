import Foundation

/// `POST /api/v1/apply`'s body: the schedules a directory of schedule files wants, all or nothing.
///
/// ```swift
/// let body = ApplyRequest(
///     schedules: [.init(source: "/etc/schedules/nightly.yaml", schedule: fields)],
///     prune: true, dryRun: false, directory: "/etc/schedules")
/// ```
public struct ApplyRequest: Sendable, Hashable {
    /// One schedule and the file it came from.
    public struct Item: Sendable, Hashable {
        /// The file's full path: what `prune` later compares with `directory`.
        public var source: String
        /// The schedule as the file has it.
        public var schedule: ScheduleFields

        /// A schedule to apply.
        public init(source: String, schedule: ScheduleFields) {
            self.source = source
            self.schedule = schedule
        }
    }

    /// The schedules, each created or updated (by name).
    public var schedules: [Item]
    /// Delete the schedules applied before from files of `directory` that are gone.
    public var prune: Bool?
    /// Say what would change, and change nothing.
    public var dryRun: Bool?
    /// The directory the files are in; pruning stays inside it.
    public var directory: String?

    /// An apply request.
    public init(schedules: [Item], prune: Bool? = nil, dryRun: Bool? = nil, directory: String? = nil) {
        self.schedules = schedules
        self.prune = prune
        self.dryRun = dryRun
        self.directory = directory
    }
}

extension ApplyRequest: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case schedules, prune, directory
        case dryRun = "dry_run"
    }

    /// Reads the body, refusing fields it does not have (in the items and their schedules too).
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(Set(CodingKeys.allCases.map(\.rawValue)))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schedules = try c.decode([Item].self, forKey: .schedules)
        prune = try c.decodeIfPresent(Bool.self, forKey: .prune)
        dryRun = try c.decodeIfPresent(Bool.self, forKey: .dryRun)
        directory = try c.decodeIfPresent(String.self, forKey: .directory)
    }
}

extension ApplyRequest.Item: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case source, schedule
    }

    /// Reads one item, refusing fields other than `source` and `schedule`.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(Set(CodingKeys.allCases.map(\.rawValue)))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.decode(String.self, forKey: .source)
        schedule = try c.decode(ScheduleFields.self, forKey: .schedule)
    }
}
