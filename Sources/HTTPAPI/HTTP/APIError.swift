import Foundation
import Hummingbird
import Logging
import SchedulerAPI
import Scheduling

/// A refusal the daemon answers with its status and `{"error": {"message": …, "problems": […]}}`
/// (``ErrorResponse``).
struct APIError: Error, ResponseGenerator {
    var status: HTTPResponse.Status
    var message: String
    var problems: [ErrorResponse.Problem] = []
    /// More response headers (`Retry-After`, `Allow`).
    var headers: HTTPFields = [:]
    /// Close the connection once the answer is out, rather than read the rest of the request (a
    /// webhook body over the limit).
    var closeConnection = false

    init(
        status: HTTPResponse.Status, message: String, problems: [ErrorResponse.Problem] = [],
        headers: HTTPFields = [:], closeConnection: Bool = false
    ) {
        self.status = status
        self.message = message
        self.problems = problems
        self.headers = headers
        self.closeConnection = closeConnection
        if closeConnection { self.headers[.connection] = "close" }
    }

    /// The answer: the message, and `problems` when there are.
    var answer: JSONAnswer<ErrorResponse> {
        JSONAnswer(
            ErrorResponse(error: .init(message: message, problems: problems.isEmpty ? nil : problems)),
            status: status)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try answer.response(from: request, context: context)
        for field in headers { response.headers.append(field) }
        return response
    }

    static func notFound(_ what: String) -> APIError {
        APIError(status: .notFound, message: what)
    }

    static func badRequest(_ message: String, problems: [ErrorResponse.Problem] = []) -> APIError {
        APIError(status: .badRequest, message: message, problems: problems)
    }

    /// 503 with `Retry-After: 30` (about one restart) while the daemon stops.
    static func stopping(_ message: String, closeConnection: Bool = false) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = "30"
        return APIError(
            status: .serviceUnavailable, message: message, headers: headers, closeConnection: closeConnection)
    }

    /// What the daemon answers for `error`: a refusal as it is, a schedule change refused by
    /// ``ScheduleService`` with the status of its kind, Hummingbird's own errors with their status,
    /// and anything else as a 500 that says what failed without internals (the error is logged).
    static func answering(_ error: any Error, logger: Logger) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as SchedulingError:
            let status: HTTPResponse.Status
            switch error.code {
            case .notFound: status = .notFound
            case .conflict: status = .conflict
            default: status = .badRequest
            }
            return APIError(
                status: status, message: error.message,
                problems: error.problems.map { .init(source: $0.source, field: $0.field, message: $0.message) })
        case let error as HTTPError:
            return APIError(status: error.status, message: error.body ?? "\(error.status.reasonPhrase)")
        default:
            logger.error("request failed", metadata: ["error": .string("\(error)")])
            return APIError(status: .internalServerError, message: "the daemon could not complete the request")
        }
    }
}
