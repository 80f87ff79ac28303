import Support

/// The Workflows module's error: problems found in workflow files (each with file, line, column and
/// a fix), a condition, template or JSON text that does not read, a condition that cannot be
/// evaluated over a state, or a run that could not start. ``code`` says which.
///
/// The failures of a run's nodes are not this type: they end the run and show in its trace as the
/// `exception` event of the node's span (`ScriptFailed`, `HTTPRequestFailed`, …; see NodeErrors.swift).
public struct WorkflowError: Error, Sendable, CustomStringConvertible {
    /// What kind of error, for code that acts on it.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String

        /// The code's name, such as `invalidFiles`.
        public var description: String { name }
        /// One or more files are invalid; ``WorkflowError/problems`` lists every problem.
        public static let invalidFiles = Code(name: "invalidFiles")
        /// The workflow asked for is not loaded.
        public static let unknownWorkflow = Code(name: "unknownWorkflow")
        /// A run's input is not a JSON object.
        public static let invalidInput = Code(name: "invalidInput")
        /// A condition (`when:` of a route) does not parse; ``WorkflowError/offset`` points at the
        /// problem, in characters from the condition's start.
        public static let invalidCondition = Code(name: "invalidCondition")
        /// A condition parsed but cannot be evaluated over the state: an operand has the wrong type
        /// for its operator (`score is a string; < compares two numbers or two strings`).
        public static let conditionNotEvaluable = Code(name: "conditionNotEvaluable")
        /// A template (a value with `{{ path }}`) does not parse: an unclosed `{{`, or braces that
        /// hold no state path.
        public static let invalidTemplate = Code(name: "invalidTemplate")
        /// Bytes are not JSON; ``WorkflowError/offset`` is the byte where reading stopped.
        public static let invalidJSON = Code(name: "invalidJSON")
        /// Bytes may well be JSON but nest deeper than the reader's limit; ``WorkflowError/offset`` is
        /// the byte where the limit was passed.
        public static let jsonTooDeep = Code(name: "jsonTooDeep")
    }

    /// One problem, at a place in a file:
    /// `schedules/workflows/energy.yaml:12:11: node "collect": next "colect" is not a node; …`
    public typealias Problem = FileProblem

    /// What kind of error.
    public var code: Code
    /// For ``Code/invalidFiles``: every problem found, in every file.
    public var problems: [Problem]
    /// What is wrong and what is allowed, without a position (`expected an operator (and, or, ==,
    /// in, …) or the end, found "x" at 10`); empty for ``Code/invalidFiles``, whose problems say it.
    public var message: String
    /// Where the problem is in the text read: characters from a condition's start
    /// (``Code/invalidCondition``), bytes from a JSON text's start (``Code/invalidJSON``,
    /// ``Code/jsonTooDeep``); `nil` for the other codes.
    public var offset: Int?

    init(code: Code, problems: [Problem] = [], message: String = "", offset: Int? = nil) {
        self.code = code
        self.problems = problems
        self.message = message
        self.offset = offset
    }

    /// Files with problems.
    package static func invalid(_ problems: [Problem]) -> WorkflowError {
        WorkflowError(code: .invalidFiles, problems: problems)
    }

    /// A condition that does not parse, `offset` characters from its start.
    static func invalidCondition(offset: Int, message: String) -> WorkflowError {
        WorkflowError(code: .invalidCondition, message: message, offset: offset)
    }

    /// A condition that cannot be evaluated over a state.
    static func conditionNotEvaluable(message: String) -> WorkflowError {
        WorkflowError(code: .conditionNotEvaluable, message: message)
    }

    /// A template that does not parse.
    static func invalidTemplate(message: String) -> WorkflowError {
        WorkflowError(code: .invalidTemplate, message: message)
    }

    /// Bytes that are not JSON, `offset` bytes from the start.
    static func invalidJSON(message: String, offset: Int) -> WorkflowError {
        WorkflowError(code: .invalidJSON, message: message, offset: offset)
    }

    /// The message, with the byte for JSON texts (`unexpected end of input at byte 12`), or the
    /// problems one per line, by file and place.
    public var description: String {
        if code == .invalidJSON || code == .jsonTooDeep, let offset { return "\(message) at byte \(offset)" }
        if code != .invalidFiles { return message }
        return problems.sorted { ($0.file, $0.line, $0.column) < ($1.file, $1.line, $1.column) }
            .map(\.description).joined(separator: "\n")
    }
}
