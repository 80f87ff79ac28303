import Foundation
import SchedulerTesting

/// A stand-in OTLP/HTTP collector (a small Python HTTP server from `Tests/Fixtures`) that records
/// every request, for tests of the second export destination and of request headers.
public final class RecordingCollector: Sendable {
    /// One request the collector received.
    public struct Request: @unchecked Sendable {
        /// The request's path, like `/v1/traces`.
        public var path: String
        /// The request's headers, names in lowercase.
        public var headers: [String: String]
        /// The body, decompressed and parsed as a JSON object (OTLP/HTTP JSON); empty when it was not one.
        public var body: [String: Any]
    }

    /// The port the collector listens on, on 127.0.0.1.
    public var port: Int { server.port }
    let server: FixtureProcess
    let log: URL
    /// The CA file that verifies this collector, when it serves HTTPS.
    public let certificatePath: String?

    /// The traces endpoint to export to: `http://127.0.0.1:<port>/v1/traces`, or `https` with TLS.
    public var endpoint: URL {
        URL(string: "\(certificatePath == nil ? "http" : "https")://127.0.0.1:\(port)/v1/traces")!
    }

    /// Starts a collector (off the cooperative pool: it waits for processes).
    /// - Parameter tls: serve HTTPS with a fresh self-signed certificate for 127.0.0.1 (made with openssl).
    public static func start(tls: Bool = false) async throws -> RecordingCollector {
        try await offload { try RecordingCollector(tls: tls) }
    }

    private init(tls: Bool) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("collector-\(UUID().uuidString).jsonl")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        var arguments = [log.path]
        if tls {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let cert = directory.appendingPathComponent("cert.pem").path
            let key = directory.appendingPathComponent("key.pem").path
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            openssl.arguments = [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ]
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            guard openssl.terminationStatus == 0 else {
                throw TestFailure(description: "openssl could not make a test certificate")
            }
            arguments += [cert, key]
            certificatePath = cert
        } else {
            certificatePath = nil
        }
        server = try FixtureProcess(script: "recording_collector.py", arguments: arguments)
    }

    /// Every request received so far.
    public var requests: [Request] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                return nil
            }
            return Request(
                path: object["path"] as? String ?? "", headers: object["headers"] as? [String: String] ?? [:],
                body: object["body"] as? [String: Any] ?? [:])
        }
    }

    /// The names of every span received.
    public var spanNames: [String] {
        requests.flatMap { request -> [String] in
            let resourceSpans = request.body["resourceSpans"] as? [[String: Any]] ?? []
            return resourceSpans.flatMap { ($0["scopeSpans"] as? [[String: Any]] ?? []) }
                .flatMap { ($0["spans"] as? [[String: Any]] ?? []) }
                .compactMap { $0["name"] as? String }
        }
    }
}
