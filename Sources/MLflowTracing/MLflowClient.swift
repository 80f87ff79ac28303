import Foundation
import HTTPClient
import RunTracing

/// The few MLflow REST calls the exporter needs: experiment resolution and `POST /v1/traces`.
struct MLflowClient: Sendable {
    let base: String
    let authentication: MLflowTracingConfiguration.Authentication?
    let client: HTTPClient

    init(trackingURI: URL, authentication: MLflowTracingConfiguration.Authentication?, tls: TLSOptions = TLSOptions()) {
        var base = trackingURI.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
        self.authentication = authentication
        self.client = HTTPClient(tls: tls, label: "mlflow")
    }

    /// Where to point people in messages: the tracking URI without credentials.
    var displayURI: String {
        guard var components = URLComponents(string: base) else { return base }
        components.user = nil
        components.password = nil
        return components.string ?? base
    }

    private func request(_ path: String, method: String = "GET") -> HTTPExport.Request {
        var request = HTTPExport.Request(method: method, url: base + path)
        switch authentication {
        case .basic(let user, let password):
            let token = Data("\(user):\(password)".utf8).base64EncodedString()
            request.headers.append(("Authorization", "Basic \(token)"))
        case .bearer(let token):
            request.headers.append(("Authorization", "Bearer \(token)"))
        case nil:
            break
        }
        return request
    }

    /// Sends one OTLP/HTTP JSON request body to `/v1/traces` of `experimentID`.
    func send(body: [UInt8], experimentID: String, gzipThreshold: Int) async -> ExportResult {
        var request = request("/v1/traces", method: "POST")
        request.headers.append(("x-mlflow-experiment-id", experimentID))
        return await HTTPExport.post(
            request, body: body, gzipThreshold: gzipThreshold, client: client, label: "MLflow at \(displayURI)")
    }

    /// Whether MLflow already stores every span of `spanIDs` (16 hex digits each) in the trace
    /// `traceID` (32 hex digits). A request that timed out on our side may still have been committed,
    /// and its re-send refused; this tells such a refusal from a payload MLflow will never take.
    func holds(traceID: String, spanIDs: Set<String>) async -> Bool {
        guard
            let (status, object) = try? await json(
                request("/api/3.0/mlflow/traces/get?trace_id=tr-\(traceID)&allow_partial=true")),
            status == 200, let trace = object?["trace"] as? [String: Any],
            let spans = trace["spans"] as? [[String: Any]]
        else { return false }
        var stored = Set<String>()
        for span in spans {
            guard let text = span["span_id"] as? String, let bytes = Data(base64Encoded: text), bytes.count == 8
            else { continue }
            stored.insert(SpanID(bytes.reduce(0) { $0 << 8 | UInt64($1) }).hex)
        }
        return !spanIDs.isEmpty && spanIDs.isSubset(of: stored)
    }

    /// The experiment id to send to: `id` when given (checked to exist), else the experiment named
    /// `name`, created when missing.
    func resolveExperiment(name: String, id: String?) async throws(MLflowTracingError) -> String {
        if let id {
            let query = id.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? id
            let (status, object) = try await json(request("/api/2.0/mlflow/experiments/get?experiment_id=\(query)"))
            if status == 200, let experiment = object?["experiment"] as? [String: Any] {
                try Self.checkActive(experiment, label: "MLFLOW_EXPERIMENT_ID \(id)")
                return id
            }
            if status == 404 || status == 400 {
                throw MLflowTracingError(
                    .experiment, "MLFLOW_EXPERIMENT_ID \(id) does not exist in MLflow at \(displayURI)")
            }
            throw Self.unexpected(status, object, displayURI)
        }
        for _ in 0..<3 {
            let query = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name
            let (status, object) = try await json(
                request("/api/2.0/mlflow/experiments/get-by-name?experiment_name=\(query)"))
            if status == 200, let experiment = object?["experiment"] as? [String: Any],
                let found = experiment["experiment_id"] as? String
            {
                try Self.checkActive(experiment, label: "experiment \"\(name)\"")
                return found
            }
            guard status == 404 else { throw Self.unexpected(status, object, displayURI) }
            var create = request("/api/2.0/mlflow/experiments/create", method: "POST")
            create.headers.append(("Content-Type", "application/json"))
            create.body = [UInt8]((try? JSONSerialization.data(withJSONObject: ["name": name])) ?? Data())
            let (createStatus, created) = try await json(create)
            if createStatus == 200, let newID = created?["experiment_id"] as? String { return newID }
            if created?["error_code"] as? String == "RESOURCE_ALREADY_EXISTS" { continue }  // created meanwhile
            throw Self.unexpected(createStatus, created, displayURI)
        }
        throw MLflowTracingError(
            .experiment, "experiment \"\(name)\" could not be found or created in MLflow at \(displayURI)")
    }

    private func json(_ request: HTTPExport.Request) async throws(MLflowTracingError) -> (Int, [String: Any]?) {
        let response: HTTPClient.Response
        do {
            response = try await client.perform(
                method: request.method, url: request.url, headers: request.headers, body: request.body)
        } catch {
            throw MLflowTracingError(.unavailable, "cannot reach MLflow at \(displayURI): \(error.message)")
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        return (response.status, object)
    }

    private static func checkActive(_ experiment: [String: Any], label: String) throws(MLflowTracingError) {
        if (experiment["lifecycle_stage"] as? String) == "deleted" {
            throw MLflowTracingError(
                .experiment,
                "\(label) is deleted in MLflow; restore it in the MLflow UI or choose another with MLFLOW_EXPERIMENT_NAME"
            )
        }
    }

    private static func unexpected(_ status: Int, _ object: [String: Any]?, _ uri: String) -> MLflowTracingError {
        let message = (object?["message"] as? String).map { ": \($0)" } ?? ""
        switch status {
        case 401, 403:
            return MLflowTracingError(
                .rejected,
                "MLflow at \(uri) refused the credentials (\(status)); check MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN",
                httpStatus: status)
        case 408, 429, 500...:
            return MLflowTracingError(.unavailable, "MLflow at \(uri) answered \(status)\(message)", httpStatus: status)
        default:
            return MLflowTracingError(.rejected, "MLflow at \(uri) answered \(status)\(message)", httpStatus: status)
        }
    }

}
