import Foundation
import Hummingbird
import SchedulerAPI
import Scheduling
import Storage
import Workflows

/// The schedule routes of the admin API, under `/api/v1`: list, add, show, delete, pause, resume,
/// run now, rotate the webhook secret, and apply a directory's schedule files. Every change goes
/// through ``ScheduleService``.
struct ScheduleRoutes: Sendable {
    let deps: AdminAPI.Dependencies

    /// The routes, to add under `/api/v1`.
    var collection: RouteCollection<DaemonRequestContext> {
        let routes = RouteCollection(context: DaemonRequestContext.self)
        routes.get("schedules") { _, _ in try await list() }
        routes.post("schedules") { request, _ in try await add(request) }
        routes.get("schedules/:id") { _, context in try await show(try context.parameters.require("id")) }
        routes.delete("schedules/:id") { _, context in
            let deleted = try await deps.schedules.delete(try context.parameters.require("id"))
            return JSONAnswer(DeletedSchedule(deleted: deleted.id, name: deleted.name))
        }
        routes.post("schedules/:id/pause") { request, context in
            let body = try await request.decodeJSON(PauseRequest.self, empty: PauseRequest())
            let paused = try await deps.schedules.pause(try context.parameters.require("id"), note: body.note)
            return JSONAnswer(Schedule(paused, now: deps.clock.now()))
        }
        routes.post("schedules/:id/resume") { _, context in try await resume(try context.parameters.require("id")) }
        routes.post("schedules/:id/run") { request, context in
            try await runNow(try context.parameters.require("id"), request)
        }
        routes.post("schedules/:id/secret/rotate") { request, context in
            let body = try await request.decodeJSON(RotateSecretRequest.self, empty: RotateSecretRequest())
            let rotated = try await deps.schedules.rotateSecret(try context.parameters.require("id"), grace: body.grace)
            return JSONAnswer(
                ScheduleWithSecret(
                    schedule: Schedule(rotated.schedule, now: deps.clock.now()), webhookSecret: rotated.secret))
        }
        routes.post("apply") { request, _ in try await apply(request) }
        return routes
    }

    func list() async throws -> JSONAnswer<ScheduleList> {
        let schedules = try await deps.store.schedules()
        let latest = try await deps.store.latestRuns()
        let now = deps.clock.now()
        let workflows = deps.workflows()
        return JSONAnswer(
            ScheduleList(
                schedules: schedules.map { schedule in
                    ScheduleListItem(
                        schedule: Schedule(schedule, nextFires: 1, now: now),
                        problem: ScheduleService.problem(schedule, workflows: workflows),
                        lastRun: latest[schedule.id].map { Run($0, traceURL: deps.traceURL, detail: false) })
                }))
    }

    func add(_ request: Request) async throws -> JSONAnswer<ScheduleWithSecret> {
        let fields = try await request.decodeJSON(ScheduleFields.self)
        let definition = ScheduleDefinition(fields)
        let workflows = await deps.loadWorkflows(named: [definition.workflow], swap: true)
        let added = try await deps.schedules.add(definition, workflows: workflows)
        return JSONAnswer(
            ScheduleWithSecret(
                schedule: Schedule(added.schedule, nextFires: 1, now: deps.clock.now()), webhookSecret: added.secret),
            status: .created)
    }

    func show(_ key: String) async throws -> JSONAnswer<ScheduleDetail> {
        let schedule = try await deps.schedules.schedule(key)
        let runs = try await deps.store.runs(scheduleID: schedule.id, limit: 10, before: nil)
        return JSONAnswer(
            ScheduleDetail(
                schedule: Schedule(schedule, nextFires: 5, now: deps.clock.now()),
                problem: ScheduleService.problem(schedule, workflows: deps.workflows()),
                runs: runs.map { Run($0, traceURL: deps.traceURL, detail: false) }))
    }

    func resume(_ key: String) async throws -> JSONAnswer<ResumedSchedule> {
        let resumed = try await deps.schedules.resume(key)
        let schedule = Schedule(resumed.schedule, nextFires: 1, now: deps.clock.now())
        // Nothing to do, and the answer says so: `"resumed": false`.
        return JSONAnswer(
            ResumedSchedule(
                schedule: schedule, resumed: resumed.wasPaused,
                message: resumed.wasPaused ? nil : "schedule \(schedule.name) was not paused"))
    }

    /// Starts a run of the schedule's workflow now (trigger `manual`), its input merged over the
    /// schedule's.
    func runNow(_ key: String, _ request: Request) async throws -> JSONAnswer<StartedRun> {
        let body = try await request.decodeJSON(ManualRunRequest.self, empty: ManualRunRequest())
        var input: [String: JSONValue]?
        if let extra = body.input {
            guard let members = extra.objectValue else {
                throw APIError.badRequest("input must be a JSON object, not \(extra.typeName)")
            }
            input = members.mapValues { JSONValue($0) }
        }
        let stored = try await deps.startRun(key, input: input)
        return JSONAnswer(
            StartedRun(
                runID: stored.id, traceID: stored.traceID, state: stored.state.rawValue,
                traceURL: stored.traceID.flatMap(deps.traceURL)),
            status: .accepted)
    }

    func apply(_ request: Request) async throws -> JSONAnswer<ApplyResult> {
        let body = try await request.decodeJSON(ApplyRequest.self)
        let dryRun = body.dryRun ?? false
        let desired = body.schedules.map {
            SchedulePlan.Desired(definition: ScheduleDefinition($0.schedule), source: $0.source)
        }
        let workflows = await deps.loadWorkflows(named: desired.map(\.definition.workflow), swap: !dryRun)
        let plan = try await deps.schedules.apply(
            desired, workflows: workflows, prune: body.prune ?? false, directory: body.directory, dryRun: dryRun)
        return JSONAnswer(
            ApplyResult(
                create: plan.creates.map(\.name), update: plan.updates.map(\.name), delete: plan.deletes.map(\.name),
                unchanged: plan.unchanged.map(\.name), applied: !dryRun,
                webhookSecrets: !dryRun && !plan.secrets.isEmpty ? plan.secrets : nil))
    }
}
