/// The Workflows module's error: problems found in workflow files (each with file, line, column and
/// a fix), or a run that could not start.
public struct WorkflowError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        /// Files with problems.
        package static func invalid(_ problems: [Problem]) -> WorkflowError {
            WorkflowError(code: .invalidFiles, problems: problems)
        }

        public var description: String { name }
        /// One or more files are invalid; ``WorkflowError/problems`` lists every problem.
        public static let invalidFiles = Code(name: "invalidFiles")
        /// The workflow asked for is not loaded.
        public static let unknownWorkflow = Code(name: "unknownWorkflow")
        /// A run's input is not a JSON object.
        public static let invalidInput = Code(name: "invalidInput")
    }

    /// One problem, at a place in a file.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        package init(file: String, line: Int, column: Int, message: String) {
            self.file = file
            self.line = line
            self.column = column
            self.message = message
        }

        public var file: String
        public var line: Int
        public var column: Int
        public var message: String
        /// `schedules/workflows/energy.yaml:12:11: node "collect": next "colect" is not a node; …`
        /// Files with problems.
        package static func invalid(_ problems: [Problem]) -> WorkflowError {
            WorkflowError(code: .invalidFiles, problems: problems)
        }

        public var description: String { "\(file):\(line):\(column): \(message)" }
    }

    public var code: Code
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

    public var description: String {
        message
            ?? problems.sorted { ($0.file, $0.line, $0.column) < ($1.file, $1.line, $1.column) }
            .map(\.description).joined(separator: "\n")
    }
}
