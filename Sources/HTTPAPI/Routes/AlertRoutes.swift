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
        let query = request.uri.queryParameters
        var scheduleID: String?
        if let key = query["schedule"].map(String.init) { scheduleID = try await deps.schedules.schedule(key).id }
        let limitText = query["limit"].map(String.init) ?? "20"
        guard let limit = Int(limitText), (1...1000).contains(limit) else {
            throw APIError.badRequest("limit \"\(limitText)\" must be a whole number from 1 to 1000")
        }
        let alerts = try await deps.store.alerts(
            scheduleID: scheduleID, limit: limit, before: query["before"].map(String.init))
        return JSONAnswer(AlertList(alerts: alerts.map(Alert.init)))
    }
}
