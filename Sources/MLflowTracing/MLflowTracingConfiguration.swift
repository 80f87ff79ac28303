import Foundation
import HTTPClient
import RunTracing

/// Everything the tracer and its exporter need. The executables build it from flags and the
/// environment (``init(environment:dataDirectory:)``); libraries never read the environment.
public struct MLflowTracingConfiguration: Sendable {
    /// How to authenticate to MLflow.
    public enum Authentication: Sendable, Equatable {
        /// `MLFLOW_TRACKING_USERNAME` and `MLFLOW_TRACKING_PASSWORD`: HTTP Basic (checked first).
        case basic(username: String, password: String)
        /// `MLFLOW_TRACKING_TOKEN`: `Authorization: Bearer`.
        case bearer(String)
    }

    /// `MLFLOW_TRACKING_URI`, an `http(s)://` URL. `nil` turns tracing off.
    public var trackingURI: URL?
    /// `MLFLOW_EXPERIMENT_NAME`; default `schedulerd`. Created when missing.
    public var experimentName: String
    /// `MLFLOW_EXPERIMENT_ID`; wins over the name when set.
    public var experimentID: String?
    /// `MLFLOW_TRACKING_USERNAME`/`PASSWORD` or `MLFLOW_TRACKING_TOKEN`.
    public var authentication: Authentication?
    /// `MLFLOW_TRACKING_INSECURE_TLS` and `MLFLOW_TRACKING_SERVER_CERT_PATH`.
    public var tls: TLSOptions
    /// TLS for the collector: `OTEL_EXPORTER_OTLP_TRACES_INSECURE`, `OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`.
    public var otlpTLS: TLSOptions
    /// A second destination: any OTLP/HTTP JSON collector (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`).
    public var otlpEndpoint: URL?
    /// Headers for the second destination (`OTEL_EXPORTER_OTLP_TRACES_HEADERS`, `k=v,k2=v2`).
    public var otlpHeaders: [String: String]
    /// The spool file; default `<data-dir>/trace-spool.sqlite`.
    public var spoolPath: String
    /// Most spans the spool keeps; default 1,000,000. Past it the oldest are dropped.
    public var spoolMaxSpans: Int
    /// Most bytes the spool keeps; default 512 MiB. Past it the oldest are dropped.
    public var spoolMaxBytes: Int
    /// Most spans in one request to MLflow; default 500.
    public var batchMaxSpans: Int
    /// Most bytes (before compression) in one request to MLflow; default 4 MiB.
    public var batchMaxBytes: Int
    /// Bodies larger than this are sent gzip-compressed; default 4 KiB.
    public var gzipThreshold: Int
    /// Longest wait between two retries; default 30 s.
    public var maxBackoff: Duration
    /// Attribute size limits.
    public var limits: TruncationLimits
    /// `service.name` of the OTLP resource; default `schedulerd`.
    public var serviceName: String
    /// On a graceful stop, how long the exporter keeps delivering what is spooled before it exits
    /// (less when every destination is unreachable); default 10 s. What is left waits in the spool.
    public var shutdownDelivery: Duration = .seconds(10)
    /// How long ended spans gather in memory before the exporter writes them to the spool, in one
    /// transaction; default 10 ms. A span's end costs its caller only an append to a buffer; the
    /// price is that a SIGKILL (or power loss) loses the spans that ended within about this long
    /// before it, plus the time the spool takes to write one batch.
    public var spoolInterval: Duration = .milliseconds(10)

