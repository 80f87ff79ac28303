import SchedulerAPI
import Workflows

extension WebhookReceipt {
    /// The receipt as the JSON its `Encodable` conformance writes (`trace_id` null when tracing is
    /// off; `reason` and `duplicate` only when set), for answers written without an encoder: the 202
    /// of every accepted delivery is one.
    var jsonValue: JSONValue {
        var members: [String: JSONValue] = [
            "run_id": .string(runID), "trace_id": traceID.map(JSONValue.string) ?? .null, "state": .string(state),
        ]
        if let reason { members["reason"] = .string(reason) }
        if let duplicate { members["duplicate"] = .bool(duplicate) }
        return .object(members)
    }
}
