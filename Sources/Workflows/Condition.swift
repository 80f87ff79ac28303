/// A route condition: a small expression language over the state, evaluated without running code.
///
/// ```
/// approved and risk != 'high'
/// score >= 0.8 or not exists(review.notes)
/// region in ['eu', 'us'] and 'urgent' in labels
/// ```
///
/// - Values: state paths (`report.score`, `items[0]`), numbers, strings in `'…'` or `"…"`,
///   `true`, `false`, `null`, lists `[…]` of literals.
/// - Operators, loosest first: `or`, `and`, `not`, then one comparison `==` `!=` `<` `<=` `>` `>=`
///   `in` `not in`; parentheses group. `exists(path)` is true when the path is in the state.
/// - A path that is missing is `null`; a value alone is tested for truth (`null`, `false`, `0`, `""`,
///   `[]`, `{}` are false). `<` and friends compare two numbers or two strings, anything else is an
///   evaluation error naming the operand; `in` looks in a list, a string (substring) or an object (key).
public struct Condition: Sendable, Hashable, CustomStringConvertible {
    indirect enum Node: Sendable, Hashable {
        case literal(JSONValue)
        case path(StatePath)
        case list([Node])
        case exists(StatePath)
        case not(Node)
        case and(Node, Node)
        case or(Node, Node)
        case compare(Node, Operator, Node)
    }

    enum Operator: String, Sendable, Hashable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case isIn = "in", notIn = "not in"
    }

    let root: Node
    /// The condition's text exactly as it was parsed.
    public let description: String

    /// The longest condition accepted, in characters; longer ones would only be unreadable, and the
    /// bound keeps evaluating a long `and` chain well within the stack.
    public static let maximumLength = 4096

    /// How deep parentheses, `not` and lists may nest.
    public static let maximumNesting = 64

    /// Parses a condition.
    /// - Throws: ``WorkflowError`` ``WorkflowError/Code/invalidCondition`` with the offset of the first problem.
    public init(_ text: String) throws(WorkflowError) {
        guard text.count <= Self.maximumLength else {
            throw WorkflowError.invalidCondition(
                offset: Self.maximumLength,
                message: "is \(text.count) characters long; a condition has at most \(Self.maximumLength)")
        }
        var parser = Parser(text: text)
        self.root = try parser.parseAll()
        self.description = text
    }

    /// The state paths the condition reads.
    public var paths: [StatePath] { Self.paths(in: root) }

    private static func paths(in node: Node) -> [StatePath] {
        switch node {
        case .literal: []
        case .path(let path), .exists(let path): [path]
        case .list(let items): items.flatMap(paths(in:))
        case .not(let inner): paths(in: inner)
        case .and(let a, let b), .or(let a, let b), .compare(let a, _, let b): paths(in: a) + paths(in: b)
        }
    }

    /// Evaluates the condition over a state.
    /// - Throws: ``WorkflowError`` ``WorkflowError/Code/conditionNotEvaluable`` when `<`, `<=`, `>` or `>=` meets values that are not two numbers or
    ///   two strings, or `in` meets a right side or a left side of the wrong type.
    public func evaluate(_ state: JSONValue) throws(WorkflowError) -> Bool {
        try Self.truth(root, state)
    }

    private static func truth(_ node: Node, _ state: JSONValue) throws(WorkflowError) -> Bool {
        switch node {
        case .not(let inner): return try !truth(inner, state)
        case .and(let a, let b):
            if try !truth(a, state) { return false }
            return try truth(b, state)
        case .or(let a, let b):
            if try truth(a, state) { return true }
            return try truth(b, state)
        case .exists(let path): return path.value(in: state) != nil
        case .compare(let a, let op, let b): return try compare(a, op, b, state)
        default: return try value(node, state).isTruthy
        }
    }

    private static func value(_ node: Node, _ state: JSONValue) throws(WorkflowError) -> JSONValue {
        switch node {
        case .literal(let value): return value
        case .path(let path): return path.value(in: state) ?? .null
        case .list(let items):
            var values: [JSONValue] = []
            for item in items { values.append(try value(item, state)) }
            return .array(values)
        default: return .bool(try truth(node, state))
        }
    }

    private static func compare(_ a: Node, _ op: Operator, _ b: Node, _ state: JSONValue) throws(WorkflowError)
        -> Bool
    {
        let left = try value(a, state)
        let right = try value(b, state)
        switch op {
        case .equal: return equal(left, right)
        case .notEqual: return !equal(left, right)
        case .isIn, .notIn:
            let found: Bool
            switch right {
            case .array(let elements): found = elements.contains { equal($0, left) }
            case .string(let text):
                guard let needle = left.stringValue else {
                    throw WorkflowError.conditionNotEvaluable(
                        message: "\(describe(a)) is \(left.typeWithArticle); `in` a string needs a string on the left")
                }
                // The standard library's search: Foundation's `contains` traps on some strings with NUL
                // (a haystack "ü" and a needle "ü\0"), and the needle can be what a webhook sent.
                found = text.firstRange(of: needle) != nil
            case .object(let members):
                guard let key = left.stringValue else {
                    throw WorkflowError.conditionNotEvaluable(
                        message:
                            "\(describe(a)) is \(left.typeWithArticle); `in` an object needs a string key on the left")
                }
                found = members[key] != nil
            case .null: found = false
            default:
                throw WorkflowError.conditionNotEvaluable(
                    message: "\(describe(b)) is \(right.typeWithArticle); `in` needs a list, a string or an object")
            }
            return op == .isIn ? found : !found
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let order: Int
            if let x = left.doubleValue, let y = right.doubleValue {
                order = x < y ? -1 : (x > y ? 1 : 0)
            } else if let x = left.stringValue, let y = right.stringValue {
                order = x < y ? -1 : (x > y ? 1 : 0)
            } else {
                let culprit = left.doubleValue == nil && left.stringValue == nil ? (a, left) : (b, right)
                throw WorkflowError.conditionNotEvaluable(
                    message:
                        "\(describe(culprit.0)) is \(culprit.1 == .null ? "missing (null)" : culprit.1.typeWithArticle); "
                        + "\(op.rawValue) compares two numbers or two strings")
            }
            switch op {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        }
    }

    private static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.doubleValue, let y = b.doubleValue { return x == y }
        return a == b
    }

    private static func describe(_ node: Node) -> String {
        switch node {
        case .path(let path): return path.description
        case .literal(let value): return value.jsonText
        default: return "the value"
        }
    }
}

