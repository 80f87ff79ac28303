/// Why a request got no HTTP answer. Any answer, whatever its status, is a ``HTTPClient/Response``.
public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure, for code that acts on it.
    public enum Code: Sendable, Hashable {
        /// No answer: the host was not found, the connection was refused or broke, TLS failed, or the
        /// request's time ran out.
        case transport
        /// The calling task was cancelled; the transfer was aborted.
        case cancelled
        /// The response body was longer than the request allowed.
        case responseTooLarge
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, in libcurl's words or ours; never holds the request's headers or body.
    public var message: String

    /// A failure of the given kind.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
