import Foundation

/// `POST /hooks/{name}`'s answer: 202 once the run is stored, 200 with `duplicate` for a delivery id
/// seen before (the first delivery's run).
///
/// ```swift
/// let receipt = try WireFormat.decode(WebhookReceipt.self, from: body)
/// print(receipt.runID, receipt.state)
/// ```
public struct WebhookReceipt: Sendable, Hashable {
    /// The delivery's run.
    public var runID: String
    /// Its trace, `tr-<32 hex>`; `nil` when tracing is off.
    public var traceID: String?
    /// `queued`, or `skipped` when the schedule's overlap policy said so.
    public var state: String
    /// Why the run was not queued, when it was not.
    public var reason: String?
    /// `true` when the delivery id was seen before: no new run was made.
    public var duplicate: Bool?

    /// A delivery's answer.
    public init(runID: String, traceID: String?, state: String, reason: String? = nil, duplicate: Bool? = nil) {
        self.runID = runID
        self.traceID = traceID
        self.state = state
        self.reason = reason
        self.duplicate = duplicate
    }
}

extension WebhookReceipt: Codable {
    enum CodingKeys: String, CodingKey {
        case state, reason, duplicate
        case runID = "run_id"
        case traceID = "trace_id"
    }

    /// Reads a receipt.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        runID = try c.decode(String.self, forKey: .runID)
        traceID = try c.decodeIfPresent(String.self, forKey: .traceID)
        state = try c.decode(String.self, forKey: .state)
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        duplicate = try c.decodeIfPresent(Bool.self, forKey: .duplicate)
    }

    /// Writes `run_id`, `trace_id` (or `null`), `state`, and `reason` and `duplicate` when set.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(runID, forKey: .runID)
        try c.encodeNullable(traceID, forKey: .traceID)
        try c.encode(state, forKey: .state)
        try c.encodeIfPresent(reason, forKey: .reason)
        try c.encodeIfPresent(duplicate, forKey: .duplicate)
    }
}
