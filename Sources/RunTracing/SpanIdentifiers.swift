import Synchronization

/// A 128-bit OTLP trace id. MLflow's trace id is `tr-` followed by its hex form.
public struct TraceID: Sendable, Hashable, CustomStringConvertible {
    /// The first 64 bits, the first 16 digits of ``hex``.
    public var high: UInt64
    /// The last 64 bits, the last 16 digits of ``hex``.
    public var low: UInt64

    /// A trace id from its two halves. All zeros is not a valid OTLP trace id; ``random()`` never makes it.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// 32 lowercase hex digits.
    public var hex: String { Hex.encode(high) + Hex.encode(low) }
    /// The id MLflow shows and answers to: `tr-<hex>`.
    public var mlflowTraceID: String { "tr-" + hex }
    /// The 32 hex digits of ``hex``, without MLflow's `tr-`.
    public var description: String { hex }

    /// Reads 32 hex digits, in either case; `nil` for any other length or a character that is not one.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 32, let high = Hex.decode(utf8[0..<16]), let low = Hex.decode(utf8[16..<32]) else {
            return nil
        }
        self.init(high: high, low: low)
    }

    /// A new random trace id.
    public static func random() -> TraceID {
        var id = TraceID(high: IDGenerator.next(), low: IDGenerator.next())
        if id.high == 0 && id.low == 0 { id.low = 1 }
        return id
    }
}

/// A 64-bit OTLP span id.
public struct SpanID: Sendable, Hashable, CustomStringConvertible {
    /// The id as a number. 0 is not a valid OTLP span id; ``random()`` never returns it.
    public var value: UInt64

    /// A span id from its number.
    public init(_ value: UInt64) { self.value = value }

    /// 16 lowercase hex digits.
    public var hex: String { Hex.encode(value) }
    /// The 16 hex digits of ``hex``.
    public var description: String { hex }

    /// Reads 16 hex digits, in either case; `nil` for any other length or a character that is not one.
    public init?(hex: some StringProtocol) {
        let utf8 = Array(hex.utf8)
        guard utf8.count == 16, let value = Hex.decode(utf8[...]) else { return nil }
        self.value = value
    }

    /// A new random span id, never 0. Unique enough to tell spans apart; not meant to be secret.
    public static func random() -> SpanID {
        let v = IDGenerator.next()
        return SpanID(v == 0 ? 1 : v)
    }
}

/// Random ids without a system call per id: a SplitMix64 sequence seeded once from the system
/// generator, advanced atomically (ids need to be unique and unpredictable enough, not secret).
enum IDGenerator {
    private static let state = Atomic<UInt64>(UInt64.random(in: .min ... .max))

    static func next() -> UInt64 {
        let s = state.wrappingAdd(0x9e37_79b9_7f4a_7c15, ordering: .relaxed).newValue
        var z = s
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Hex digits for the ids, shared with the OTLP encoder of MLflowTracing.
package enum Hex {
    /// The 16 lowercase hex digits as UTF-8 bytes.
    package static let digits = Array("0123456789abcdef".utf8)

    /// The 16 lowercase hex digits of `v`.
    package static func encode(_ v: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            for i in 0..<16 { buffer[i] = digits[Int((v >> UInt64(60 - 4 * i)) & 0xF)] }
            return 16
        }
    }

    /// Up to 16 hex digits (either case); `nil` when any is not one.
    package static func decode(_ digits: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for byte in digits {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }
}
