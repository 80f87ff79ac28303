import Foundation
import SchedulerAPI
import Scheduling
import Storage
import Support
import Workflows

extension Run {
    /// A stored run as the API shows it.
    /// - Parameters:
    ///   - traceURL: the MLflow UI's link for a trace id, when the daemon knows one.
    ///   - detail: with the run's input, output and dedupe key (the answer about this one run).
    init(_ record: RunRecord, traceURL: (String) -> String?, detail: Bool) {
        var duration: Int64?
        if let started = record.startedAt, let finished = record.finishedAt {
            duration = Int64(saturating: (finished.timeIntervalSince(started) * 1000).rounded())
        }
        self.init(
            id: record.id, scheduleID: record.scheduleID, workflow: record.workflow, trigger: record.trigger,
            fireTime: record.nominalTime, state: record.state.rawValue, queuedAt: record.queuedAt,
            startedAt: record.startedAt, finishedAt: record.finishedAt, traceID: record.traceID,
            error: record.error, durationMs: duration, traceURL: record.traceID.flatMap(traceURL),
            detail: detail
                ? Detail(
                    dedupeKey: record.dedupeKey, input: OpaqueJSON(stored: record.inputJSON),
                    output: record.outputJSON.flatMap { try? JSONValue(json: Data($0.utf8)) }.map(OpaqueJSON.init))
                : nil,
            nodes: Self.nodes(record.nodesJSON), instance: record.owner, attempt: record.fireAttempt,
            retryOf: record.retryOf)
    }

    /// The node records a run stored (JSON text of an array); none for text that does not read.
    static func nodes(_ json: String?) -> [RunNode] {
        guard let json else { return [] }
        return (try? WireFormat.decode([RunNode].self, from: Data(json.utf8))) ?? []
    }
}
