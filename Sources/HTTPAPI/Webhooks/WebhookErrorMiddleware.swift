import Hummingbird
import NIOCore

/// Answers a webhook's refusal. Hummingbird reads what is left of a request's body after the answer;
/// for a refusal that asks (a body over the limit), the connection is closed once the answer is
/// handed over instead.
struct WebhookErrorMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: DaemonRequestContext,
        next: (Request, DaemonRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let refusal = APIError.answering(error, logger: context.logger)
            var response = try refusal.response(from: request, context: context)
            if refusal.closeConnection {
                let channel = context.channel
                let answer = try refusal.answer.body()
                response.body = ResponseBody(contentLength: answer.readableBytes) { writer in
                    try await writer.write(answer)
                    try await writer.finish(nil)
                    channel.close(promise: nil)
                }
            }
            return response
        }
    }
}
