import Foundation

/// `POST /api/v1/schedules/{id}/run`'s body (it may also be empty).
public struct ManualRunRequest: Codable, Sendable, Hashable {
    /// A JSON object merged over the schedule's input for this run.
    public var input: OpaqueJSON?

    /// A run request.
    public init(input: OpaqueJSON? = nil) {
        self.input = input
    }

    /// Reads the body, refusing fields other than `input`.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(["input"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        input = try c.decodeIfPresent(OpaqueJSON.self, forKey: .input)
    }
}
