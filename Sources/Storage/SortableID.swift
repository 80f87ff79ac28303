import Foundation
import Synchronization

/// Identifiers that sort by creation order: a prefix, 10 characters of milliseconds since the epoch and
/// 16 characters of a random 80-bit number, in Crockford's base 32 (the ULID layout):
/// `run_01JD3X5Q2M8ZK4T7V9W1XYZ0AB`. Within one process they are strictly increasing: an id made in
/// the same millisecond as the previous one (or while the clock stepped back) takes the previous one's
/// time and random part plus one, so runs stored in one transaction list in the order they were made.
public enum SortableID {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    private struct Last {
        var milliseconds: UInt64 = 0
        /// The 80 random bits: 16 high, 64 low.
        var high: UInt16 = 0
        var low: UInt64 = 0
    }

    private static let last = Mutex(Last())

    /// The smallest id that can be made at `date`: every id made earlier sorts before it.
    public static func lowest(_ prefix: String, at date: Date) -> String {
        var time = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down)))
        var characters = [Character](repeating: "0", count: 26)
        for i in stride(from: 9, through: 0, by: -1) {
            characters[i] = alphabet[Int(time & 31)]
            time >>= 5
        }
        return prefix + "_" + String(characters)
    }

    /// A new id, greater than every id made before it in this process.
    /// - Parameter prefix: `run`, `sch`, `dlv`…
    public static func make(_ prefix: String) -> String {
        let now = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        let (milliseconds, high, low) = last.withLock { last -> (UInt64, UInt16, UInt64) in
            if now > last.milliseconds {
                var random = SystemRandomNumberGenerator()
                // The top bit stays clear so that increments within a millisecond cannot overflow.
                last = Last(milliseconds: now, high: UInt16.random(in: 0...0x7FFF, using: &random), low: random.next())
            } else {
                let (sum, overflow) = last.low.addingReportingOverflow(1)
                last.low = sum
                if overflow { last.high &+= 1 }
            }
            return (last.milliseconds, last.high, last.low)
        }
        var characters = [Character](repeating: "0", count: 26)
        var time = milliseconds
        for i in stride(from: 9, through: 0, by: -1) {
            characters[i] = alphabet[Int(time & 31)]
            time >>= 5
        }
        // 80 bits as 16 groups of 5, most significant first.
        var lowBits = low
        for i in stride(from: 25, through: 14, by: -1) {
            characters[i] = alphabet[Int(lowBits & 31)]
            lowBits >>= 5
        }
        // Character 13 takes the top 4 bits of `low` and the lowest bit of `high`.
        characters[13] = alphabet[Int(lowBits & 15) | Int(high & 1) << 4]
        var highBits = high >> 1
        for i in stride(from: 12, through: 10, by: -1) {
            characters[i] = alphabet[Int(highBits & 31)]
            highBits >>= 5
        }
        return prefix + "_" + String(characters)
    }
}
