import Crypto
import Foundation
import Scheduling
import Synchronization

/// The status pages' sessions: who typed the admin token into the login form, for how long, and the
/// token each of their forms must carry back (CSRF).
///
/// A session is a signed cookie, `<expiry>.<nonce>.<signature>`, and nothing is stored for it: the
/// signature is an HMAC under a key derived from the admin token, so a session outlives a restart and
/// works on every daemon sharing the token, and changing the token ends every session. Logging out
/// revokes the session's nonce in this process until it would have expired anyway. A form's CSRF
/// token is another HMAC of the nonce, so it is valid for that session only.
///
/// ```swift
/// let sessions = PageSessions(token: adminToken)
/// let (cookie, session) = sessions.open(now: now)          // after a good login
/// sessions.session(from: cookie, now: now)?.csrf           // on every later request
/// ```
final class PageSessions: Sendable {
    /// One logged-in browser.
    struct Session: Sendable, Hashable {
        /// Random, unique to the session.
        var nonce: String
        /// When the cookie stops being accepted.
        var expires: Date
        /// What every form of this session must send back as `csrf`.
        var csrf: String
    }

    /// The session cookie's name.
    static let cookieName = "schedulerd_session"
    /// The name of the cookie a login form is paired with (the form's `csrf` must equal it).
    static let loginCookieName = "schedulerd_login"
    /// How long a session lasts after logging in.
    let lifetime: TimeInterval
    private let key: SymmetricKey
    private let revoked = Mutex<[String: Date]>([:])

    /// Sessions signed under a key derived from `token`.
    init(token: String, lifetime: TimeInterval = 12 * 3600) {
        self.lifetime = lifetime
        key = SymmetricKey(
            data: HMAC<SHA256>.authenticationCode(
                for: Data("schedulerd status pages v1".utf8), using: SymmetricKey(data: Data(token.utf8))))
    }

    /// A new session from `now`, and its cookie value.
    func open(now: Date) -> (cookie: String, session: Session) {
        let nonce = Self.random(bytes: 18)
        let expires = Int64(now.timeIntervalSince1970 + lifetime)
        let body = "\(expires).\(nonce)"
        return (
            "\(body).\(sign(body))",
            Session(nonce: nonce, expires: Date(timeIntervalSince1970: TimeInterval(expires)), csrf: csrf(for: nonce))
        )
    }

    /// The session a cookie value stands for: `nil` when it is malformed, not signed by this token,
    /// expired, or logged out.
    func session(from cookie: String?, now: Date) -> Session? {
        guard let cookie else { return nil }
        let parts = cookie.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expires = Int64(parts[0]), !parts[1].isEmpty else { return nil }
        let body = "\(parts[0]).\(parts[1])"
        guard WebhookSecret.constantTimeEqual(Array(sign(body).utf8), Array(parts[2].utf8)) else { return nil }
        let expiry = Date(timeIntervalSince1970: TimeInterval(expires))
        guard expiry > now else { return nil }
        let nonce = String(parts[1])
        guard revoked.withLock({ $0[nonce] == nil }) else { return nil }
        return Session(nonce: nonce, expires: expiry, csrf: csrf(for: nonce))
    }

    /// Ends `session` in this process (its cookie is refused from now on); forgets sessions that
    /// expired meanwhile.
    func revoke(_ session: Session, now: Date) {
        revoked.withLock { revoked in
            revoked = revoked.filter { $0.value > now }
            revoked[session.nonce] = session.expires
        }
    }

    /// True when `given` is `session`'s CSRF token; the comparison takes the same time whatever it is.
    func checks(_ given: String?, for session: Session) -> Bool {
        WebhookSecret.constantTimeEqual(Array((given ?? "").utf8), Array(session.csrf.utf8))
    }

    /// A fresh value for the login form and its paired cookie.
    static func loginToken() -> String { random(bytes: 18) }

    private func csrf(for nonce: String) -> String { sign("csrf.\(nonce)") }

    private func sign(_ text: String) -> String {
        Self.base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key)))
    }

    private static func random(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL(Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }))
    }

    /// Base64 with `-` and `_` and no padding: safe in a cookie, a form and a URL.
    private static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
