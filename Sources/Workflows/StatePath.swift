/// A path into the state: `report.summary`, `items[0].name`. Names are letters, digits and `_`
/// (not starting with a digit), or `-` inside a name; `[n]` indexes an array, from 0 to
/// ``maximumIndex``. Writing past an array's end pads it with `null`s, so the bound on the index is
/// also the bound on what one write can allocate.
public struct StatePath: Sendable, Hashable, CustomStringConvertible {
    /// One step of a path: a member of an object, or an element of an array.
    public enum Step: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    /// The steps in order; never empty, and the first is always a key.
    public var steps: [Step]
    /// The path's text exactly as it was parsed (`items[0].name`).
    public let description: String

    /// The largest index a path may hold: 99,999 (five digits).
    public static let maximumIndex = 99_999

    /// Parses a path.
    /// - Returns: `nil` when `text` is not a path.
    public init?(_ text: String) {
        var steps: [Step] = []
        var rest = Substring(text)
        var expectName = true
        while !rest.isEmpty {
            if expectName {
                let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
                guard let first = name.first, first.isLetter || first == "_" else { return nil }
                steps.append(.key(String(name)))
                rest = rest.dropFirst(name.count)
                expectName = false
            } else if rest.first == "." {
                rest = rest.dropFirst()
                expectName = true
                if rest.isEmpty { return nil }
            } else if rest.first == "[" {
                let digits = rest.dropFirst().prefix { $0.isASCII && $0.isNumber }
                guard !digits.isEmpty, digits.count <= 9, let index = Int(digits), index <= Self.maximumIndex,
                    rest.dropFirst(1 + digits.count).first == "]"
                else {
                    return nil
                }
                steps.append(.index(index))
                rest = rest.dropFirst(2 + digits.count)
            } else {
                return nil
            }
        }
        guard !steps.isEmpty else { return nil }
        self.steps = steps
        self.description = text
    }

    /// The first key: the state entry this path reads or writes.
    public var root: String {
        if case .key(let name) = steps[0] { return name }
        return ""
    }

    /// The value at this path, or `nil` when any step is missing.
    public func value(in state: JSONValue) -> JSONValue? {
        var current = state
        for step in steps {
            switch step {
            case .key(let name):
                guard let next = current[name] else { return nil }
                current = next
            case .index(let i):
                guard let elements = current.arrayValue, i < elements.count else { return nil }
                current = elements[i]
            }
        }
        return current
    }

    /// `state` with `value` written at this path. Missing objects and arrays on the way are created,
    /// an array too short for an index is padded with `null`s, and a value of the wrong type in the way
    /// is replaced.
    public func setting(_ value: JSONValue, in state: JSONValue) -> JSONValue {
        Self.set(value, steps: steps[...], in: state)
    }

    private static func set(_ value: JSONValue, steps: ArraySlice<Step>, in state: JSONValue) -> JSONValue {
        guard let step = steps.first else { return value }
        switch step {
        case .key(let name):
            var members = state.objectValue ?? [:]
            members[name] = set(value, steps: steps.dropFirst(), in: members[name] ?? .null)
            return .object(members)
        case .index(let i):
            var elements = state.arrayValue ?? []
            while elements.count <= i { elements.append(.null) }
            elements[i] = set(value, steps: steps.dropFirst(), in: elements[i])
            return .array(elements)
        }
    }
}
