import Foundation
import RunTracing
import SchedulerTesting

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Reads traces back through MLflow's REST API, the way a person's tools would see them.
public struct MLflowReader: Sendable {

    /// One span as MLflow's REST API returns it (OTLP proto-JSON: ids in base64, attributes as
    /// `{key, value: {string_value | int_value | …}}`), with values decoded.
    public struct Span: @unchecked Sendable {
        /// The span's name (in schedulerd's traces: the workflow's at the root, a node's below it).
        public var name: String
        /// The span's id, 16 hex digits.
        public var spanID: String  // hex
        /// The parent span's id, 16 hex digits; `nil` for the root.
        public var parentSpanID: String?  // hex
        /// `STATUS_CODE_OK`, `STATUS_CODE_ERROR` or `STATUS_CODE_UNSET`; empty when MLflow gave none.
        public var statusCode: String  // STATUS_CODE_OK / STATUS_CODE_ERROR / STATUS_CODE_UNSET
        /// The error's message for an ERROR span; otherwise empty.
        public var statusMessage: String
        /// When the span started, in nanoseconds since the Unix epoch.
        public var startNanos: UInt64
        /// When the span ended, in nanoseconds since the Unix epoch.
        public var endNanos: UInt64
        /// Attribute values: String, Int, Double, Bool, [Any] or [String: Any].
        public var attributes: [String: Any]
        /// The span's events in order, each with its decoded attributes.
        public var events: [(name: String, attributes: [String: Any])]

        /// The attribute `key` as decoded, or `nil` when the span has none.
        public func attribute(_ key: String) -> Any? { attributes[key] }
        /// The attribute `key` when it is a string; `nil` otherwise.
        public func string(_ key: String) -> String? { attributes[key] as? String }
        /// The attribute `key` when it is an integer; `nil` otherwise.
        public func int(_ key: String) -> Int? { attributes[key] as? Int }
        /// The attribute `key` when it is a Boolean; `nil` otherwise.
        public func bool(_ key: String) -> Bool? { attributes[key] as? Bool }

