import Foundation
import Hummingbird
import Workflows

/// A JSON answer: the body is the value's compact JSON with sorted keys.
struct JSONAnswer: ResponseGenerator {
    var status: HTTPResponse.Status
    var value: JSONValue

    init(_ value: JSONValue, status: HTTPResponse.Status = .ok) {
        self.status = status
        self.value = value
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: value.jsonText + "\n")))
    }
}

/// A failure the API reports as `{"error": {"message": …, "problems": […]}}` with its status.
struct APIError: Error, ResponseGenerator {
    var status: HTTPResponse.Status
    var message: String
    var problems: [JSONValue] = []

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var error: [String: JSONValue] = ["message": .string(message)]
        if !problems.isEmpty { error["problems"] = .array(problems) }
        return try JSONAnswer(["error": .object(error)], status: status).response(from: request, context: context)
    }

    static func notFound(_ what: String) -> APIError {
        APIError(status: .notFound, message: what)
    }

    static func badRequest(_ message: String, problems: [JSONValue] = []) -> APIError {
        APIError(status: .badRequest, message: message, problems: problems)
    }
}

/// Turns thrown ``APIError``s into their responses, and anything else into a 500 that says what failed
/// without internals.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            return try APIError(status: error.status, message: error.body ?? "\(error.status.reasonPhrase)")
                .response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": .string("\(error)")])
            return try APIError(status: .internalServerError, message: "the daemon could not complete the request")
                .response(from: request, context: context)
        }
    }
}

/// Admin routes need `Authorization: Bearer <token>`; the comparison takes the same time whatever
/// the token.
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), Self.equal(Array(header.dropFirst(7).utf8), Array(token.utf8)) else {
            throw APIError(
                status: .unauthorized,
                message: header.isEmpty
                    ? "missing Authorization: Bearer <token>; the token is in <data-dir>/admin.token or SCHEDULERD_TOKEN"
                    : "the bearer token is not valid")
        }
        return try await next(request, context)
    }

    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
