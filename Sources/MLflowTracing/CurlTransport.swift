import CCurl
import Foundation

/// TLS settings for requests to MLflow, as MLflow's own client reads them.
public struct TLSOptions: Sendable, Hashable {
    /// `MLFLOW_TRACKING_INSECURE_TLS=true`: skip certificate and host name verification.
    public var insecure: Bool
    /// `MLFLOW_TRACKING_SERVER_CERT_PATH`: a CA bundle to verify the server with.
    public var caPath: String?

    public init(insecure: Bool = false, caPath: String? = nil) {
        self.insecure = insecure
        self.caPath = caPath
    }
}

/// HTTP over libcurl's easy interface: one kept-alive connection, one request at a time, each run on
/// the connection's own thread so that blocking I/O never occupies the cooperative pool.
package final class CurlTransport: @unchecked Sendable {
    package struct Response: Sendable {
        package var status: Int
        package var body: [UInt8]
        package var retryAfter: String?
    }

    package struct Failure: Error, Sendable {
        package var message: String
    }

    let tls: TLSOptions
    private let queue: DispatchQueue
    // Touched only on `queue`.
    private let handle: OpaquePointer?

    package init(tls: TLSOptions, label: String) {
        self.tls = tls
        self.queue = DispatchQueue(label: "schedulerd.http.\(label)")
        self.handle = ccurl_open()
    }

    deinit { ccurl_close(handle) }

    /// The largest response body kept by default: 64 MiB. A longer answer fails the request instead
    /// of filling the daemon's memory.
    package static let defaultMaxResponseBody = 64 << 20

    /// Sends a request and waits for the answer (any status) or a transport failure; a response body
    /// over `maxResponseBody` bytes is a failure.
    package func perform(
        method: String, url: String, headers: [(String, String)], body: [UInt8] = [],
        timeout: Duration = .seconds(30), maxResponseBody: Int = defaultMaxResponseBody
    ) async -> Result<Response, Failure> {
        await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(
                    returning: self.performBlocking(
                        method: method, url: url, headers: headers, body: body, timeout: timeout,
                        maxResponseBody: maxResponseBody))
            }
        }
    }

    private func performBlocking(
        method: String, url: String, headers: [(String, String)], body: [UInt8], timeout: Duration,
        maxResponseBody: Int
    ) -> Result<Response, Failure> {
        guard let handle else { return .failure(Failure(message: "libcurl could not be initialised")) }
        let lines = headers.map { strdup("\($0.0): \($0.1)") }
        defer { lines.forEach { free($0) } }
        // Clamped: a timeout of more than a day is as good as none for one request.
        let capped = min(max(timeout, .zero), .seconds(86_400)).components
        let milliseconds = Int(capped.seconds * 1000 + capped.attoseconds / 1_000_000_000_000_000)
        var response = ccurl_response()
        let code: Int32 = method.withCString { cMethod in
            url.withCString { cURL in
                lines.map { UnsafePointer($0) }.withUnsafeBufferPointer { cHeaders in
                    body.withUnsafeBufferPointer { cBody in
                        withOptionalCString(tls.caPath) { cCA in
                            var request = ccurl_request(
                                method: cMethod, url: cURL, headers: cHeaders.baseAddress, header_count: cHeaders.count,
                                body: cBody.baseAddress, body_length: cBody.count, timeout_ms: milliseconds,
                                connect_timeout_ms: min(milliseconds, 10_000), insecure: tls.insecure ? 1 : 0,
                                ca_path: cCA, max_body: max(0, maxResponseBody))
                            return ccurl_perform(handle, &request, &response)
                        }
                    }
                }
            }
        }
        defer { ccurl_free(&response) }
        guard code == 0 else {
            let message = withUnsafeBytes(of: response.error) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            return .failure(Failure(message: message.isEmpty ? "libcurl error \(code)" : message))
        }
        let data = response.body.map { [UInt8](UnsafeBufferPointer(start: $0, count: response.body_length)) } ?? []
        let retryAfter = response.retry_after.map { String(cString: $0) }
        return .success(Response(status: response.status, body: data, retryAfter: retryAfter))
    }
}

private func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
