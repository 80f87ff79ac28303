import CCurl
import Foundation
import Synchronization

/// HTTP/1.1 over libcurl, shared by the trace exporter, the `http` workflow node and the `schedule`
/// command-line client.
///
/// Each request runs on a connection of its own thread, so blocking I/O never occupies the
/// cooperative pool. Connections are kept alive and reused: a finished request hands its connection
/// back to a small pool, and the next request to the same server skips the TCP and TLS handshakes.
/// Cancelling the calling task aborts the transfer at once.
///
/// ```swift
/// let client = HTTPClient(label: "mlflow")
/// let response = try await client.perform(method: "GET", url: "http://127.0.0.1:5000/health")
/// print(response.status)
/// ```
public final class HTTPClient: Sendable {
    /// An HTTP answer, whatever its status.
    public struct Response: Sendable {
        /// The HTTP status code.
        public var status: Int
        /// The whole body, at most the request's `maxResponseBody` bytes.
        public var body: [UInt8]
        /// The `Retry-After` header's value, when the server sent one.
        public var retryAfter: String?
    }

    /// The largest response body kept by default: 64 MiB. A longer answer fails the request instead
    /// of filling the daemon's memory.
    public static let defaultMaxResponseBody = 64 << 20

    /// The longest a request may take: a timeout of more than a day is as good as none.
    public static let maximumTimeout = Duration.seconds(86_400)

    let tls: TLSOptions
    let label: String
    let maxIdleConnections: Int
    private let idle = Mutex<[Connection]>([])
    private let opened = Atomic<Int>(0)

    /// A client.
    /// - Parameters:
    ///   - tls: how HTTPS servers are verified.
    ///   - label: names the client's threads (`schedulerd.http.<label>`), for debuggers.
    ///   - maxIdleConnections: connections kept open between requests; requests beyond them at once
    ///     open more, which are closed when they finish.
    public init(tls: TLSOptions = TLSOptions(), label: String, maxIdleConnections: Int = 4) {
        self.tls = tls
        self.label = label
        self.maxIdleConnections = max(0, maxIdleConnections)
    }

    /// How many TCP connections this client opened so far; less than the requests sent when
    /// connections are reused.
    public var connectionsOpened: Int { opened.load(ordering: .relaxed) }

    /// Sends a request and waits for the answer.
    /// - Parameters:
    ///   - method: `GET`, `HEAD`, `POST`, `PUT`, `PATCH` or `DELETE`.
    ///   - url: an `http://` or `https://` URL; other schemes are refused.
    ///   - headers: sent in order, as given.
    ///   - body: sent with every method but `GET` and `HEAD`.
    ///   - timeout: for the whole exchange, clamped to 0…``maximumTimeout``; connecting gets at most
    ///     10 s of it.
    ///   - maxResponseBody: a longer response body fails the request.
    ///   - abortOnCancel: whether cancelling the calling task aborts the transfer (the default). With
    ///     `false` a request, once sent, runs to its answer or its timeout whatever happens to the
    ///     task: the trace exporter's deliveries do, so that a shutdown's last delivery already on
    ///     the wire is not thrown away.
    /// - Returns: the answer, whatever its status.
    /// - Throws: ``HTTPClientError`` when no answer arrived, the body was too long, or the calling task
    ///   was cancelled (with `abortOnCancel`).
    public func perform(
        method: String, url: String, headers: [(String, String)] = [], body: [UInt8] = [],
        timeout: Duration = .seconds(30), maxResponseBody: Int = defaultMaxResponseBody, abortOnCancel: Bool = true
    ) async throws(HTTPClientError) -> Response {
        if abortOnCancel && Task.isCancelled { throw HTTPClientError(.cancelled, "the request was cancelled") }
        guard let connection = checkOut() else {
            throw HTTPClientError(
                .transport, ccurl_load_error().map { String(cString: $0) } ?? "libcurl could not be initialised")
        }
        let capped = min(max(timeout, .zero), Self.maximumTimeout).components
        let milliseconds = Int(capped.seconds * 1000 + capped.attoseconds / 1_000_000_000_000_000)
        let outcome = await withTaskCancellationHandler {
            await connection.perform(
                method: method, url: url, headers: headers, body: body, timeoutMilliseconds: milliseconds,
                tls: tls, maxResponseBody: max(0, maxResponseBody))
        } onCancel: {
            if abortOnCancel { connection.cancel() }
        }
        // Handed back only after the cancellation handler is gone, so a late cancellation never
        // reaches the connection's next request.
        checkIn(connection)
        opened.add(outcome.newConnections, ordering: .relaxed)
        return try outcome.result.get()
    }

    private func checkOut() -> Connection? {
        if let connection = idle.withLock({ $0.popLast() }) {
            connection.arm()
            return connection
        }
        return Connection(label: label)
    }

    private func checkIn(_ connection: Connection) {
        idle.withLock { connections in
            if connections.count < maxIdleConnections { connections.append(connection) }
        }
    }
}
