import Hummingbird
import SchedulerAPI
import Scheduling
import Storage

/// The alert routes of the admin API, under `/api/v1/alerts`: the outbox, newest first.
struct AlertRoutes: Sendable {
    let deps: AdminAPI.Dependencies

    /// The routes, to add under `/api/v1/alerts`.
    var collection: RouteCollection<DaemonRequestContext> {
        let routes = RouteCollection(context: DaemonRequestContext.self)
        routes.get { request, _ in try await list(request) }
        return routes
    }

    /// The latest alerts, newest first: `?schedule=` (a name or id), `?limit=` (1-1000, default
    /// 20), `?before=` (an alert id, for the next page).
    func list(_ request: Request) async throws -> JSONAnswer<AlertList> {
        let page = try await ListPage(request, deps: deps)
        let alerts = try await deps.store.alerts(scheduleID: page.scheduleID, limit: page.limit, before: page.before)
        return JSONAnswer(AlertList(alerts: alerts.map(Alert.init)))
    }
}
