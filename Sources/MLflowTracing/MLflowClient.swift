import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The few MLflow REST calls the exporter needs: experiment resolution and `POST /v1/traces`.
struct MLflowClient: Sendable {
    let base: String
    let authentication: MLflowTracingConfiguration.Authentication?
    let session: URLSession

    init(trackingURI: URL, authentication: MLflowTracingConfiguration.Authentication?) {
        var base = trackingURI.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
        self.authentication = authentication
        self.session = HTTPExport.session()
    }

    /// Where to point people in messages: the tracking URI without credentials.
    var displayURI: String {
        guard var components = URLComponents(string: base) else { return base }
        components.user = nil
        components.password = nil
        return components.string ?? base
    }

    private func request(_ path: String, method: String = "GET") -> URLRequest {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        switch authentication {
        case .basic(let user, let password):
            let token = Data("\(user):\(password)".utf8).base64EncodedString()
            request.setValue("Basic \(token)", forHTTPHeaderField: "Authorization")
        case .bearer(let token):
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        case nil:
            break
        }
        return request
    }

    /// Sends one OTLP/HTTP JSON request body to `/v1/traces` of `experimentID`.
    func send(body: [UInt8], experimentID: String, gzipThreshold: Int) async -> ExportResult {
        var request = request("/v1/traces", method: "POST")
        request.setValue(experimentID, forHTTPHeaderField: "x-mlflow-experiment-id")
        return await HTTPExport.post(
            request, body: body, gzipThreshold: gzipThreshold, session: session, label: "MLflow at \(displayURI)")
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
            create.setValue("application/json", forHTTPHeaderField: "Content-Type")
            create.httpBody = try? JSONSerialization.data(withJSONObject: ["name": name])
            let (createStatus, created) = try await json(create)
            if createStatus == 200, let newID = created?["experiment_id"] as? String { return newID }
            if created?["error_code"] as? String == "RESOURCE_ALREADY_EXISTS" { continue }  // created meanwhile
            throw Self.unexpected(createStatus, created, displayURI)
        }
        throw MLflowTracingError(
            .experiment, "experiment \"\(name)\" could not be found or created in MLflow at \(displayURI)")
    }

    private func json(_ request: URLRequest) async throws(MLflowTracingError) -> (Int, [String: Any]?) {
        do {
            let (data, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any])
        } catch {
            throw MLflowTracingError(
                .unavailable, "cannot reach MLflow at \(displayURI): \(error.localizedDescription)")
        }
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
