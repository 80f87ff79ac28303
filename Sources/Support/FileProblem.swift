import Yams

/// One problem at a place in a file the daemon reads (a workflow, schedule or policies file): what is
/// wrong and what is allowed, at the line and column where it is.
///
/// Every file reader reports through this type, so that `schedule validate`, the daemon's refusal to
/// start and the API's `apply` all print the same `file:line:column: message` lines:
///
/// ```
/// schedules/workflows/energy.yaml:12:11: node "collect": next "colect" is not a node; did you mean "collect"?
/// ```
public struct FileProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file as the reader was given it.
    public var file: String
    /// 1-based.
    public var line: Int
    /// 1-based.
    public var column: Int
    /// What is wrong and what is allowed.
    public var message: String

    /// A problem at a known place.
    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// A problem at a YAML node's place (Yams' mark); at the start of the file when there is no node.
    public init(file: String, at node: Yams.Node?, _ message: String) {
        self.init(file: file, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, message: message)
    }

    /// The problem of a document that is not YAML, where libyaml stopped reading it.
    /// - Parameter keys: what the file's mapping keys are, for the duplicate-keys message
    ///   (a workflow file's are `node ids and keys`).
    package init(file: String, syntax error: any Error, keys: String = "keys") {
        let syntax = YAMLSyntaxProblem(error, keys: keys)
        self.init(file: file, line: syntax.line, column: syntax.column, message: syntax.description)
    }

    /// `file:line:column: message`.
    public var description: String { "\(file):\(line):\(column): \(message)" }
}

/// Where a YAML document stops being YAML, and why, for messages of the form
/// `file:4:1: is not valid YAML: could not find expected ':'`: the line and column libyaml
/// reports, not line 1 with the whole error text.
struct YAMLSyntaxProblem: Sendable {
    var line: Int
    var column: Int
    var message: String

    /// True for keys that appear twice in a mapping: said as it is, not as a syntax error.
    var duplicateKeys = false

    /// Reads what Yams threw; an error without a place is put at 1:1 with its first line.
    /// - Parameter keys: what the file's mapping keys are, for the duplicate-keys message
    ///   (a workflow file's are `node ids and keys`).
    init(_ error: any Error, keys: String = "keys") {
        (line, column) = (1, 1)
        message = String(describing: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        guard let error = error as? YamlError else { return }
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            (line, column, message) = (max(1, mark.line), max(1, mark.column), problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let names = duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            (line, column) = (max(1, context.mark.line), max(1, context.mark.column))
            message = "\(names) appears more than once in the mapping here; \(keys) must be unique"
            duplicateKeys = true
        default:
            break
        }
    }

    /// `is not valid YAML: <why>`, or for duplicate keys what is duplicated.
    var description: String { duplicateKeys ? message : "is not valid YAML: \(message)" }
}
