import Foundation
import Storage

/// What `schedule apply` (and the daemon at start) does to make the stored schedules match a set of
/// definitions: creates, updates, and with pruning deletes the schedules that came from files of
/// the same directory and are gone. Schedules added through the API are never pruned, nor those
/// applied from another directory.
public struct SchedulePlan: Sendable {
    /// Schedules to add: no stored schedule has their name.
    public var creates: [ScheduleRecord] = []
    /// Stored schedules whose definition changed, as they will be stored (same ids).
    public var updates: [ScheduleRecord] = []
    /// Stored schedules to remove, only with pruning: those that came from a file (of the directory,
    /// when one is given) and that no definition names any more.
    public var deletes: [ScheduleRecord] = []
    /// Stored schedules the definitions leave as they are.
    public var unchanged: [ScheduleRecord] = []
    /// Webhook secrets made for created or updated schedules, by schedule name: shown once.
    public var secrets: [String: String] = [:]

    /// A definition and where it came from (its file's path, for pruning).
    public struct Desired: Sendable {
        /// The schedule as written, not yet checked.
        public var definition: ScheduleDefinition
        /// Where it came from: the path of its file, stored as the schedule's ``ScheduleRecord/source``.
        public var source: String

        /// A definition read from the file at `source`.
        public init(definition: ScheduleDefinition, source: String) {
            self.definition = definition
            self.source = source
        }
    }

    /// Computes the plan; nothing is stored.
    /// - Returns: the plan, or every problem in every definition.
    /// - Parameters:
    ///   - directory: the directory the definitions' files are in: pruning deletes only schedules
    ///     whose file was in it; `nil`: every schedule that came from a file.
    ///   - environment: the daemon's environment, to check `webhook_secret_env` (`nil`: not checked).
    public static func make(
        desired: [Desired], existing: [ScheduleRecord], workflows: Set<String>, prune: Bool,
        directory: String? = nil, now: Date = Date(), environment: [String: String]? = nil
    ) -> Result<SchedulePlan, SchedulingError> {
        var plan = SchedulePlan()
        var problems: [SchedulingError.Problem] = []
        let byName = Dictionary(existing.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var names: Set<String> = []
        for item in desired {
            let name = item.definition.name ?? ""
            if !names.insert(name).inserted {
                problems.append(
                    SchedulingError.Problem(
                        source: item.source, field: "name",
                        message: "\"\(name)\" is defined twice in the set being applied")
                )
                continue
            }
            let current = byName[name]
            switch item.definition.validate(workflows: workflows, existing: current, now: now, environment: environment)
            {
            case .failure(let found):
                problems += found.problems.map {
                    SchedulingError.Problem(source: item.source, field: $0.field, message: $0.message)
                }
            case .success(let valid):
                var record = valid.record
                record.source = item.source
                if let secret = valid.secret { plan.secrets[name] = secret }
                if let current {
                    if ScheduleDefinition.differs(record, from: current) {
                        plan.updates.append(record)
                    } else {
                        plan.unchanged.append(current)
                    }
                } else {
                    plan.creates.append(record)
                }
            }
        }
        if prune {
            plan.deletes = existing.filter { record in
                guard let source = record.source, !names.contains(record.name) else { return false }
                guard let directory else { return true }
                // A bare file name was stored before sources were paths: which directory it came
                // from is unknown, so no directory prunes it (`schedule rm` does).
                return source.contains("/") && (source as NSString).deletingLastPathComponent == directory
            }
        }
        guard problems.isEmpty else { return .failure(.invalid(problems: problems, separator: "\n")) }
        return .success(plan)
    }

    /// True when applying changes nothing.
    public var isEmpty: Bool { creates.isEmpty && updates.isEmpty && deletes.isEmpty }
}
