/// SplitMix64 (Steele, Lea and Flood): small, fast and well mixed; seeded so that failures reproduce.
public struct SplitMix64: RandomNumberGenerator {
    /// The generator's whole state: two generators with the same state give the same numbers.
    public var state: UInt64

    /// A generator starting from `seed`; any value, 0 included, is a good seed.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `range`, by multiply-high (the same on every platform and Swift version).
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) &+ 1
        if width == 0 { return Int(truncatingIfNeeded: next()) }
        return range.lowerBound + Int(next().multipliedFullWidth(by: width).high)
    }

    /// True with probability `p` (0 never, 1 always), from 53 random bits.
    public mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(UInt64(1) << 53) < p }

    /// One of `items`, chosen uniformly; `items` must not be empty.
    public mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }

    /// Mixes several numbers into one seed.
    public static func mix(_ parts: UInt64...) -> UInt64 {
        var rng = SplitMix64(seed: 0x5EED_C0DE_CAFE_F00D)
        for part in parts { rng.state ^= part; _ = rng.next() }
        return rng.next()
    }
}
