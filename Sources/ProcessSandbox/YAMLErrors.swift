import Yams

/// Where a YAML document stops being YAML, and why, for messages of the form
/// `file:4:1: is not valid YAML: could not find expected ':'`: the line and column libyaml
/// reports, not line 1 with the whole error text.
package struct YAMLSyntaxProblem: Sendable {
    package var line: Int
    package var column: Int
    package var message: String

    /// Reads what Yams threw; an error without a place is put at 1:1 with its first line.
    package init(_ error: any Error) {
        (line, column) = (1, 1)
        message = String(describing: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        guard let error = error as? YamlError else { return }
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            (line, column, message) = (max(1, mark.line), max(1, mark.column), problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            (line, column) = (max(1, context.mark.line), max(1, context.mark.column))
            message = "\(keys) appears more than once in the mapping here; keys must be unique"
        default:
            break
        }
    }

    /// `is not valid YAML: <why>`.
    package var description: String { "is not valid YAML: \(message)" }
}
