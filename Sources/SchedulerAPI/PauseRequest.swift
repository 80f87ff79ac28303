import Foundation

/// `POST /api/v1/schedules/{id}/pause`'s body (it may also be empty).
public struct PauseRequest: Codable, Sendable, Hashable {
    /// Why, for whoever looks next; at most 1024 characters.
    public var note: String?

    /// A pause request.
    public init(note: String? = nil) {
        self.note = note
    }

    /// Reads the body, refusing fields other than `note`.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(["note"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        note = try c.decodeIfPresent(String.self, forKey: .note)
    }
}