    /// A configuration from values already read; the parameters are the properties of the same names,
    /// and each one left out takes the default its property names. ``shutdownDelivery`` and
    /// ``spoolInterval`` are set afterwards.
    /// - Parameters:
    ///   - trackingURI: the MLflow server; `nil` turns tracing off.
    ///   - spoolPath: the SQLite file spans wait in until delivered; created when missing.
    public init(
        trackingURI: URL?, spoolPath: String, experimentName: String = "schedulerd", experimentID: String? = nil,
        authentication: Authentication? = nil, tls: TLSOptions = TLSOptions(), otlpEndpoint: URL? = nil,
        otlpTLS: TLSOptions = TLSOptions(), otlpHeaders: [String: String] = [:],
        spoolMaxSpans: Int = 1_000_000, spoolMaxBytes: Int = 512 << 20, batchMaxSpans: Int = 500,
        batchMaxBytes: Int = 4 << 20, gzipThreshold: Int = 4096, maxBackoff: Duration = .seconds(30),
        limits: TruncationLimits = TruncationLimits(), serviceName: String = "schedulerd"
    ) {
        self.trackingURI = trackingURI
        self.spoolPath = spoolPath
        self.experimentName = experimentName
        self.experimentID = experimentID
        self.authentication = authentication
        self.tls = tls
        self.otlpTLS = otlpTLS
        self.otlpEndpoint = otlpEndpoint
        self.otlpHeaders = otlpHeaders
        self.spoolMaxSpans = spoolMaxSpans
        self.spoolMaxBytes = spoolMaxBytes
        self.batchMaxSpans = batchMaxSpans
        self.batchMaxBytes = batchMaxBytes
        self.gzipThreshold = gzipThreshold
        self.maxBackoff = maxBackoff
        self.limits = limits
        self.serviceName = serviceName
    }

    /// Reads MLflow's own variables from `environment` (pass `ProcessInfo.processInfo.environment`).
    /// - Throws: ``MLflowTracingError`` with code `configuration` for a malformed URI or header list.
    public init(environment: [String: String], dataDirectory: String) throws {
        func value(_ key: String) -> String? {
            guard let v = environment[key]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        func url(_ key: String) throws -> URL? {
            guard let text = value(key) else { return nil }
            guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
                scheme == "http" || scheme == "https",
                url.host != nil
            else {
                throw MLflowTracingError(
                    .configuration, "\(key) \"\(text)\" is not an http:// or https:// URL, like http://127.0.0.1:5000")
            }
            return url
        }
        var authentication: Authentication?
        if let user = value("MLFLOW_TRACKING_USERNAME") {
            authentication = .basic(username: user, password: environment["MLFLOW_TRACKING_PASSWORD"] ?? "")
        } else if let token = value("MLFLOW_TRACKING_TOKEN") {
            authentication = .bearer(token)
        }
        var headers: [String: String] = [:]
        if let list = value("OTEL_EXPORTER_OTLP_TRACES_HEADERS") {
            for pair in list.split(separator: ",") {
                guard let eq = pair.firstIndex(of: "=") else {
                    throw MLflowTracingError(
                        .configuration, "OTEL_EXPORTER_OTLP_TRACES_HEADERS must be key=value pairs separated by commas")
                }
                let key = pair[..<eq].trimmingCharacters(in: .whitespaces)
                let raw = pair[pair.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                headers[key] = raw.removingPercentEncoding ?? raw
            }
        }
        try self.init(
            trackingURI: url("MLFLOW_TRACKING_URI"),
            spoolPath: (dataDirectory as NSString).appendingPathComponent("trace-spool.sqlite"),
            experimentName: value("MLFLOW_EXPERIMENT_NAME") ?? "schedulerd",
            experimentID: value("MLFLOW_EXPERIMENT_ID"), authentication: authentication,
            tls: TLSOptions(
                insecure: ["true", "1", "yes"].contains(value("MLFLOW_TRACKING_INSECURE_TLS")?.lowercased() ?? ""),
                caPath: value("MLFLOW_TRACKING_SERVER_CERT_PATH")),
            otlpEndpoint: url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            otlpTLS: TLSOptions(
                insecure: ["true", "1", "yes"].contains(
                    value("OTEL_EXPORTER_OTLP_TRACES_INSECURE")?.lowercased() ?? ""),
                caPath: value("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE")),
            otlpHeaders: headers)
    }
}
