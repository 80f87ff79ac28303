import Hummingbird
import SchedulerAPI

/// What the daemon answers while it waits for its store at start (PostgreSQL not reachable yet):
/// `/healthz` 200, `/readyz` 503 with why in `detail`, and 503 with `Retry-After` for everything
/// else, webhooks included, so that senders retry once the daemon is up.
///
/// ```swift
/// let waiting = StartingAPI(detail: { "waiting for PostgreSQL at db:5432/jobs: Connection refused" })
/// let app = Application(router: waiting.router(), configuration: .init(address: address))
/// ```
public struct StartingAPI: Sendable {
    /// Why the daemon is not ready yet, as `/readyz` and the refusals say it.
    let detail: @Sendable () -> String

    /// The answers while `detail` says why the daemon is not ready.
    public init(detail: @escaping @Sendable () -> String) {
        self.detail = detail
    }

    /// A router with those answers.
    public func router() -> Router<DaemonRequestContext> {
        let router = Router(context: DaemonRequestContext.self)
        let detail = self.detail
        router.get("healthz") { _, _ in JSONAnswer(HealthStatus(status: "ok")) }
        router.get("readyz") { _, _ in
            JSONAnswer(HealthStatus(status: "not ready", detail: detail()), status: .serviceUnavailable)
        }
        router.add(middleware: StartingMiddleware(detail: detail))
        return router
    }
}

/// Answers every request other than `/healthz` and `/readyz` with 503 and `Retry-After: 5`.
struct StartingMiddleware: RouterMiddleware {
    let detail: @Sendable () -> String

    func handle(
        _ request: Request, context: DaemonRequestContext,
        next: (Request, DaemonRequestContext) async throws -> Response
    ) async throws -> Response {
        if request.uri.path == "/healthz" || request.uri.path == "/readyz" {
            return try await next(request, context)
        }
        var headers = HTTPFields()
        headers[.retryAfter] = "5"
        return try APIError(
            status: .serviceUnavailable, message: "schedulerd is starting: \(detail()); send this again shortly",
            headers: headers
        ).response(from: request, context: context)
    }
}
