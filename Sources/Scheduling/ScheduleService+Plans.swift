import Foundation
import Storage

/// Many schedules at once: the definitions of a directory of schedule files, applied all or
/// nothing.
extension ScheduleService {
    /// Makes the stored schedules match `desired` (the API's `POST /apply`, which `schedule apply`
    /// sends): creates, updates and, with `prune`, deletes the schedules that came from files of
    /// `directory` and are gone.
    /// - Parameters:
    ///   - workflows: the names of the loaded workflows.
    ///   - dryRun: compute the plan and store nothing.
    /// - Returns: the plan, applied unless `dryRun`.
    /// - Throws: ``SchedulingError`` `invalid` with every definition's problems; nothing changes.
    public func apply(
        _ desired: [SchedulePlan.Desired], workflows: Set<String>, prune: Bool, directory: String?, dryRun: Bool
    ) async throws -> SchedulePlan {
        let plan: SchedulePlan
        switch try await makePlan(desired, workflows: workflows, prune: prune, directory: directory) {
        case .failure(let found):
            throw SchedulingError.invalid("the schedules are not valid; nothing was applied", problems: found.problems)
        case .success(let made): plan = made
        }
        if !dryRun && !plan.isEmpty { try await commit(plan) }
        return plan
    }

    /// The plan that makes the stored schedules match the schedule files directly in `directory`
    /// (`*.yaml`, not `policies.yaml`): what the daemon applies at start and on SIGHUP. Schedules
    /// that came from files of this directory and are gone are deleted; schedules added through the
    /// API, and those applied from another directory, stay. Nothing is stored: ``commit(_:)`` does.
    /// - Parameter workflows: the names of the workflows the schedules are checked against.
    /// - Throws: ``SchedulingError`` `invalid` saying every problem of every file.
    public func planFiles(in directory: URL, workflows: Set<String>) async throws -> SchedulePlan {
        let entries: [ScheduleFile.Entry]
        switch ScheduleFile.load(directory: directory, workflows: workflows, environment: environment) {
        case .failure(let error):
            throw SchedulingError.invalid("the schedule files in \(directory.path) are not valid:\n\(error)")
        case .success(let loaded): entries = loaded
        }
        // Sources are full paths, so schedules applied from another directory are not pruned here.
        let root = directory.absoluteURL.standardizedFileURL.resolvingSymlinksInPath()
        let desired = entries.map {
            SchedulePlan.Desired(
                definition: $0.definition,
                source: root.appendingPathComponent(($0.file as NSString).lastPathComponent).path)
        }
        switch try await makePlan(desired, workflows: workflows, prune: true, directory: root.path) {
        case .failure(let found):
            throw SchedulingError.invalid("the schedule files are not valid:\n\(found)", problems: found.problems)
        case .success(let plan): return plan
        }
    }

    /// Stores a plan in one transaction (when it changes anything) and has the scheduler read every
    /// schedule again.
    public func commit(_ plan: SchedulePlan) async throws {
        if !plan.isEmpty {
            try await store.applySchedules(insert: plan.creates, update: plan.updates, delete: plan.deletes.map(\.id))
        }
        try await scheduler?.reload()
    }

    /// The plan for `desired` over what is stored now.
    func makePlan(_ desired: [SchedulePlan.Desired], workflows: Set<String>, prune: Bool, directory: String?)
        async throws -> Result<SchedulePlan, SchedulingError>
    {
        SchedulePlan.make(
            desired: desired, existing: try await store.schedules(), workflows: workflows, prune: prune,
            directory: directory, now: clock.now(), environment: environment)
    }
}
