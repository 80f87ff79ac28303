import Yams

/// Where a YAML document stops being YAML, and why, for messages of the form
/// `file:4:1: is not valid YAML: could not find expected ':'`: the line and column libyaml
/// reports, not line 1 with the whole error text.
package struct YAMLSyntaxProblem: Sendable {
    package var line: Int
    package var column: Int
    package var message: String

    /// True for keys that appear twice in a mapping: said as it is, not as a syntax error.
    package var duplicateKeys = false

    /// Reads what Yams threw; an error without a place is put at 1:1 with its first line.
    /// - Parameter keys: what the file's mapping keys are, for the duplicate-keys message
    ///   (a workflow file's are `node ids and keys`).
    package init(_ error: any Error, keys: String = "keys") {
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
    package var description: String { duplicateKeys ? message : "is not valid YAML: \(message)" }
}
