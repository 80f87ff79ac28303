import Hummingbird

/// Answers a request no route matched: 405 with `Allow` (RFC 9110 §15.5.6) for a known path asked
/// with another method, 404 otherwise, both as JSON problem answers. Added to the router after every
/// route, so it wraps only Hummingbird's not-found responder.
struct UnmatchedRouteMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path
            let allowed = routes.methods(for: path)
            guard !allowed.isEmpty, !allowed.contains(request.method.rawValue) else {
                return try APIError(status: .notFound, message: error.body ?? "\(error.status.reasonPhrase)")
                    .response(from: request, context: context)
            }
            var headers = HTTPFields()
            headers[.allow] = allowed.joined(separator: ", ")
            return try APIError(
                status: .methodNotAllowed,
                message:
                    "\(request.method.rawValue) is not allowed on \(path); use \(allowed.joined(separator: " or "))",
                headers: headers
            ).response(from: request, context: context)
        } catch {
            return try APIError.answering(error, logger: context.logger).response(from: request, context: context)
        }
    }
}
