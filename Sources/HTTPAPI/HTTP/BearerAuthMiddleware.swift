import Hummingbird
import Scheduling

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
