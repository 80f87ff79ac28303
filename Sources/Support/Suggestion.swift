/// "Did you mean …?" for a mistyped name: the closest known names by edit distance.
public enum Suggestion {
    /// The known names closest to `typed` (Levenshtein distance, case-insensitive), at most
    /// `limit`, and only those within a third of the longer word's length (at least 1, at most 3
    /// edits): `lst` → `list`, `nighlty` → `nightly`; nothing for a name unlike any known one.
    public static func closest(_ typed: String, among names: some Sequence<String>, limit: Int = 3) -> [String] {
        let word = Array(typed.lowercased())
        guard !word.isEmpty, word.count <= 256 else { return [] }
        var scored: [(distance: Int, name: String)] = []
        for name in names where name != typed {
            let candidate = Array(name.lowercased())
            let allowed = min(3, max(1, max(word.count, candidate.count) / 3))
            guard abs(candidate.count - word.count) <= allowed, candidate.count <= 256 else { continue }
            let distance = editDistance(word, candidate)
            if distance <= allowed { scored.append((distance, name)) }
        }
        return scored.sorted { ($0.distance, $0.name) < ($1.distance, $1.name) }.prefix(limit).map(\.name)
    }

    /// `did you mean "a"?` or `did you mean "a" or "b"?`, or `nil` when nothing is close.
    public static func phrase(_ typed: String, among names: some Sequence<String>) -> String? {
        let close = closest(typed, among: names)
        guard !close.isEmpty else { return nil }
        return "did you mean " + close.map { "\"\($0)\"" }.joined(separator: " or ") + "?"
    }

    /// Levenshtein distance with a transposition counting as one edit (optimal string alignment).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
