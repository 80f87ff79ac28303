import NIOCore
import NIOSSL
import PostgresNIO

extension PostgresConfiguration {
    /// The TLS settings of ``sslMode`` with libpq's meanings, and whether TLS is required (`nil` for
    /// `disable`).
    var tls: (configuration: TLSConfiguration, required: Bool)? {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let sslRootCertificate { tls.trustRoots = .file(sslRootCertificate) }
        switch sslMode {
        case .disable:
            return nil
        case .prefer:
            tls.certificateVerification = .none
            return (tls, false)
        case .require:
            tls.certificateVerification = .none
            return (tls, true)
        case .verifyCA:
            tls.certificateVerification = .noHostnameVerification
            return (tls, true)
        case .verifyFull:
            tls.certificateVerification = .fullVerification
            return (tls, true)
        }
    }

    /// The settings of a `PostgresClient` that connects where this configuration says, encrypted as its
    /// ``sslMode`` says, with at most `maximumConnections` connections open.
    func clientConfiguration(maximumConnections: Int) -> PostgresClient.Configuration {
        let mode: PostgresClient.Configuration.TLS =
            switch tls {
            case nil: .disable
            case let (configuration, required)?: required ? .require(configuration) : .prefer(configuration)
            }
        var client = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: mode)
        client.options.connectTimeout = connectTimeout
        client.options.maximumConnections = maximumConnections
        client.options.additionalStartupParameters = [("application_name", "schedulerd")] + Self.keepalives
        return client
    }

    /// TCP keepalives the server sends on each session: a daemon whose machine died or dropped off the
    /// network mid-transaction is found within about 25 s, and its row locks released, instead of
    /// after the system's two hours. (A daemon that is merely paused keeps its locks until it goes
    /// on: its kernel still answers.)
    static let keepalives: [(String, String)] = [
        ("tcp_keepalives_idle", "10"), ("tcp_keepalives_interval", "5"), ("tcp_keepalives_count", "3"),
    ]

    /// The settings of one connection outside the pool (``PostgresStore``'s probe of a server that did
    /// not answer, which tells why).
    /// - Throws: when the TLS settings cannot be made (a CA file that cannot be read).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let mode: PostgresConnection.Configuration.TLS
        switch tls {
        case nil: mode = .disable
        case let (configuration, required)?:
            let context = try NIOSSLContext(configuration: configuration)
            mode = required ? .require(context) : .prefer(context)
        }
        var connection = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: mode)
        connection.options.connectTimeout = .seconds(connectTimeout.components.seconds)
        connection.options.additionalStartupParameters = [("application_name", "schedulerd")]
        return connection
    }
}
