import Hummingbird
import NIOCore
import SchedulerAPI

/// The routes without a token: `/healthz` (the process answers), `/readyz` (the store answers and the
/// scheduler fires; 503 otherwise) and `/metrics` (Prometheus text).
struct HealthRoutes: Sendable {
    let deps: AdminAPI.Dependencies

    /// The routes, to add at the root.
    var collection: RouteCollection<DaemonRequestContext> {
        let routes = RouteCollection(context: DaemonRequestContext.self)
        routes.get("healthz") { _, _ in JSONAnswer(HealthStatus(status: "ok")) }
        routes.get("readyz") { _, _ in
            let (ready, detail) = await deps.ready()
            return JSONAnswer(
                HealthStatus(status: ready ? "ready" : "not ready", detail: detail),
                status: ready ? .ok : .serviceUnavailable)
        }
        routes.get("metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: await deps.metrics())))
        }
        return routes
    }
}
