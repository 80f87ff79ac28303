/// How a client checks the servers it talks to over HTTPS.
///
/// The default verifies certificates against the system's CAs. The exporter reads these from
/// MLflow's own variables (`MLFLOW_TRACKING_INSECURE_TLS`, `MLFLOW_TRACKING_SERVER_CERT_PATH`);
/// `http` nodes from the daemon's `--http-ca-bundle`.
public struct TLSOptions: Sendable, Hashable {
    /// Skips certificate and host name verification (for testing only).
    public var insecure: Bool
    /// A CA bundle (PEM) to verify servers with instead of the system's CAs.
    public var caPath: String?

    /// TLS options; the defaults verify every server against the system's CAs.
    public init(insecure: Bool = false, caPath: String? = nil) {
        self.insecure = insecure
        self.caPath = caPath
    }
}
