import Hummingbird
import Scheduling
import Storage

/// The query of a list route (runs, alerts): `?schedule=` (a name or id), `?limit=` (1-1000, default
/// 20), `?before=` (an id, for the next page).
struct ListPage {
    /// The schedule's id when the query names one.
    var scheduleID: String?
    var limit: Int
    var before: String?

    /// Reads `request`'s query, looking the schedule up by name or id.
    /// - Throws: ``APIError`` for a limit out of range, or a schedule that does not exist.
    init(_ request: Request, deps: AdminAPI.Dependencies) async throws {
        let query = request.uri.queryParameters
        if let key = query["schedule"].map(String.init) { scheduleID = try await deps.schedules.schedule(key).id }
        let limitText = query["limit"].map(String.init) ?? "20"
        guard let limit = Int(limitText), (1...1000).contains(limit) else {
            throw APIError.badRequest("limit \"\(limitText)\" must be a whole number from 1 to 1000")
        }
        self.limit = limit
        before = query["before"].map(String.init)
    }
}
