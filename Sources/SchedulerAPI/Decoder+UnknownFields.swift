import Foundation

/// A coding key for any field name: how the wire types see every key an object has.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
    }

    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

extension Decoder {
    /// Refuses an object with a field outside `known`, naming the first one (sorted) by its path.
    /// - Throws: ``SchedulerAPIError`` (`unknownField`), or `DecodingError` when the value is no object.
    func refuseUnknownFields(_ known: Set<String>) throws {
        let container = try container(keyedBy: AnyKey.self)
        let unknown = container.allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        var prefix = ""
        for key in codingPath {
            if let index = key.intValue {
                prefix += "[\(index)]"
            } else {
                prefix += (prefix.isEmpty ? "" : ".") + key.stringValue
            }
        }
        if !prefix.isEmpty { prefix += "." }
        let more = unknown.count > 1 ? " (and \(unknown.count - 1) more)" : ""
        throw SchedulerAPIError(
            code: .unknownField,
            message:
                "unknown field \"\(prefix)\(first)\"\(more); the fields here are \(known.sorted().joined(separator: ", "))"
        )
    }
}
