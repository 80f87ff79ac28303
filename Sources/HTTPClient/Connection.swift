import CCurl
import Foundation

/// One kept-alive libcurl connection and the thread its requests block on. A request has it to
/// itself from check-out to check-in; only ``cancel()`` comes from other threads.
final class Connection: @unchecked Sendable {
    /// What one request came to, and whether it had to open a connection.
    struct Outcome: Sendable {
        var result: Result<HTTPClient.Response, HTTPClientError>
        var newConnections: Int
    }

    private let queue: DispatchQueue
    // Used on `queue` only, except by ccurl_arm/ccurl_cancel, which are safe from any thread.
    private let handle: OpaquePointer

    init?(label: String) {
        guard let handle = ccurl_open() else { return nil }
        self.handle = handle
        self.queue = DispatchQueue(label: "schedulerd.http.\(label)")
    }

    deinit { ccurl_close(handle) }

    /// Lets the next request run after an earlier one was cancelled.
    func arm() { ccurl_arm(handle) }

    /// Aborts the running request, or the next one when none runs yet.
    func cancel() { ccurl_cancel(handle) }

    func perform(
        method: String, url: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int,
        tls: TLSOptions, maxResponseBody: Int
    ) async -> Outcome {
        await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(
                    returning: self.performBlocking(
                        method: method, url: url, headers: headers, body: body,
                        timeoutMilliseconds: timeoutMilliseconds, tls: tls, maxResponseBody: maxResponseBody))
            }
        }
    }

    private func performBlocking(
        method: String, url: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int,
        tls: TLSOptions, maxResponseBody: Int
    ) -> Outcome {
        let lines = headers.map { strdup("\($0.0): \($0.1)") }
        defer { lines.forEach { free($0) } }
        var response = ccurl_response()
        let code: Int32 = method.withCString { cMethod in
            url.withCString { cURL in
                lines.map { UnsafePointer($0) }.withUnsafeBufferPointer { cHeaders in
                    body.withUnsafeBufferPointer { cBody in
                        withOptionalCString(tls.caPath) { cCA in
                            var request = ccurl_request(
                                method: cMethod, url: cURL, headers: cHeaders.baseAddress, header_count: cHeaders.count,
                                body: cBody.baseAddress, body_length: cBody.count, timeout_ms: timeoutMilliseconds,
                                connect_timeout_ms: min(timeoutMilliseconds, 10_000), insecure: tls.insecure ? 1 : 0,
                                ca_path: cCA, max_body: maxResponseBody)
                            return ccurl_perform(handle, &request, &response)
                        }
                    }
                }
            }
        }
        defer { ccurl_free(&response) }
        let newConnections = response.new_connections
        guard code == 0 else {
            let message = withUnsafeBytes(of: response.error) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            let kind: HTTPClientError.Code =
                switch code {
                case CCURL_CANCELLED: .cancelled
                case CCURL_TOO_LARGE: .responseTooLarge
                default: .transport
                }
            return Outcome(
                result: .failure(HTTPClientError(kind, message.isEmpty ? "libcurl error \(code)" : message)),
                newConnections: newConnections)
        }
        let data = response.body.map { [UInt8](UnsafeBufferPointer(start: $0, count: response.body_length)) } ?? []
        let retryAfter = response.retry_after.map { String(cString: $0) }
        return Outcome(
            result: .success(HTTPClient.Response(status: response.status, body: data, retryAfter: retryAfter)),
            newConnections: newConnections)
    }
}

private func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
