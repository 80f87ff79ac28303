import Foundation

/// `POST /hooks/{name}?wait=30s`'s 200 when the run ended in time: the run as
/// `GET /api/v1/runs/{id}` shows it, and `run_id` as in a ``WebhookReceipt``.
public struct WebhookRunResult: Sendable, Hashable {
    /// The finished run, with its detail.
    public var run: Run

    /// A waited-for run.
    public init(run: Run) {
        self.run = run
    }
}

extension WebhookRunResult: Codable {
    enum CodingKeys: String, CodingKey {
        case runID = "run_id"
    }

    /// Reads the run.
    public init(from decoder: any Decoder) throws {
        run = try Run(from: decoder)
    }

    /// Writes the run's fields and `run_id`.
    public func encode(to encoder: any Encoder) throws {
        try run.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(run.id, forKey: .runID)
    }
}
