import Foundation
import HTTPClient

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
    struct Request: Sendable {
        var method: String
        var url: String
        var headers: [(String, String)] = []
        var body: [UInt8] = []
    }

    static func post(
        _ request: Request, body: [UInt8], gzipThreshold: Int, client: HTTPClient, label: String
    ) async -> ExportResult {
        var headers = request.headers
        headers.append(("Content-Type", "application/json"))
        var payload = body
        if body.count > gzipThreshold, let compressed = Gzip.compress(body) {
            headers.append(("Content-Encoding", "gzip"))
            payload = compressed
        }
        let response: HTTPClient.Response
        do {
            // A delivery on the wire runs to its answer, also when the exporter is stopping: MLflow may
            // have committed it, and an answer tells whether the spool may drop the spans.
            response = try await client.perform(
                method: "POST", url: request.url, headers: headers, body: payload, abortOnCancel: false)
        } catch {
            return .retry(reason: "cannot reach \(label): \(error.message)", after: nil)
        }
        let status = response.status
        switch status {
        case 200..<300:
            return .delivered
        case 404:
            return .notFound
        case 401, 403:
            return .unauthorized(status: status)
        case 408, 429, 500...:
            let after = response.retryAfter.flatMap { Int($0) }.map { Duration.seconds($0) }
            return .retry(reason: "\(label) answered \(status)", after: after)
        default:
            return .rejected(status: status, reason: snippet(response.body))
        }
    }

    /// The first 300 bytes of a response body, for logs and the dead-letter table.
    static func snippet(_ data: [UInt8]) -> String {
        let text = String(decoding: data.prefix(300), as: UTF8.self)
        return text.isEmpty ? "(empty body)" : text
    }
}

/// The optional second destination: any OTLP/HTTP JSON collector.
struct OTLPCollector: Sendable {
    let endpoint: URL
    let headers: [String: String]
    let client: HTTPClient

    init(endpoint: URL, headers: [String: String], tls: TLSOptions = TLSOptions()) {
        self.endpoint = endpoint
        self.headers = headers
        self.client = HTTPClient(tls: tls, label: "otlp")
    }

    var label: String {
        var components = URLComponents(url: endpoint, resolvingAgainstBaseURL: false)
        components?.user = nil
        components?.password = nil
        return "the OTLP collector at \(components?.string ?? endpoint.absoluteString)"
    }

    func send(body: [UInt8], gzipThreshold: Int) async -> ExportResult {
        let request = HTTPExport.Request(
            method: "POST", url: endpoint.absoluteString,
            headers: headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        return await HTTPExport.post(
            request, body: body, gzipThreshold: gzipThreshold, client: client, label: label)
    }
}
