import Foundation

/// `POST /api/v1/runs/{id}/cancel`'s answer: 202 with `cancelling` while a running run is stopped,
/// 200 with `cancelled` for a queued one.
public struct CancelledRun: Codable, Sendable, Hashable {
    /// The run.
    public var runID: String
    /// `cancelling` or `cancelled`.
    public var state: String

    enum CodingKeys: String, CodingKey {
        case state
        case runID = "run_id"
    }

    /// A cancel's answer.
    public init(runID: String, state: String) {
        self.runID = runID
        self.state = state
    }
}
