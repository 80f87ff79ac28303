import Foundation

/// `POST /api/v1/runs/{id}/cancel`'s body (it may also be empty).
public struct CancelRunRequest: Codable, Sendable, Hashable {
    /// Why, kept in the run's error; at most 1024 characters.
    public var reason: String?

    /// A cancel request.
    public init(reason: String? = nil) {
        self.reason = reason
    }

    /// Reads the body, refusing fields other than `reason`.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(["reason"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
    }
}