        /// A string attribute holding JSON (inputs, outputs), parsed.
        public func json(_ key: String) -> Any? {
            guard let text = string(key) else { return attributes[key] }
            return try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)
        }
    }

    /// One trace as MLflow's REST API returns it: its info and its spans.
    public struct Trace: Sendable {
        /// MLflow's trace state: `OK`, `ERROR` or `IN_PROGRESS`.
        public var state: String
        /// The trace's tags, such as `run_id`, `schedule_id` and `trigger`.
        public var tags: [String: String]
        /// Every span MLflow has for the trace so far, in the order it lists them.
        public var spans: [Span]
        /// What the trace list's Request column shows: MLflow's preview of the root span's inputs.
        public var requestPreview: String?
        /// The trace's metadata, such as `mlflow.trace.tokenUsage` (a JSON text) that the trace list's
        /// Tokens column shows.
        public var metadata: [String: String] = [:]

        /// The first span called `name`, or `nil` when there is none.
        public func span(named name: String) -> Span? { spans.first { $0.name == name } }
        /// The span without a parent; `nil` when it has not arrived.
        public var root: Span? { spans.first { $0.parentSpanID == nil } }
        /// The spans whose parent is `span`.
        public func children(of span: Span) -> [Span] { spans.filter { $0.parentSpanID == span.spanID } }
    }

    /// The MLflow server's tracking URI, like `http://127.0.0.1:5000`.
    public let uri: URL

    /// A reader for the MLflow server at `uri`.
    public init(uri: URL) { self.uri = uri }

    /// The id of the experiment called `name`.
    public func experimentID(named name: String) async throws -> String {
        let object = try await get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=\(name)")
        guard let id = (object["experiment"] as? [String: Any])?["experiment_id"] as? String else {
            throw TestFailure(description: "no experiment named \(name)")
        }
        return id
    }

    /// Creates an experiment and returns its id.
    public func createExperiment(named name: String) async throws -> String {
        let (status, object) = try await request("/api/2.0/mlflow/experiments/create", body: ["name": name])
        guard status == 200, let id = object["experiment_id"] as? String else {
            throw TestFailure(description: "experiments/create answered \(status): \(object)")
        }
        return id
    }

    /// Deletes (moves to the trash) an experiment.
    public func deleteExperiment(id: String) async throws {
        let (status, object) = try await request("/api/2.0/mlflow/experiments/delete", body: ["experiment_id": id])
        guard status == 200 else { throw TestFailure(description: "experiments/delete answered \(status): \(object)") }
    }

    /// The trace `tr-<hex>`, or nil when MLflow does not know it (yet).
    public func trace(_ mlflowTraceID: String) async throws -> Trace? {
        let (status, object) = try await request(
            "/api/3.0/mlflow/traces/get?trace_id=\(mlflowTraceID)&allow_partial=true")
        if status == 404 { return nil }
        guard status == 200, let trace = object["trace"] as? [String: Any] else {
            throw TestFailure(description: "traces/get answered \(status): \(object)")
        }
        let info = trace["trace_info"] as? [String: Any] ?? [:]
        let spans = (trace["spans"] as? [[String: Any]] ?? []).map(Self.span)
        return Trace(
            state: info["state"] as? String ?? "", tags: info["tags"] as? [String: String] ?? [:], spans: spans,
            requestPreview: info["request_preview"] as? String,
            metadata: info["trace_metadata"] as? [String: String] ?? [:])
    }

    /// Trace ids (`tr-…`) in an experiment matching an MLflow filter like `tags.schedule_id = 'x'`.
    public func search(experimentID: String, filter: String? = nil, maxResults: Int = 1000) async throws -> [String] {
        try await searchInfos(experimentID: experimentID, filter: filter, maxResults: maxResults).map(\.id)
    }

    /// The state (`OK`, `ERROR`, `IN_PROGRESS`) of every trace in an experiment, by trace id, up to
    /// `maxResults` traces: one search instead of a read per trace.
    public func traceStates(experimentID: String, maxResults: Int = 10_000) async throws -> [String: String] {
        var states: [String: String] = [:]
        for info in try await searchInfos(experimentID: experimentID, filter: nil, maxResults: maxResults) {
            states[info.id] = info.state
        }
        return states
    }

    /// Pages through `traces/search`, keeping each trace's id and state.
    private func searchInfos(experimentID: String, filter: String?, maxResults: Int) async throws
        -> [(id: String, state: String)]
    {
        var infos: [(id: String, state: String)] = []
        var token: String?
        repeat {
            var body: [String: Any] = [
                "locations": [["type": "MLFLOW_EXPERIMENT", "mlflow_experiment": ["experiment_id": experimentID]]],
                "max_results": min(maxResults, 500),
            ]
            if let filter { body["filter"] = filter }
            if let token { body["page_token"] = token }
            let (status, object) = try await request("/api/3.0/mlflow/traces/search", body: body)
            guard status == 200 else { throw TestFailure(description: "traces/search answered \(status): \(object)") }
            for info in object["traces"] as? [[String: Any]] ?? [] {
                if let id = info["trace_id"] as? String { infos.append((id, info["state"] as? String ?? "")) }
            }
            token = object["next_page_token"] as? String
        } while token != nil && !(token!.isEmpty) && infos.count < maxResults
        return infos
    }

    private func get(_ path: String) async throws -> [String: Any] {
        let (status, object) = try await request(path)
        guard status == 200 else { throw TestFailure(description: "\(path) answered \(status): \(object)") }
        return object
    }

    /// Sends one request; a 503 is sent again, up to 7 times over about 6 s. MLflow answers 503
    /// `TEMPORARILY_UNAVAILABLE` when its SQLite store was locked by another writer (on a busy machine,
    /// the daemon's own trace exports) and its transaction was rolled back, so sending it again is safe.
    private func request(_ path: String, body: [String: Any]? = nil) async throws -> (Int, [String: Any]) {
        var wait = Duration.milliseconds(50)
        for _ in 1..<8 {
            let answer = try await requestOnce(path, body: body)
            guard answer.0 == 503 else { return answer }
            try await Task.sleep(for: wait)
            wait = min(wait * 2, .seconds(3))
        }
        return try await requestOnce(path, body: body)
    }

    private func requestOnce(_ path: String, body: [String: Any]?) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: uri.absoluteString + path)!)
        request.timeoutInterval = 30
        if let body {
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    static func hex(base64: Any?) -> String? {
        guard let text = base64 as? String, !text.isEmpty, let data = Data(base64Encoded: text) else { return nil }
        return data.map { String(format: "%02x", $0) }.joined()
    }

    /// Decodes an OTLP AnyValue in proto-JSON (snake_case) form.
    static func value(_ any: Any?) -> Any? {
        guard let object = any as? [String: Any] else { return nil }
        if let v = object["string_value"] as? String { return v }
        if let v = object["bool_value"] as? Bool { return v }
        if let v = object["int_value"] { return (v as? Int) ?? Int("\(v)") }
        if let v = object["double_value"] { return (v as? Double) ?? Double("\(v)") }
        if let list = (object["array_value"] as? [String: Any])?["values"] as? [Any] {
            return list.map { value($0) ?? NSNull() }
        }
        if let list = (object["kvlist_value"] as? [String: Any])?["values"] as? [[String: Any]] {
            return attributes(list)
        }
        return nil
    }

    static func attributes(_ any: Any?) -> [String: Any] {
        var out: [String: Any] = [:]
        for entry in any as? [[String: Any]] ?? [] {
            if let key = entry["key"] as? String, let v = value(entry["value"]) { out[key] = v }
        }
        return out
    }

    static func nanos(_ any: Any?) -> UInt64 {
        if let n = any as? UInt64 { return n }
        if let n = any as? Int { return UInt64(n) }
        if let n = any as? NSNumber { return n.uint64Value }
        return UInt64("\(any ?? "")") ?? 0
    }

    static func span(_ object: [String: Any]) -> Span {
        let status = object["status"] as? [String: Any] ?? [:]
        let events = (object["events"] as? [[String: Any]] ?? []).map {
            (name: $0["name"] as? String ?? "", attributes: attributes($0["attributes"]))
        }
        return Span(
            name: object["name"] as? String ?? "",
            spanID: hex(base64: object["span_id"]) ?? "",
            parentSpanID: hex(base64: object["parent_span_id"]),
            statusCode: status["code"] as? String ?? "",
            statusMessage: status["message"] as? String ?? "",
            startNanos: nanos(object["start_time_unix_nano"]),
            endNanos: nanos(object["end_time_unix_nano"]),
            attributes: attributes(object["attributes"]),
            events: events)
    }
}
