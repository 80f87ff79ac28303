import Foundation
import Hummingbird
import Logging
import NIOCore
import Scheduling
import Synchronization
import Workflows

/// The request context of the daemon's routes: Hummingbird's basics and the connection, so that a
/// request refused for its size can have its connection closed instead of its body read to the end.
public struct DaemonRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

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
    /// More response headers (`Retry-After`).
    var headers: HTTPFields = [:]
    /// Close the connection once the answer is out, rather than read the rest of the request (a body
    /// over the limit).
    var closeConnection = false

    init(
        status: HTTPResponse.Status, message: String, problems: [JSONValue] = [], headers: HTTPFields = [:],
        closeConnection: Bool = false
    ) {
        self.status = status
        self.message = message
        self.problems = problems
        self.headers = headers
        self.closeConnection = closeConnection
        if closeConnection { self.headers[.connection] = "close" }
    }

    /// `{"error": {"message": …, "problems": […]}}`.
    var answer: JSONAnswer {
        var error: [String: JSONValue] = ["message": .string(message)]
        if !problems.isEmpty { error["problems"] = .array(problems) }
        return JSONAnswer(["error": .object(error)], status: status)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try answer.response(from: request, context: context)
        for field in headers { response.headers.append(field) }
        return response
    }

    static func notFound(_ what: String) -> APIError {
        APIError(status: .notFound, message: what)
    }

    static func badRequest(_ message: String, problems: [JSONValue] = []) -> APIError {
        APIError(status: .badRequest, message: message, problems: problems)
    }

    /// 503 with `Retry-After: 30` (about one restart) while the daemon stops.
    static func stopping(_ message: String, closeConnection: Bool = false) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = "30"
        return APIError(
            status: .serviceUnavailable, message: message, headers: headers, closeConnection: closeConnection)
    }
}

/// Turns thrown ``APIError``s into their responses, and anything else into a 500 that says what failed
/// without internals.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The routes, to answer a known path asked with another method 405 instead of 404.
    var routes: RouteTable?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            var response = try error.response(from: request, context: context)
            if error.closeConnection, let context = context as? DaemonRequestContext {
                // Hummingbird reads what is left of a request's body after the answer; closing the
                // connection once the answer is handed over stops that.
                let channel = context.channel
                let answer = ByteBuffer(string: error.answer.value.jsonText + "\n")
                response.body = ResponseBody(contentLength: answer.readableBytes) { writer in
                    try await writer.write(answer)
                    try await writer.finish(nil)
                    channel.close(promise: nil)
                }
            }
            return response
        } catch let error as HTTPError {
            if error.status == .notFound, let allowed = routes?.methods(for: request.uri.path), !allowed.isEmpty,
                !allowed.contains(request.method.rawValue)
            {
                var headers = HTTPFields()
                headers[.allow] = allowed.joined(separator: ", ")
                return try APIError(
                    status: .methodNotAllowed,
                    message:
                        "\(request.method.rawValue) is not allowed on \(request.uri.path); use \(allowed.joined(separator: " or "))",
                    headers: headers
                )
                .response(from: request, context: context)
            }
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
        guard let given = bearerToken(header),
            WebhookSecret.constantTimeEqual(Array(given.utf8), Array(token.utf8))
        else {
            throw APIError(
                status: .unauthorized,
                message: header.isEmpty
                    ? "missing Authorization: Bearer <token>; the token is in <data-dir>/admin.token or SCHEDULERD_TOKEN"
                    : "the bearer token is not valid")
        }
        return try await next(request, context)
    }
}

/// The token of an `Authorization: Bearer <token>` header, or `nil` for another scheme. The scheme
/// is case-insensitive (RFC 9110 §11.1): `bearer`, `BEARER` and `Bearer` are the same.
func bearerToken(_ header: String) -> String? {
    let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
    guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
    let token = parts[1].drop { $0 == " " }
    return token.isEmpty ? nil : String(token)
}

/// The methods each route path answers, filled in once the routes are registered: a known path
/// asked with another method gets 405 and `Allow` (RFC 9110 §15.5.6), not 404.
final class RouteTable: Sendable {
    private let table = Mutex<[(segments: [Substring], methods: [String])]>([])

    /// Takes the routes of `router` (paths like `/hooks/:hook`; `:name` matches one segment).
    func load(_ routes: [(path: String, method: String)]) {
        var byPath: [String: Set<String>] = [:]
        for route in routes { byPath[route.path, default: []].insert(route.method) }
        table.withLock { table in
            table = byPath.map { (Self.segments($0.key), $0.value.sorted()) }
        }
    }

    /// The methods a path answers, sorted; empty for a path no route has.
    func methods(for path: String) -> [String] {
        let asked = Self.segments(path)
        return table.withLock { table in
            var methods: Set<String> = []
            for route in table where route.segments.count == asked.count {
                let matches = zip(route.segments, asked).allSatisfy { pattern, segment in
                    pattern.hasPrefix(":") || pattern.hasPrefix("{") || pattern == segment
                }
                if matches { methods.formUnion(route.methods) }
            }
            return methods.sorted()
        }
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }
}

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