// MARK: - Parsing

extension Condition {
    struct Parser {
        enum Token: Equatable {
            case word(String)
            case number(JSONValue)
            case string(String)
            case symbol(String)
            case end
        }

        let characters: [Character]
        var position = 0
        var token: Token = .end
        var tokenStart = 0
        /// How many `(`, `[` and `not` enclose the current token.
        var nesting = 0

        /// Enters one more level of nesting, or refuses past ``Condition/maximumNesting``.
        mutating func enter() throws(WorkflowError) {
            nesting += 1
            guard nesting <= Condition.maximumNesting else {
                throw WorkflowError.invalidCondition(
                    offset: tokenStart,
                    message: "nests deeper than \(Condition.maximumNesting) levels at \(tokenStart + 1)")
            }
        }

        init(text: String) {
            self.characters = Array(text)
        }

        mutating func parseAll() throws(WorkflowError) -> Node {
            try advance()
            if token == .end {
                throw WorkflowError.invalidCondition(
                    offset: 0, message: "is empty; write a condition like `approved == true`")
            }
            let node = try parseOr()
            guard token == .end else { throw unexpected("an operator (and, or, ==, in, …) or the end") }
            return node
        }

        mutating func parseOr() throws(WorkflowError) -> Node {
            var node = try parseAnd()
            while token == .word("or") {
                try advance()
                node = .or(node, try parseAnd())
            }
            return node
        }

        mutating func parseAnd() throws(WorkflowError) -> Node {
            var node = try parseNot()
            while token == .word("and") {
                try advance()
                node = .and(node, try parseNot())
            }
            return node
        }

        mutating func parseNot() throws(WorkflowError) -> Node {
            if token == .word("not") {
                try enter()
                defer { nesting -= 1 }
                try advance()
                return .not(try parseNot())
            }
            return try parseComparison()
        }

        mutating func parseComparison() throws(WorkflowError) -> Node {
            let left = try parsePrimary()
            let op: Operator
            if case .symbol(let s) = token, let symbolic = Operator(rawValue: s) {
                op = symbolic
            } else {
                switch token {
                case .word("in"): op = .isIn
                case .word("not"):
                    try advance()
                    guard token == .word("in") else { throw unexpected("`in` after `not`") }
                    op = .notIn
                default: return left
                }
            }
            try advance()
            let right = try parsePrimary()
            if case .symbol(let s) = token, Operator(rawValue: s) != nil {
                throw WorkflowError.invalidCondition(
                    offset: tokenStart,
                    message: "comparisons do not chain (\(s) at \(tokenStart + 1)); join them with and")
            }
            return .compare(left, op, right)
        }

