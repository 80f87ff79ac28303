import Foundation

@testable import Cron

/// The first `count` fires of `expression` strictly after `after` (ISO 8601), as UTC strings.
func utcFires(
    _ expression: String, tz: String = "UTC", after: String, count: Int,
    options: CronExpression.Options = .init()
) throws -> [String] {
    var options = options
    options.timeZone = tz
    let cron = try CronExpression(expression, options: options)
    let start = try CronTime.parseInstant(after, timeZone: tz)
    return cron.fires(after: Date(timeIntervalSince1970: start)).prefix(count).map {
        CronFire.iso8601UTC(unixSeconds: $0.unixSeconds)
    }
}

/// The message of the error that parsing `expression` throws, or `nil` when it parses.
func parseError(_ expression: String, options: CronExpression.Options = .init()) -> String? {
    do {
        _ = try CronExpression(expression, options: options)
        return nil
    } catch {
        return error.description
    }
}

/// SplitMix64 (Steele, Lea and Flood): small, fast and well mixed; seeded so that failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `range`, by multiply-high (the same on every platform and Swift version).
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) &+ 1
        if width == 0 { return Int(truncatingIfNeeded: next()) }
        return range.lowerBound + Int(next().multipliedFullWidth(by: width).high)
    }

    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(UInt64(1) << 53) < p }

    mutating func pick<T>(_ items: [T]) -> T { items[int(0...items.count - 1)] }

    /// Mixes several numbers into one seed.
    static func mix(_ parts: UInt64...) -> UInt64 {
        var rng = SplitMix64(seed: 0x5EED_C0DE_CAFE_F00D)
        for part in parts { rng.state ^= part; _ = rng.next() }
        return rng.next()
    }
}
