/// `${NAME}` references to environment variables in the text of a workflow file (HTTP header values)
/// or an alert target's URL, so secrets stay out of the file and out of the state.
package enum EnvironmentReference {
    /// The names referenced in `text`, in order.
    package static func names(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "${") {
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            names.append(String(rest[open.upperBound..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// `text` with every `${NAME}` replaced by its value.
    /// - Throws: ``Missing`` naming the first variable that is not set.
    package static func substitute(_ text: String, from environment: [String: String]) throws(Missing) -> String {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstRange(of: "${"), let close = rest[open.upperBound...].firstIndex(of: "}") {
            result += rest[..<open.lowerBound]
            let name = String(rest[open.upperBound..<close])
            guard let value = environment[name] else { throw Missing(name: name) }
            result += value
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    /// A variable the text names that is not set.
    package struct Missing: Error, Sendable {
        /// Its name.
        package var name: String
    }
}

extension Template {
    /// The template's value for `state` as text (a string as it is, anything else as JSON), with every
    /// `${NAME}` written in the file filled from `environment`; values taken from the state are never
    /// searched for references.
    /// - Throws: ``EnvironmentReference/Missing`` naming the first variable that is not set.
    func text(_ state: JSONValue, environment: [String: String]) throws(EnvironmentReference.Missing) -> String {
        var missing: EnvironmentReference.Missing?
        let value = render(state) { literal in
            do throws(EnvironmentReference.Missing) {
                return try EnvironmentReference.substitute(literal, from: environment)
            } catch {
                missing = missing ?? error
                return literal
            }
        }
        if let missing { throw missing }
        return value.stringValue ?? value.jsonText
    }
}
