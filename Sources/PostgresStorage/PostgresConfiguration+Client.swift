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
        client.options.additionalStartupParameters = [
            ("application_name", "schedulerd"),
            // A daemon paused or frozen in the middle of a transaction would hold its row locks, and
            // stall its peers, for as long as it stays paused: the server ends such a session instead.
            ("idle_in_transaction_session_timeout", Self.idleTransactionLimit),
        ]
        return client
    }

    /// How long a session may sit idle inside a transaction before the server ends it. Every
    /// transaction of the store runs its statements back to back, so only a stalled process reaches it.
    static let idleTransactionLimit = "10s"

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
