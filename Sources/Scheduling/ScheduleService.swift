import Foundation
import Storage
import Support
import Workflows

/// The one place schedules change: added, paused, resumed, deleted, applied from schedule files
/// (created, updated and pruned as a plan), and their webhook secrets rotated. Each change is
/// checked, written to the store, and told to the scheduler, the same way whether it comes from the
/// admin API, `schedule apply`, the daemon's start or SIGHUP.
///
/// ```swift
/// let schedules = ScheduleService(store: store, scheduler: scheduler, environment: environment)
/// let added = try await schedules.add(
///     ScheduleDefinition(cron: "0 2 * * *", workflow: "energy_analysis"), workflows: ["energy_analysis"])
/// _ = try await schedules.pause(added.schedule.name, note: "maintenance")
/// ```
///
/// Every refusal is a ``SchedulingError`` and leaves the store as it was.
public struct ScheduleService: Sendable {
    /// A schedule as a change left it, with the webhook secret the change made (shown once; for the
    /// `token` scheme only its hash is stored).
    public struct Changed: Sendable {
        /// The schedule as stored.
        public var schedule: ScheduleRecord
        /// The new secret as the sender needs it; `nil` when the change made none.
        public var secret: String?
    }

    /// What ``resume(_:)`` did.
    public struct Resumed: Sendable {
        /// The schedule as stored.
        public var schedule: ScheduleRecord
        /// `false` when it was not paused: nothing changed.
        public var wasPaused: Bool
    }

    /// Where schedules are kept.
    public let store: any SchedulerStore
    /// The scheduler told about each change; `nil` while the daemon starts (the scheduler reads
    /// every stored schedule when it starts).
    public let scheduler: Scheduler?
    /// The daemon's environment: where `webhook_secret_env` names are checked, and where webhooks
    /// read those secrets.
    public let environment: [String: String]
    /// What "now" is for the changes' times (`updated_at`, the cursor of a resumed schedule).
    let clock: any WallClock

    /// The longest grace a rotated secret may have.
    static let maximumGrace: Duration = .seconds(30 * 86_400)

    /// A service over `store` that tells `scheduler` what changed.
    /// - Parameters:
    ///   - environment: the daemon's environment (`webhook_secret_env` is checked in it).
    ///   - clock: the wall clock changes are stamped with (a test's manual clock).
    public init(
        store: any SchedulerStore, scheduler: Scheduler?, environment: [String: String],
        clock: any WallClock = SystemWallClock()
    ) {
        self.store = store
        self.scheduler = scheduler
        self.environment = environment
        self.clock = clock
    }

    // MARK: - Lookup

    /// A schedule by name, else by id: the one order the admin API and webhooks use. Names are
    /// lowercase (``ScheduleDefinition/namePattern``) and ids `sch_` with capitals, so in practice a
    /// key finds the same schedule either way.
    public func find(_ key: String) async throws -> ScheduleRecord? {
        if let schedule = try await store.schedule(named: key) { return schedule }
        return try await store.schedule(id: key)
    }

    /// A schedule by name or id.
    /// - Throws: ``SchedulingError`` `notFound`, naming the closest names when there are.
    public func schedule(_ key: String) async throws -> ScheduleRecord {
        if let schedule = try await find(key) { return schedule }
        let names = try await store.schedules().map(\.name)
        let hint = Suggestion.phrase(key, among: names).map { "; " + $0 } ?? ""
        throw SchedulingError.notFound("no schedule with id or name \"\(key.prefix(200))\"\(hint)")
    }

    /// What keeps a stored schedule from running, as `list`, `show`, the API and the daemon's log say
    /// it: its workflow is not loaded (its file was deleted or broke, and SIGHUP read the directory
    /// without it). `nil` when nothing does.
    public static func problem(_ schedule: ScheduleRecord, workflows: Set<String>) -> String? {
        workflows.contains(schedule.workflow) ? nil : "workflow \"\(schedule.workflow)\" is not loaded"
    }

    // MARK: - One schedule

    /// Checks and stores a new schedule. Without a name it gets the workflow's (`tick`, then
    /// `tick-2`, …).
    /// - Parameter workflows: the names of the loaded workflows.
    /// - Returns: the stored schedule, and its webhook secret when one was made.
    /// - Throws: ``SchedulingError`` `conflict` for a name taken, `invalid` with every problem.
    public func add(_ definition: ScheduleDefinition, workflows: Set<String>) async throws -> Changed {
        var definition = definition
        // Without a name, the workflow's (also when it is not loaded: then the refusal is about the
        // workflow alone, not a name nobody had to give).
        if definition.name == nil, let workflow = definition.workflow,
            ScheduleDefinition.isValidName(workflow)
        {
            definition.name = try await freeName(after: workflow)
        }
        if let name = definition.name, try await store.schedule(named: name) != nil {
            throw SchedulingError.conflict(
                "a schedule named \"\(name)\" exists already; pick another name or rm it first")
        }
        let valid: ScheduleDefinition.Validated
        switch definition.validate(workflows: workflows, now: clock.now(), environment: environment) {
        case .failure(let found):
            throw found
        case .success(let checked): valid = checked
        }
        do {
            try await store.insertSchedule(valid.record)
        } catch let error as StorageError where error.code == .duplicateName {
            throw SchedulingError.conflict(error.message)
        }
        try await scheduler?.scheduleChanged(id: valid.record.id)
        return Changed(schedule: valid.record, secret: valid.secret)
    }

