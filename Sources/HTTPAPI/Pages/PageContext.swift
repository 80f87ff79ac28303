import Mustache

/// A page's context as Mustache reads it: every stored property of a value, read through reflection
/// once, arrays and nested values likewise.
///
/// Mustache finds a name on a plain value by reflecting on it for every `{{name}}` (and again for
/// every level of the context stack a name is looked up through): thousands of times for a page of
/// 50 schedules with 20 runs each. Read once into dictionaries, each lookup is a hash.
struct PageContext: MustacheParent {
    private let children: [String: Any]

    /// The properties of `value` (a struct of strings, numbers, flags, optionals, arrays and structs).
    init(_ value: Any) {
        var children: [String: Any] = [:]
        for child in Mirror(reflecting: value).children {
            if let label = child.label, let read = Self.read(child.value) { children[label] = read }
        }
        self.children = children
    }

    func child(named name: String) -> Any? { children[name] }

    /// A property's value as Mustache should see it: leaves as they are, `nil` for an empty optional,
    /// arrays and structs read in turn.
    static func read(_ value: Any) -> Any? {
        switch value {
        case is String, is Int, is Bool, is Double: return value
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional: return mirror.children.first.flatMap { read($0.value) }
        case .collection: return mirror.children.compactMap { read($0.value) }
        case .struct, .class, .tuple: return PageContext(value)
        default: return value
        }
    }
}
