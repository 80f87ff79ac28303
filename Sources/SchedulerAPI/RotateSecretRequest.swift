import Foundation

/// `POST /api/v1/schedules/{id}/secret/rotate`'s body (it may also be empty).
public struct RotateSecretRequest: Codable, Sendable, Hashable {
    /// How long the old secret keeps working: a duration from `0s` to `30d` (default `24h`).
    public var grace: String?

    /// A rotate request.
    public init(grace: String? = nil) {
        self.grace = grace
    }

    /// Reads the body, refusing fields other than `grace`.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(["grace"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        grace = try c.decodeIfPresent(String.self, forKey: .grace)
    }
}
