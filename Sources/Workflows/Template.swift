import Foundation

/// A value written in a workflow file that may read the state: `"{{ report.summary }}"` is the value at
/// that path (any JSON type; `null` when missing), `"Report for {{ day }}"` is a string with each
/// placeholder replaced (strings as they are, other values as JSON, missing paths as nothing). Objects
/// and lists are templated member by member; everything else is a constant. Only state paths can
/// appear between the braces: there is no code to run.
public struct Template: Sendable, Hashable {
    indirect enum Part: Sendable, Hashable {
        case constant(JSONValue)
        case whole(StatePath)
        case text([Piece])
        case array([Part])
        case object([String: Part])
    }

    enum Piece: Sendable, Hashable {
        case literal(String)
        case path(StatePath)
    }

    let part: Part

    init(part: Part) {
        self.part = part
    }

    /// Reads a template from a value written in a file.
    /// - Throws: ``WorkflowError`` ``WorkflowError/Code/invalidTemplate`` for an unclosed `{{` or something between the braces that is not a path.
    public init(_ value: JSONValue) throws(WorkflowError) {
        self.part = try Self.parse(value)
    }

    /// The state paths the template reads.
    public var paths: [StatePath] { Self.paths(part) }

    /// True when the template reads nothing from the state.
    public var isConstant: Bool { paths.isEmpty }

    /// The value for a state.
    public func render(_ state: JSONValue) -> JSONValue {
        Self.render(part, state, literal: { $0 })
    }

    /// The value for a state, with `literal` applied to the text written in the file but not to the
    /// values taken from the state (so that `${NAME}` in a header is filled from the environment, and
    /// a state value holding `${NAME}` stays as it is).
    func render(_ state: JSONValue, literal: (String) throws -> String) rethrows -> JSONValue {
        try Self.render(part, state, literal: literal)
    }

    private static func parse(_ value: JSONValue) throws(WorkflowError) -> Part {
        switch value {
        case .string(let text):
            guard text.contains("{{") else { return .constant(value) }
            let pieces = try pieces(text)
            if pieces.count == 1, case .path(let path) = pieces[0] { return .whole(path) }
            return .text(pieces)
        case .array(let elements):
            var parts: [Part] = []
            for element in elements { parts.append(try parse(element)) }
            return parts.allSatisfy({ if case .constant = $0 { true } else { false } })
                ? .constant(value) : .array(parts)
        case .object(let members):
            var parts: [String: Part] = [:]
            for (key, member) in members { parts[key] = try parse(member) }
            return parts.values.allSatisfy({ if case .constant = $0 { true } else { false } })
                ? .constant(value) : .object(parts)
        default:
            return .constant(value)
        }
    }

    private static func pieces(_ text: String) throws(WorkflowError) -> [Piece] {
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { pieces.append(.literal(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw WorkflowError.invalidTemplate(message: "\"{{\" is not closed with \"}}\" in \"\(text)\"")
            }
            let inner = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard let path = StatePath(inner) else {
                throw WorkflowError.invalidTemplate(
                    message:
                        "\"{{ \(inner) }}\" must hold a state path like {{ report.summary }} or {{ items[0] }} (an index up to \(StatePath.maximumIndex))"
                )
            }
            pieces.append(.path(path))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.literal(String(rest))) }
        return pieces
    }

    private static func paths(_ part: Part) -> [StatePath] {
        switch part {
        case .constant: []
        case .whole(let path): [path]
        case .text(let pieces): pieces.compactMap { if case .path(let p) = $0 { p } else { nil } }
        case .array(let parts): parts.flatMap(paths)
        case .object(let parts): parts.sorted { $0.key < $1.key }.flatMap { paths($0.value) }
        }
    }

    private static func render(_ part: Part, _ state: JSONValue, literal: (String) throws -> String) rethrows
        -> JSONValue
    {
        switch part {
        case .constant(let value): return try constant(value, literal)
        case .whole(let path): return path.value(in: state) ?? .null
        case .text(let pieces):
            var text = ""
            for piece in pieces {
                switch piece {
                case .literal(let s): text += try literal(s)
                case .path(let path):
                    switch path.value(in: state) {
                    case nil, .null?: break
                    case .string(let s)?: text += s
                    case let value?: text += value.jsonText
                    }
                }
            }
            return .string(text)
        case .array(let parts): return .array(try parts.map { try render($0, state, literal: literal) })
        case .object(let parts): return .object(try parts.mapValues { try render($0, state, literal: literal) })
        }
    }

    private static func constant(_ value: JSONValue, _ literal: (String) throws -> String) rethrows -> JSONValue {
        switch value {
        case .string(let s): return .string(try literal(s))
        case .array(let elements): return .array(try elements.map { try constant($0, literal) })
        case .object(let members): return .object(try members.mapValues { try constant($0, literal) })
        default: return value
        }
    }
}
