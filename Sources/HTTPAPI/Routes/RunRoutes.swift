import Hummingbird
import SchedulerAPI
import Scheduling
import Storage

/// The run routes of the admin API, under `/api/v1/runs`: list, show and cancel.
struct RunRoutes: Sendable {
    let deps: AdminAPI.Dependencies

    /// The routes, to add under `/api/v1/runs`.
    var collection: RouteCollection<DaemonRequestContext> {
        let routes = RouteCollection(context: DaemonRequestContext.self)
        routes.get { request, _ in try await list(request) }
        routes.get(":id") { _, context in try await show(try context.parameters.require("id")) }
        routes.post(":id/cancel") { request, context in try await cancel(try context.parameters.require("id"), request)
        }
        return routes
    }

    /// The latest runs, newest first: `?schedule=` (a name or id), `?limit=` (1-1000, default 20),
    /// `?before=` (a run id, for the next page).
    func list(_ request: Request) async throws -> JSONAnswer<RunList> {
        let page = try await ListPage(request, deps: deps)
        let runs = try await deps.store.runs(scheduleID: page.scheduleID, limit: page.limit, before: page.before)
        return JSONAnswer(RunList(runs: runs.map { Run($0, traceURL: deps.traceURL, detail: false) }))
    }

    func show(_ id: String) async throws -> JSONAnswer<Run> {
        guard let run = try await deps.store.run(id: id) else {
            throw APIError.notFound("no run with id \(id)")
        }
        var answer = Run(run, traceURL: deps.traceURL, detail: true)
        answer.detail?.attempts = try await deps.attempts(of: run).map {
            Run.Attempt(id: $0.id, attempt: $0.fireAttempt, state: $0.state.rawValue)
        }
        return JSONAnswer(answer)
    }

    /// Cancels a running or queued run: 202 while a running one is being stopped, 200 for a queued
    /// one (stored `cancelled` at once), 409 for a run that ended already.
    func cancel(_ id: String, _ request: Request) async throws -> JSONAnswer<CancelledRun> {
        let body = try await request.decodeJSON(CancelRunRequest.self, empty: CancelRunRequest())
        if let reason = body.reason, reason.count > 1024 {
            throw APIError.badRequest("reason is \(reason.count) characters long; at most 1024 are allowed")
        }
        let reason = "cancelled through the API" + (body.reason.map { ": \($0)" } ?? "")
        switch try await deps.scheduler.cancel(runID: id, reason: reason) {
        case .cancelling:
            return JSONAnswer(CancelledRun(runID: id, state: "cancelling"), status: .accepted)
        case .cancelledBeforeStart:
            return JSONAnswer(CancelledRun(runID: id, state: "cancelled"))
        case .alreadyFinished(let state):
            throw APIError(
                status: .conflict, message: "run \(id) already ended (\(state.rawValue)); there is nothing to cancel")
        case .notFound:
            throw APIError.notFound("no run with id \(id.prefix(200))")
        }
    }
}
