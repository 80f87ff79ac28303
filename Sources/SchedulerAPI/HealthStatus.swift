import Foundation

/// `GET /healthz` (always `ok` while the process answers) and `GET /readyz` (`ready` or `not ready`
/// with the reason in `detail`).
public struct HealthStatus: Codable, Sendable, Hashable {
    /// `ok`, `ready` or `not ready`.
    public var status: String
    /// Why it is (not) ready; `nil` for `/healthz`.
    public var detail: String?

    /// A health answer.
    public init(status: String, detail: String? = nil) {
        self.status = status
        self.detail = detail
    }
}
