import Foundation

/// `POST /api/v1/schedules/{id}/run`'s 202: the run is stored and queued.
public struct StartedRun: Sendable, Hashable {
    /// The new run.
    public var runID: String
    /// Its trace, `tr-<32 hex>`; `nil` when tracing is off.
    public var traceID: String?
    /// `queued`, or `skipped` when the schedule's overlap policy said so.
    public var state: String
    /// A link to the trace in the MLflow UI, when the daemon knows one.
    public var traceURL: String?

    /// A started run.
    public init(runID: String, traceID: String?, state: String, traceURL: String?) {
        self.runID = runID
        self.traceID = traceID
        self.state = state
        self.traceURL = traceURL
    }
}

extension StartedRun: Codable {
    enum CodingKeys: String, CodingKey {
        case state
        case runID = "run_id"
        case traceID = "trace_id"
        case traceURL = "trace_url"
    }

    /// Reads a started run.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        runID = try c.decode(String.self, forKey: .runID)
        traceID = try c.decodeIfPresent(String.self, forKey: .traceID)
        state = try c.decode(String.self, forKey: .state)
        traceURL = try c.decodeIfPresent(String.self, forKey: .traceURL)
    }

    /// Writes `run_id`, `trace_id` (or `null`), `state`, and `trace_url` when there is one.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(runID, forKey: .runID)
        try c.encodeNullable(traceID, forKey: .traceID)
        try c.encode(state, forKey: .state)
        try c.encodeIfPresent(traceURL, forKey: .traceURL)
    }
}
