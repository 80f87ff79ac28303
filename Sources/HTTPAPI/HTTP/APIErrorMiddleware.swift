import Hummingbird

/// Answers whatever a route under `/api` throws with the JSON problem answer (``APIError``): the
/// admin API's one error format. Other routes answer in their own way.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            return try APIError.answering(error, logger: context.logger).response(from: request, context: context)
        }
    }
}
