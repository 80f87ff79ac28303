import Foundation

/// The JSON the daemon writes and the `schedule` CLI reads: compact, keys sorted, `/` left as it is.
/// Both sides use these two functions, so what one encodes the other decodes.
///
/// ```swift
/// let data = try WireFormat.encode(PauseRequest(note: "maintenance"))
/// let list = try WireFormat.decode(ScheduleList.self, from: answer)
/// ```
public enum WireFormat {
    /// The value as JSON.
    /// - Throws: `EncodingError` when a value has no JSON form (no wire type has one).
    public static func encode<Value: Encodable>(_ value: Value) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// A value read from JSON.
    /// - Throws: `DecodingError` for JSON of the wrong shape, and ``SchedulerAPIError`` with
    ///   ``SchedulerAPIError/Code/unknownField`` for a request with a field its type does not have.
    public static func decode<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> Value {
        try JSONDecoder().decode(type, from: data)
    }
}
