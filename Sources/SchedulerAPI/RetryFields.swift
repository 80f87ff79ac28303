import Foundation

/// A schedule's retry policy on the wire, as a schedule file writes it: in a request's
/// ``ScheduleFields/retry`` (where every field but `attempts` may be left out) and in a
/// ``Schedule`` as stored (every field given).
///
/// ```json
/// {"attempts": 3, "backoff": "30s", "max_backoff": "10m", "on": ["failed", "timed_out", "interrupted"]}
/// ```
public struct RetryFields: Sendable, Hashable {
    /// Runs per fire at most, the first included (1: no retries).
    public var attempts: Int?
    /// The wait before the second attempt (`30s`); it doubles for each one after.
    public var backoff: String?
    /// The longest wait (`10m`).
    public var maxBackoff: String?
    /// The ends that are retried: some of `failed`, `timed_out` and `interrupted`.
    public var on: [String]?

    /// Every field as written in JSON.
    public static let fieldNames = Set(CodingKeys.allCases.map(\.rawValue))

    /// A policy for a request or a response.
    public init(attempts: Int? = nil, backoff: String? = nil, maxBackoff: String? = nil, on: [String]? = nil) {
        self.attempts = attempts
        self.backoff = backoff
        self.maxBackoff = maxBackoff
        self.on = on
    }
}

extension RetryFields: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case attempts, backoff, on
        case maxBackoff = "max_backoff"
    }

    /// Reads a policy, refusing any field not in ``fieldNames``.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(Self.fieldNames)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        attempts = try c.decodeIfPresent(Int.self, forKey: .attempts)
        backoff = try c.decodeIfPresent(String.self, forKey: .backoff)
        maxBackoff = try c.decodeIfPresent(String.self, forKey: .maxBackoff)
        on = try c.decodeIfPresent([String].self, forKey: .on)
    }
}