        mutating func parsePrimary() throws(WorkflowError) -> Node {
            let start = tokenStart
            switch token {
            case .number(let value):
                try advance()
                return .literal(value)
            case .string(let text):
                try advance()
                return .literal(.string(text))
            case .symbol("("):
                try enter()
                defer { nesting -= 1 }
                try advance()
                let inner = try parseOr()
                guard token == .symbol(")") else { throw unexpected("`)` to close the `(` at \(start + 1)") }
                try advance()
                return inner
            case .symbol("["):
                try enter()
                defer { nesting -= 1 }
                try advance()
                var items: [Node] = []
                while token != .symbol("]") {
                    let item = try parsePrimary()
                    if case .path = item {
                        throw WorkflowError.invalidCondition(
                            offset: start, message: "a list holds literals only, not state paths")
                    }
                    items.append(item)
                    if token == .symbol(",") {
                        try advance()
                    } else if token != .symbol("]") {
                        throw unexpected("`,` or `]` in the list")
                    }
                }
                try advance()
                return .list(items)
            case .word("true"):
                try advance()
                return .literal(true)
            case .word("false"):
                try advance()
                return .literal(false)
            case .word("null"):
                try advance()
                return .literal(.null)
            case .word("exists"):
                try advance()
                guard token == .symbol("(") else { throw unexpected("`(` after exists, as in exists(report.score)") }
                try advance()
                guard case .word(let text) = token, let path = StatePath(text) else {
                    throw unexpected("a state path inside exists(…)")
                }
                try advance()
                guard token == .symbol(")") else { throw unexpected("`)` after the path in exists(…)") }
                try advance()
                return .exists(path)
            case .word(let text) where !["and", "or", "not", "in"].contains(text):
                guard let path = StatePath(text) else {
                    throw WorkflowError.invalidCondition(
                        offset: start,
                        message:
                            "\"\(text)\" is not a state path (like report.score or items[0], an index up to \(StatePath.maximumIndex))"
                    )
                }
                try advance()
                return .path(path)
            default:
                throw unexpected("a value: a state path, a number, a 'string', true, false, null or a list")
            }
        }

        func unexpected(_ expected: String) -> WorkflowError {
            let found: String
            switch token {
            case .end: found = "the end"
            case .word(let w): found = "\"\(w)\""
            case .number(let n): found = n.jsonText
            case .string(let s): found = "'\(s)'"
            case .symbol(let s): found = "\"\(s)\""
            }
            let at = token == .end ? "" : " at \(tokenStart + 1)"
            return WorkflowError.invalidCondition(
                offset: tokenStart, message: "expected \(expected), found \(found)\(at)")
        }

        mutating func advance() throws(WorkflowError) {
            while position < characters.count, characters[position].isWhitespace { position += 1 }
            tokenStart = position
            guard position < characters.count else {
                token = .end
                return
            }
            let ch = characters[position]
            if ch == "'" || ch == "\"" {
                var text = ""
                var i = position + 1
                while i < characters.count, characters[i] != ch {
                    if characters[i] == "\\", i + 1 < characters.count { i += 1 }
                    text.append(characters[i])
                    i += 1
                }
                guard i < characters.count else {
                    throw WorkflowError.invalidCondition(
                        offset: position, message: "the string starting at \(position + 1) is not closed")
                }
                position = i + 1
                token = .string(text)
            } else if ch.isNumber || (ch == "-" && position + 1 < characters.count && characters[position + 1].isNumber)
            {
                var i = position + 1
                while i < characters.count, characters[i].isNumber || characters[i] == "." { i += 1 }
                let text = String(characters[position..<i])
                if let n = Int64(text) {
                    token = .number(.integer(n))
                } else if let x = Double(text) {
                    token = .number(.number(x))
                } else {
                    throw WorkflowError.invalidCondition(
                        offset: position, message: "\"\(text)\" at \(position + 1) is not a number")
                }
                position = i
            } else if ch.isLetter || ch == "_" {
                var i = position
                var inIndex = false
                while i < characters.count {
                    let c = characters[i]
                    if c.isLetter || c.isNumber || c == "_" || c == "-" || c == "." {
                        i += 1
                    } else if c == "[", !inIndex, i + 1 < characters.count, characters[i + 1].isNumber {
                        inIndex = true
                        i += 1
                    } else if c == "]", inIndex {
                        inIndex = false
                        i += 1
                    } else {
                        break
                    }
                }
                token = .word(String(characters[position..<i]))
                position = i
            } else {
                let two = position + 1 < characters.count ? String(characters[position...position + 1]) : ""
                if ["==", "!=", "<=", ">="].contains(two) {
                    token = .symbol(two)
                    position += 2
                } else if "<>()[],".contains(ch) {
                    token = .symbol(String(ch))
                    position += 1
                } else if ch == "=" {
                    throw WorkflowError.invalidCondition(
                        offset: position, message: "\"=\" at \(position + 1) is not an operator; use ==")
                } else {
                    throw WorkflowError.invalidCondition(
                        offset: position,
                        message:
                            "\"\(ch)\" at \(position + 1) is not allowed; use and, or, not, ==, !=, <, <=, >, >=, in")
                }
            }
        }
    }
}