    /// Pauses a schedule: it neither fires nor takes webhook deliveries until resumed.
    /// - Parameter note: why, at most as long as ``ScheduleDefinition/textLimits`` allows `pause_note`.
    /// - Throws: ``SchedulingError`` `invalid` for a note too long, `notFound`.
    public func pause(_ key: String, note: String?) async throws -> ScheduleRecord {
        let limit = ScheduleDefinition.textLimits["pause_note"] ?? 1024
        if let note, note.count > limit {
            throw SchedulingError.invalid("note is \(note.count) characters long; at most \(limit) are allowed")
        }
        var schedule = try await schedule(key)
        schedule.paused = true
        schedule.pauseNote = note
        schedule.updatedAt = clock.now()
        try await store.updateSchedule(schedule)
        try await scheduler?.scheduleChanged(id: schedule.id)
        return schedule
    }

    /// Lets a paused schedule fire again from now: fires missed while it was paused are not caught
    /// up, and a schedule that had run out of remaining runs has no limit any more. A schedule that
    /// is not paused is left as it is.
    /// - Throws: ``SchedulingError`` `notFound`.
    public func resume(_ key: String) async throws -> Resumed {
        var schedule = try await schedule(key)
        guard schedule.paused else { return Resumed(schedule: schedule, wasPaused: false) }
        let now = clock.now()
        schedule.paused = false
        schedule.pauseNote = nil
        schedule.lastFireSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        if schedule.remainingRuns == 0 { schedule.remainingRuns = nil }
        schedule.updatedAt = now
        try await store.updateSchedule(schedule)
        try await scheduler?.scheduleChanged(id: schedule.id)
        return Resumed(schedule: schedule, wasPaused: true)
    }

    /// Deletes a schedule; its runs stay in the history, and running ones go on.
    /// - Returns: the schedule as it was.
    /// - Throws: ``SchedulingError`` `notFound`.
    public func delete(_ key: String) async throws -> ScheduleRecord {
        let schedule = try await schedule(key)
        _ = try await store.deleteSchedule(id: schedule.id)
        await scheduler?.scheduleRemoved(id: schedule.id)
        return schedule
    }

    /// Makes a new webhook secret; the old one keeps working for the grace period, so that the
    /// sender can be switched over without lost deliveries.
    /// - Parameter grace: a duration from `0s` (the old secret stops at once) to `30d`; `nil`: `24h`.
    /// - Returns: the schedule and the new secret, shown once.
    /// - Throws: ``SchedulingError`` `notFound`, or `invalid` for a schedule without a webhook
    ///   trigger, one whose secret comes from the environment, or a grace out of range.
    public func rotateSecret(_ key: String, grace: String?) async throws -> Changed {
        var schedule = try await schedule(key)
        guard schedule.webhook, let scheme = schedule.webhookScheme else {
            throw SchedulingError.invalid("schedule \(schedule.name) has no webhook trigger, so no secret")
        }
        if let variable = schedule.webhookSecretEnv {
            throw SchedulingError.invalid(
                "the secret of \(schedule.name) comes from \(variable) in the daemon's environment; change it there")
        }
        let graceText = grace ?? "24h"
        guard let duration = DurationText.parse(graceText), duration <= Self.maximumGrace else {
            throw SchedulingError.invalid(
                "grace \"\(graceText)\" must be a duration up to 30d, like 24h (0s: none)")
        }
        let secret = WebhookSecret.make(scheme)
        let now = clock.now()
        let seconds = Double(duration.components.seconds)
        schedule.webhookPreviousSecret = seconds > 0 ? schedule.webhookSecret : nil
        schedule.webhookPreviousUntil = seconds > 0 ? now.addingTimeInterval(seconds) : nil
        schedule.webhookSecret = WebhookSecret.stored(secret, scheme: scheme)
        schedule.updatedAt = now
        try await store.updateSchedule(schedule)
        try await scheduler?.scheduleChanged(id: schedule.id)
        return Changed(schedule: schedule, secret: secret)
    }

    /// A name for a schedule added without one: the workflow's, or with `-2`, `-3`, … when taken.
    func freeName(after workflow: String) async throws -> String {
        let base = String(workflow.prefix(56))
        var n = 1
        while true {
            let name = n == 1 ? base : "\(base)-\(n)"
            if try await store.schedule(named: name) == nil { return name }
            n += 1
        }
    }
}
