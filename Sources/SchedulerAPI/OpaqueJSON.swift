import Foundation

/// A JSON value the API carries without a schema of its own: a schedule's `input`, a run's `input`
/// and `output`.
///
/// Whole numbers that fit in 64 bits stay integers, so `{"days": 7}` reads back as `7` and not
/// `7.0`; other numbers are `Double`s. A number that is not finite is written as `null`, the only
/// JSON it has.
///
/// ```swift
/// let input: OpaqueJSON = ["region": "eu", "days": 7]
/// let body = ManualRunRequest(input: input)
/// ```
public enum OpaqueJSON: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([OpaqueJSON])
    case object([String: OpaqueJSON])

    /// The members of an object; `nil` for any other value.
    public var objectValue: [String: OpaqueJSON]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// What kind of value this is, as messages name it: `null`, `boolean`, `number`, `string`,
    /// `array` or `object`.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer, .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension OpaqueJSON: Codable {
    /// Reads any JSON value; integers stay integers when they fit in 64 bits.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let n = try? container.decode(Int64.self) {
            self = .integer(n)
        } else if let x = try? container.decode(Double.self) {
            self = .number(x)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let elements = try? container.decode([OpaqueJSON].self) {
            self = .array(elements)
        } else {
            self = .object(try container.decode([String: OpaqueJSON].self))
        }
    }

    /// Writes the value as it is; a number that is not finite becomes `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .integer(let n): try container.encode(n)
        case .number(let x) where x.isFinite: try container.encode(x)
        case .number: try container.encodeNil()
        case .string(let text): try container.encode(text)
        case .array(let elements): try container.encode(elements)
        case .object(let members): try container.encode(members)
        }
    }
}

extension OpaqueJSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// A string: `"eu"`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer: `7`.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// A boolean: `true`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An array: `[1, "two"]`.
    public init(arrayLiteral elements: OpaqueJSON...) { self = .array(elements) }
    /// An object: `["days": 7]`; a key given twice keeps its last value.
    public init(dictionaryLiteral elements: (String, OpaqueJSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
