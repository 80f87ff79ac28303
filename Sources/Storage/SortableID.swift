import Foundation

/// Identifiers that sort by creation time: a prefix, 10 characters of milliseconds since the epoch and
/// 16 random characters, in Crockford's base 32 (the ULID layout): `run_01JD3X5Q2M8ZK4T7V9W1XYZ0AB`.
public enum SortableID {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    /// A new id.
    /// - Parameters:
    ///   - prefix: `run`, `sch`, `dlv`…
    ///   - milliseconds: the time it sorts by; default now.
    public static func make(_ prefix: String, milliseconds: UInt64 = UInt64(Date().timeIntervalSince1970 * 1000))
        -> String
    {
        var characters = [Character](repeating: "0", count: 26)
        var time = milliseconds
        for i in stride(from: 9, through: 0, by: -1) {
            characters[i] = alphabet[Int(time & 31)]
            time >>= 5
        }
        var random = SystemRandomNumberGenerator()
        for i in 10..<26 { characters[i] = alphabet[Int.random(in: 0..<32, using: &random)] }
        return prefix + "_" + String(characters)
    }
}
