import Foundation
import HTTPClient
import RunTracing
import Tracing

extension WorkflowRunner {
    /// One HTTP request inside a TOOL span named `METHOD host/path`; the JSON response becomes the update.
    func performHTTP(_ request: WorkflowNode.HTTPRequest, node: WorkflowNode, state: [String: JSONValue]) async throws
        -> [String: JSONValue]
    {
        let stateValue = JSONValue.object(state)
        /// A template's text with the state and `${NAME}` environment references filled in.
        func rendered(_ template: Template, _ subject: String) throws(HTTPRequestFailed) -> String {
            do {
                return try template.text(stateValue, environment: configuration.environment)
            } catch {
                throw HTTPRequestFailed(
                    description: "\(subject) names ${\(error.name)}, which is not set in the daemon's environment")
            }
        }
        let urlText = try rendered(request.url, "url")
        guard let components = URLComponents(string: urlText), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw HTTPRequestFailed(
                description: "url \"\(Self.redact(urlText))\" is not an http:// or https:// URL with a host")
        }
        var headers: [(String, String)] = []
        for (name, template) in request.headers {
            headers.append((name, try rendered(template, "header \(name)")))
        }
        var body: [UInt8] = []
        if let template = request.body {
            let value = template.render(stateValue)
            body = Array(value.jsonText.utf8)
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                headers.append(("Content-Type", "application/json"))
            }
        }
        if !headers.contains(where: { $0.0.lowercased() == "accept" }) {
            headers.append(("Accept", "application/json"))
        }

        let path = components.path.isEmpty ? "/" : components.path
        let span = tracer.startSpan("\(request.method) \(host)\(path)", context: ServiceContext.current ?? .topLevel)
        span.setSpanType(.tool)
        span.setAttribute("http.request.method", .string(request.method))
        span.setAttribute("url.full", .string(Self.redact(urlText)))
        let clock = ContinuousClock()
        let began = clock.now
        let answer: Result<HTTPClient.Response, HTTPClientError>
        do {
            answer = .success(
                try await configuration.http.perform(
                    method: request.method, url: urlText, headers: headers, body: body,
                    timeout: node.timeout.map { min($0, configuration.httpTimeout) } ?? configuration.httpTimeout))
        } catch {
            answer = .failure(error)
        }
        span.setAttribute("duration_ms", .int64(Int64(Self.milliseconds(clock.now - began))))
        defer { span.end() }
        do {
            let response = try answer.mapError { failure in
                HTTPRequestFailed(
                    description: "\(request.method) \(host)\(path) failed: \(Self.redact(failure.message))")
            }.get()
            span.setAttribute("http.response.status_code", .int64(Int64(response.status)))
            span.setAttribute("http.response.body.size", .int64(Int64(response.body.count)))
            let text = String(decoding: response.body, as: UTF8.self)
            guard (200..<300).contains(response.status) else {
                let excerpt = text.prefix(200).replacingOccurrences(of: "\n", with: " ")
                throw HTTPRequestFailed(
                    description:
                        "\(request.method) \(host)\(path) returned \(response.status)\(excerpt.isEmpty ? "" : ": \(excerpt)")"
                )
            }
            if response.body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
                return request.output.map { [$0: .null] } ?? [:]
            }
            if let value = try? JSONValue(json: Data(response.body)) {
                if let key = request.output { return [key: value] }
                if let object = value.objectValue { return object }
                throw HTTPRequestFailed(
                    description:
                        "the response is JSON but \(value.typeWithArticle), not an object; set output: <key> to store it under a state key"
                )
            }
            if let key = request.output { return [key: .string(text)] }
            throw HTTPRequestFailed(
                description:
                    "the response is not JSON (it starts with \(String(text.prefix(40)).debugDescription)); set output: <key> to keep it as text"
            )
        } catch {
            span.recordError(error)
            throw error
        }
    }

    static let secretQueryNames: Set<String> = [
        "token", "access_token", "api_key", "apikey", "key", "secret", "password", "signature", "sig", "auth",
        "client_secret",
    ]

    /// The URL as spans and errors show it: credentials and secret-looking query values replaced by
    /// `REDACTED` (OpenTelemetry's `url.full` rule).
    static func redact(_ text: String) -> String {
        guard var components = URLComponents(string: text) else { return text }
        if components.user != nil { components.user = "REDACTED" }
        if components.password != nil { components.password = "REDACTED" }
        if let items = components.queryItems {
            components.queryItems = items.map { item in
                secretQueryNames.contains(item.name.lowercased())
                    ? URLQueryItem(name: item.name, value: "REDACTED") : item
            }
        }
        return components.string ?? text
    }
}
