/// An error from the MLflow tracing module: configuration, experiment resolution or the spool.
/// The description never carries credentials.
public struct MLflowTracingError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        /// A setting is malformed (a URI, a number, a header list).
        public static let configuration = Code(name: "configuration")
        /// The experiment cannot be used (deleted, or the id is unknown).
        public static let experiment = Code(name: "experiment")
        /// MLflow answered in a way that cannot be retried (401, 403, 400, 422).
        public static let rejected = Code(name: "rejected")
        /// MLflow could not be reached or answered 408/429/5xx; retrying may help.
        public static let unavailable = Code(name: "unavailable")
        /// The spool file could not be opened or written.
        public static let spool = Code(name: "spool")
        public var description: String { name }
    }

    public var code: Code
    public var message: String
    /// The HTTP status, when the error is an answer from a server.
    public var httpStatus: Int?

    public init(_ code: Code, _ message: String, httpStatus: Int? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
    }

    public var description: String { message }
}
