import Foundation

/// A JSON value: the workflow state, node updates, inputs and outputs.
///
/// Numbers keep the difference between whole numbers and fractions (`3` stays `3`, not `3.0`), so a
/// state read back from a script or an HTTP response looks the way it was written.
///
/// ```swift
/// let state: JSONValue = ["day": "2024-03-10", "kwh": 12.5, "tags": ["a", "b"]]
/// state["kwh"]         // .number(12.5)
/// state[path: "tags"]  // .array([...])
/// ```
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The members of an object, or `nil`.
    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The elements of an array, or `nil`.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The text of a string, or `nil`.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// A number as a `Double` (integers included), or `nil`.
    public var doubleValue: Double? {
        switch self {
        case .integer(let n): return Double(n)
        case .number(let x): return x
        default: return nil
        }
    }

    /// The member named `key` of an object; `nil` for other values and missing keys.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// The name JSON gives the value's type, for error messages.
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

    /// The type with its article, for error messages: "an array", "a string".
    var typeWithArticle: String {
        switch self {
        case .array, .object: "an \(typeName)"
        case .null: "null"
        default: "a \(typeName)"
        }
    }

    /// Truthiness for route conditions: `null`, `false`, `0`, `""`, `[]` and `{}` are false.
    public var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let flag): flag
        case .integer(let n): n != 0
        case .number(let x): x != 0
        case .string(let text): !text.isEmpty
        case .array(let elements): !elements.isEmpty
        case .object(let members): !members.isEmpty
        }
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// `nil` written where a value is expected: ``null``.
    public init(nilLiteral: ()) { self = .null }
    /// `true` or `false`: ``bool(_:)``.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// A whole number such as `3`: ``integer(_:)``, which keeps it from becoming `3.0`.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// A number with a fraction or exponent such as `12.5`: ``number(_:)``.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// A string literal: ``string(_:)``.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An array literal of values: ``array(_:)``.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// A dictionary literal with string keys: ``object(_:)``. When a key repeats, its last value wins.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

// MARK: - JSON text

extension JSONValue: Codable {
    /// Decodes any JSON value: a number the decoder can read as an `Int64` becomes ``integer(_:)``,
    /// other numbers ``number(_:)``.
    /// - Throws: `DecodingError` when the decoder holds something that is not a JSON value.
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
        } else if let elements = try? container.decode([JSONValue].self) {
            self = .array(elements)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Encodes the value as the JSON it stands for. A number that is not finite (NaN, infinity) is
    /// encoded as `0`, since JSON cannot hold it; ``jsonText`` writes `null` instead.
    /// - Throws: what the encoder throws.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .integer(let n): try container.encode(n)
        case .number(let x): try container.encode(x.isFinite ? x : 0)
        case .string(let text): try container.encode(text)
        case .array(let elements): try container.encode(elements)
        case .object(let members): try container.encode(members)
        }
    }

    /// Parses JSON text (one value; integers that fit in 64 bits stay integers).
    /// - Throws: ``WorkflowError`` ``WorkflowError/Code/invalidJSON`` with the byte offset when the bytes are not JSON.
    public init(json: Data) throws(WorkflowError) {
        self = try JSONParser.parse(Array(json))
    }

    /// Parses JSON text that may nest at most `maxDepth` levels (fewer than the parser's own 512),
    /// for values that will be stored inside others and read back: a webhook payload becomes
    /// `trigger.payload` of a run's state, two levels further down.
    /// - Throws: ``WorkflowError`` ``WorkflowError/Code/invalidJSON`` when the bytes are not JSON, ``WorkflowError/Code/jsonTooDeep`` when they nest deeper.
    public init(json: Data, maxDepth: Int) throws(WorkflowError) {
        self = try JSONParser.parse(Array(json), maxDepth: min(maxDepth, JSONParser.maxDepth))
    }

    /// How deep a value sent from outside may nest, leaving room for the levels the daemon adds
    /// around it.
    public static let maximumInputDepth = 500

    /// Compact JSON with sorted keys: stable, so spans and stored records compare byte for byte.
    public var jsonText: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        write(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``jsonText`` to `bytes`, without making a string: for writers that put JSON values
    /// inside text of their own (`schedule next --json`).
    public func write(to bytes: inout [UInt8]) {
        switch self {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .integer(let n): bytes.append(contentsOf: String(n).utf8)
        case .number(let x):
            if x.isFinite, x == x.rounded(), abs(x) < 1e15 {
                bytes.append(contentsOf: String(Int64(x)).utf8)
            } else {
                bytes.append(contentsOf: (x.isFinite ? "\(x)" : "null").utf8)
            }
        case .string(let s): Self.writeString(s, to: &bytes)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                element.write(to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (i, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                Self.writeString(member.key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                member.value.write(to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A JSON string literal: quotes, backslashes and control characters escaped, everything else
    /// copied as UTF-8.
    private static func writeString(_ s: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            var start = 0
            for (i, byte) in utf8.enumerated()
            where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i]))
                start = i + 1
                switch byte {
                case UInt8(ascii: "\""): bytes.append(contentsOf: "\\\"".utf8)
                case UInt8(ascii: "\\"): bytes.append(contentsOf: "\\\\".utf8)
                case UInt8(ascii: "\n"): bytes.append(contentsOf: "\\n".utf8)
                case UInt8(ascii: "\r"): bytes.append(contentsOf: "\\r".utf8)
                case UInt8(ascii: "\t"): bytes.append(contentsOf: "\\t".utf8)
                default:
                    bytes.append(contentsOf: "\\u00".utf8)
                    bytes.append(hexDigits[Int(byte >> 4)])
                    bytes.append(hexDigits[Int(byte & 15)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text with sorted keys, as ``jsonText`` writes it.
    public var description: String { jsonText }
}
