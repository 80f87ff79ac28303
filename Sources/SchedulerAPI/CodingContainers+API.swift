import Foundation

extension KeyedEncodingContainer {
    /// Writes `value`, or `null` when there is none: for fields that are always there.
    mutating func encodeNullable<Value: Encodable>(_ value: Value?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    /// Writes an instant as ``APITimestamp`` does, or `null`.
    mutating func encodeTimestamp(_ date: Date?, forKey key: Key) throws {
        try encodeNullable(date.map(APITimestamp.format), forKey: key)
    }
}

extension KeyedDecodingContainer {
    /// Reads an instant written by ``APITimestamp``; `nil` for `null` or a missing key.
    /// - Throws: `DecodingError.dataCorrupted` for text that is not one.
    func decodeTimestampIfPresent(forKey key: Key) throws -> Date? {
        guard let text = try decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let date = APITimestamp.parse(text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "\"\(text)\" is not an ISO 8601 instant")
        }
        return date
    }

    /// Reads an instant that must be there.
    func decodeTimestamp(forKey key: Key) throws -> Date {
        guard let date = try decodeTimestampIfPresent(forKey: key) else {
            throw DecodingError.valueNotFound(
                Date.self, .init(codingPath: codingPath + [key], debugDescription: "the instant is null"))
        }
        return date
    }
}
