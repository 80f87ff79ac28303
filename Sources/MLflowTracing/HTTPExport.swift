import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// What became of one export request.
enum ExportResult: Sendable, Equatable {
    case delivered
    /// Network error, 408, 429 or 5xx: try again later (after the server's `Retry-After` if given).
    case retry(reason: String, after: Duration?)
    /// 400 or 422: the payload is refused and will be refused again.
    case rejected(status: Int, reason: String)
    /// 404: the experiment (or the endpoint) is not there.
    case notFound
    /// 401 or 403: credentials are missing or wrong; retrying will not help until they change.
    case unauthorized(status: Int)
}

/// `POST` of an OTLP/HTTP JSON body, shared by both destinations.
enum HTTPExport {
    static func post(
        _ request: URLRequest, body: [UInt8], gzipThreshold: Int, session: URLSession, label: String
    ) async -> ExportResult {
        var request = request
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if body.count > gzipThreshold, let compressed = Gzip.compress(body) {
            request.setValue("gzip", forHTTPHeaderField: "Content-Encoding")
            request.httpBody = Data(compressed)
        } else {
            request.httpBody = Data(body)
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: request)
        } catch {
            return .retry(reason: "cannot reach \(label): \(error.localizedDescription)", after: nil)
        }
        guard let http = response as? HTTPURLResponse else {
            return .retry(reason: "no HTTP response from \(label)", after: nil)
        }
        let status = http.statusCode
        switch status {
        case 200..<300:
            return .delivered
        case 404:
            return .notFound
        case 401, 403:
            return .unauthorized(status: status)
        case 408, 429, 500...:
            let after = http.value(forHTTPHeaderField: "Retry-After").flatMap(Int.init).map { Duration.seconds($0) }
            return .retry(reason: "\(label) answered \(status)", after: after)
        default:
            return .rejected(status: status, reason: snippet(data))
        }
    }

    /// The first 300 bytes of a response body, for logs and the dead-letter table.
    static func snippet(_ data: Data) -> String {
        let text = String(decoding: data.prefix(300), as: UTF8.self)
        return text.isEmpty ? "(empty body)" : text
    }

    static func session() -> URLSession {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        configuration.httpMaximumConnectionsPerHost = 4
        return URLSession(configuration: configuration)
    }
}

/// The optional second destination: any OTLP/HTTP JSON collector.
struct OTLPCollector: Sendable {
    let endpoint: URL
    let headers: [String: String]
    let session: URLSession

    init(endpoint: URL, headers: [String: String]) {
        self.endpoint = endpoint
        self.headers = headers
        self.session = HTTPExport.session()
    }

    var label: String {
        var components = URLComponents(url: endpoint, resolvingAgainstBaseURL: false)
        components?.user = nil
        components?.password = nil
        return "the OTLP collector at \(components?.string ?? endpoint.absoluteString)"
    }

    func send(body: [UInt8], gzipThreshold: Int) async -> ExportResult {
        var request = URLRequest(url: endpoint)
        for (key, value) in headers { request.setValue(value, forHTTPHeaderField: key) }
        return await HTTPExport.post(request, body: body, gzipThreshold: gzipThreshold, session: session, label: label)
    }
}
