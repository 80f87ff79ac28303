import Hummingbird

/// While the daemon stops, the admin API answers reads as usual (so `schedule run --wait` sees its
/// run end) and refuses changes with 503 and `Retry-After`: nothing new may start, and a change
/// accepted now could be lost with the process.
struct StoppingMiddleware<Context: RequestContext>: RouterMiddleware {
    let stopping: @Sendable () -> Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if stopping() && request.method != .get && request.method != .head {
            throw APIError.stopping(
                "schedulerd is stopping: running runs finish, and no changes are taken meanwhile; send this again once it has restarted"
            )
        }
        return try await next(request, context)
    }
}
