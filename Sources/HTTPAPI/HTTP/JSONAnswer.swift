import Foundation
import Hummingbird
import NIOCore
import SchedulerAPI
import Workflows

/// An answer whose body is one of the API's wire types, written by `WireFormat` (or, for a
/// `JSONValue`, written directly as bytes), and ended with a newline.
struct JSONAnswer<Value: Encodable & Sendable>: ResponseGenerator {
    var status: HTTPResponse.Status
    var value: Value

    init(_ value: Value, status: HTTPResponse.Status = .ok) {
        self.status = status
        self.value = value
    }

    /// The body's bytes.
    func body() throws -> ByteBuffer {
        if let json = value as? JSONValue {
            // Written as bytes, without an encoder: the answers on the webhook path are JSON values.
            var bytes: [UInt8] = []
            json.write(to: &bytes)
            bytes.append(UInt8(ascii: "\n"))
            return ByteBuffer(bytes: bytes)
        }
        var data = try WireFormat.encode(value)
        data.append(UInt8(ascii: "\n"))
        return ByteBuffer(bytes: data)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: try body()))
    }
}
