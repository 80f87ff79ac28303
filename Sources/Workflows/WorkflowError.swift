import Support

/// The Workflows module's error: problems found in workflow files (each with file, line, column and
/// a fix), or a run that could not start. ``code`` says which.
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
    }

    /// One problem, at a place in a file:
    /// `schedules/workflows/energy.yaml:12:11: node "collect": next "colect" is not a node; …`
    public typealias Problem = FileProblem

    /// What kind of error.
    public var code: Code
    /// For ``Code/invalidFiles``: every problem found, in every file.
    public var problems: [Problem]
    var message: String?

    init(code: Code, problems: [Problem] = [], message: String? = nil) {
        self.code = code
        self.problems = problems
        self.message = message
    }

    /// Files with problems.
    package static func invalid(_ problems: [Problem]) -> WorkflowError {
        WorkflowError(code: .invalidFiles, problems: problems)
    }

    /// The message, or the problems one per line, by file and place.
    public var description: String {
        message
            ?? problems.sorted { ($0.file, $0.line, $0.column) < ($1.file, $1.line, $1.column) }
            .map(\.description).joined(separator: "\n")
    }
}
