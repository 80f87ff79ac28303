import Yams

extension Yams.Node {
    /// The texts of a list of scalars (`[failed, timed_out]`), or of one scalar as a list of one
    /// (`failed`); `nil` for a mapping, or a list holding anything but scalars.
    package var texts: [String]? {
        if let scalar { return [scalar.string] }
        guard let list = sequence, list.allSatisfy({ $0.scalar != nil }) else { return nil }
        return list.compactMap { $0.scalar?.string }
    }
}
