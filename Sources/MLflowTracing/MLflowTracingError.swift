/// An error from the MLflow tracing module: configuration, experiment resolution or the spool.
/// The description never carries credentials.
public struct MLflowTracingError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it is. New codes may be added; switch with a `default`.
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
        /// The code's name as written in Swift (`unavailable`), for logs and tests; not a message.
        public var description: String { name }
    }

    /// What kind of failure it is; after ``Code/unavailable``, retrying may help.
    public var code: Code
    /// One line for the operator: what failed and where (the server's address, the spool's path, the
    /// variable to check).
    public var message: String
    /// The HTTP status, when the error is an answer from a server.
    public var httpStatus: Int?

    /// An error of kind `code`.
    /// - Parameters:
    ///   - code: what kind of failure it is.
    ///   - message: the whole line shown to the operator; it must not carry credentials.
    ///   - httpStatus: the status of the server's answer, when the error is one.
    public init(_ code: Code, _ message: String, httpStatus: Int? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
    }

    /// The same line as ``message``.
    public var description: String { message }
}
