import Crypto
import Foundation
import Storage

/// Webhook secrets: made per scheme, stored so that they can verify (only a hash for tokens), and
/// checked against what a request presents.
public enum WebhookSecret {
    /// A new secret for `scheme`, as the sender is given it: 32 random bytes as hex for `github` and
    /// `token`, `whsec_` and 32 random bytes in base64 for `standard`.
    public static func make(_ scheme: WebhookScheme) -> String {
        let bytes = randomBytes(32)
        switch scheme {
        case .github, .token: return hex(bytes)
        case .standard: return "whsec_" + Data(bytes).base64EncodedString()
        }
    }

    /// What the store keeps for a secret given to the sender: the secret itself where the scheme signs
    /// with it, `sha256:<hex>` of a token.
    public static func stored(_ secret: String, scheme: WebhookScheme) -> String {
        switch scheme {
        case .github, .standard: return secret
        case .token: return "sha256:" + hex(Array(SHA256.hash(data: Data(secret.utf8))))
        }
    }

    /// The key a `standard` secret signs with (the bytes after `whsec_`, base64); a secret that is not
    /// in that form signs with its own bytes.
    public static func standardKey(_ secret: String) -> SymmetricKey {
        if secret.hasPrefix("whsec_"), let bytes = Data(base64Encoded: String(secret.dropFirst(6))), !bytes.isEmpty {
            return SymmetricKey(data: bytes)
        }
        return SymmetricKey(data: Data(secret.utf8))
    }

    /// Whether `token` is the one `stored` was made from (`sha256:<hex>`, or a plain secret from the
    /// environment); the comparison takes the same time wherever the two differ.
    public static func tokenMatches(_ token: String, stored: String) -> Bool {
        let presented = Array(SHA256.hash(data: Data(token.utf8)))
        let expected: [UInt8]
        if stored.hasPrefix("sha256:"), let bytes = unhex(String(stored.dropFirst(7))) {
            expected = bytes
        } else {
            expected = Array(SHA256.hash(data: Data(stored.utf8)))
        }
        return constantTimeEqual(presented, expected)
    }

    /// True when the two byte strings are equal; the time taken depends only on their lengths.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }

    /// `count` bytes from the system's secure random source.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// A new admin token for the API: 32 random bytes, hex (what `<data-dir>/admin.token` holds).
    public static func adminToken() -> String {
        hex(randomBytes(32))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Hex (either case) to bytes; `nil` when it is not hex.
    public static func unhex(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var i = 0
        while i < utf8.count {
            guard let high = nibble(utf8[i]), let low = nibble(utf8[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
            i += 2
        }
        return bytes
    }
}
