import Foundation
import Hummingbird
import NIOCore
import SchedulerAPI

extension Request {
    /// The largest admin request body accepted.
    static let maximumAPIBody = 1 << 20

    /// The body read once as the wire type `Body`: the one way the admin API reads a request.
    /// - Parameter empty: what an empty body means, for routes whose body is optional; `nil`: an
    ///   empty body is refused like any other that is not JSON.
    /// - Throws: ``APIError`` 413 for a body over 1 MiB; 400 naming the field that is unknown, missing
    ///   or of the wrong type, or saying the body is not JSON.
    func decodeJSON<Body: Decodable>(_ type: Body.Type, empty: Body? = nil) async throws -> Body {
        var request = self
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: Self.maximumAPIBody)
        } catch {
            throw APIError(
                status: .contentTooLarge, message: "the request body is over \(Self.maximumAPIBody) bytes")
        }
        if buffer.readableBytes == 0, let empty { return empty }
        do {
            return try WireFormat.decode(type, from: Data(buffer.readableBytesView))
        } catch let error as SchedulerAPIError {
            throw APIError.badRequest(error.message)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw APIError.badRequest(
                "field \(Self.path(context.codingPath)) has the wrong type: \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw APIError.badRequest("field \(Self.path(context.codingPath + [key])) is missing")
        } catch {
            throw APIError.badRequest("the request body is not valid JSON")
        }
    }

    /// A field's place in the body: `cron`, `schedules.[0].source`; `(body)` for the body itself.
    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "(body)" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
