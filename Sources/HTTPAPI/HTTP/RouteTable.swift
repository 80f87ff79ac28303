/// The methods each route path answers (paths like `/hooks/:hook`; `:name` matches one segment).
struct RouteTable: Sendable {
    private let table: [(segments: [Substring], methods: [String])]

    /// The table of `routes`, as Hummingbird lists them.
    init(_ routes: [(path: String, method: String)]) {
        var byPath: [String: Set<String>] = [:]
        for route in routes { byPath[route.path, default: []].insert(route.method) }
        table = byPath.map { (Self.segments($0.key), $0.value.sorted()) }
    }

    /// The methods a path answers, sorted; empty for a path no route has.
    func methods(for path: String) -> [String] {
        let asked = Self.segments(path)
        var methods: Set<String> = []
        for route in table where route.segments.count == asked.count {
            let matches = zip(route.segments, asked).allSatisfy { pattern, segment in
                pattern.hasPrefix(":") || pattern.hasPrefix("{") || pattern == segment
            }
            if matches { methods.formUnion(route.methods) }
        }
        return methods.sorted()
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }
}
