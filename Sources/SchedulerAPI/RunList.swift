import Foundation

/// `GET /api/v1/runs`: the latest runs, newest first.
public struct RunList: Codable, Sendable, Hashable {
    /// The runs, without their detail.
    public var runs: [Run]

    /// A page of runs.
    public init(runs: [Run]) {
        self.runs = runs
    }
}
