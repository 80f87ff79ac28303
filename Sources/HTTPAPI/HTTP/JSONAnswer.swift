import Foundation
import Hummingbird
import NIOCore
import SchedulerAPI

/// An answer whose body is one of the API's wire types, written by `WireFormat` and ended with a
/// newline.
struct JSONAnswer<Value: Encodable & Sendable>: ResponseGenerator {
    var status: HTTPResponse.Status
    var value: Value

    init(_ value: Value, status: HTTPResponse.Status = .ok) {
        self.status = status
        self.value = value
    }

    /// The body's bytes.
    func body() throws -> ByteBuffer {
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
