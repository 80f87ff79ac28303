import Foundation

/// Where a ``PostgresStore`` connects: a libpq-style URL, read into its parts.
///
/// The URL is `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE` (the scheme may also be
/// `postgresql://`), as `psql` and most PostgreSQL tools take it:
///
/// - the user and password are percent-decoded, so a password holding `@`, `:` or `/` is written
///   `%40`, `%3A`, `%2F`; with no password in the URL, `PGPASSWORD` gives it, and with no user,
///   `PGUSER`;
/// - the host defaults to `localhost` and the port to 5432; an IPv6 address goes in brackets,
///   `postgres://u@[::1]:5432/db`;
/// - the database name is required;
/// - `sslmode` is `disable`, `prefer` (the default, as in libpq), `require`, `verify-ca` or
///   `verify-full`. As in libpq, `prefer` and `require` encrypt without checking the server's
///   certificate, `verify-ca` checks it against the CAs, `verify-full` checks the host name too;
///   `sslrootcert=PATH` names a PEM file of CAs instead of the system's;
/// - `connect_timeout=SECONDS` bounds each connection attempt (default 10).
///
/// ```swift
/// let configuration = try PostgresConfiguration(
///     url: "postgres://scheduler@db.internal/schedulerd?sslmode=verify-full",
///     environment: ProcessInfo.processInfo.environment)
/// print(configuration)  // the URL with the password masked: never the password itself
/// ```
///
/// Its `description` masks the password, so the value can be logged or put in an error message.
public struct PostgresConfiguration: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
    /// How the connection is encrypted: libpq's `sslmode` values, with libpq's meanings.
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        /// Never encrypted.
        case disable
        /// Encrypted when the server offers it, the certificate not checked (libpq's default).
        case prefer
        /// Always encrypted, the certificate not checked.
        case require
        /// Always encrypted, the certificate checked against the trusted CAs but not the host name.
        case verifyCA = "verify-ca"
        /// Always encrypted, the certificate checked against the trusted CAs and the host name.
        case verifyFull = "verify-full"
    }

    /// The server's host name or address (without brackets for IPv6).
    public var host: String
    /// The server's TCP port; 5432 unless the URL gives another.
    public var port: Int
    /// The role to log in as.
    public var user: String
    /// The role's password, from the URL or `PGPASSWORD`; `nil` for none (trust or peer auth).
    public var password: String?
    /// The database to open.
    public var database: String
    /// How the connection is encrypted.
    public var sslMode: SSLMode
    /// A PEM file of CA certificates to check the server's certificate against (`sslrootcert`);
    /// `nil`: the system's.
    public var sslRootCertificate: String?
    /// How long one connection attempt may take (`connect_timeout`, in seconds; default 10).
    public var connectTimeout: Duration

    /// The query parameters a URL may carry; any other is refused, so that a misspelt one is noticed.
    public static let parameters = ["sslmode", "sslrootcert", "connect_timeout"]

    /// Reads a libpq-style URL.
    /// - Parameters:
    ///   - url: `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=MODE`.
    ///   - environment: where `PGPASSWORD` and `PGUSER` are read when the URL leaves them out.
    /// - Throws: ``PostgresConfigurationError`` saying what is wrong and what is allowed; its message
    ///   never holds the password.
    public init(url: String, environment: [String: String] = [:]) throws {
        let schemes = ["postgres://", "postgresql://"]
        guard let scheme = schemes.first(where: { url.hasPrefix($0) }) else {
            let given = url.range(of: "://").map { String(url[..<$0.lowerBound]) }
            throw PostgresConfigurationError(
                given.map { "the database URL's scheme \"\($0)\" is not postgres:// or postgresql://" }
                    ?? "the database URL must start with postgres:// or postgresql://, like postgres://user@host:5432/db"
            )
        }
        var rest = Substring(url.dropFirst(scheme.count))
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var path: Substring = ""
        // The user information may hold a `/` only percent-encoded, so the path starts at the first
        // `/` after the last `@`.
        let hostStart = rest.lastIndex(of: "@").map { rest.index(after: $0) } ?? rest.startIndex
        if let slash = rest[hostStart...].firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var hostAndPort = rest
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            hostAndPort = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = try Self.decode(userInfo[..<colon], "user name")
                password = try Self.decode(userInfo[userInfo.index(after: colon)...], "password")
            } else {
                user = try Self.decode(userInfo, "user name")
            }
        }
        (host, port) = try Self.hostAndPort(hostAndPort)
        let database = try Self.decode(path, "database name")
        guard !database.isEmpty else {
            throw PostgresConfigurationError(
                "the database URL names no database; add it after the host, like postgres://user@host:5432/schedulerd")
        }
        guard !database.contains("/") else {
            throw PostgresConfigurationError(
                "the database name \"\(database)\" holds a \"/\"; a URL names one database")
        }
        self.database = database
        if let user, !user.isEmpty {
            self.user = user
        } else if let fromEnvironment = environment["PGUSER"], !fromEnvironment.isEmpty {
            self.user = fromEnvironment
        } else {
            throw PostgresConfigurationError(
                "the database URL names no user; add it before the host, like postgres://scheduler@host/db, or set PGUSER"
            )
        }
        self.password = password ?? environment["PGPASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        sslMode = .prefer
        connectTimeout = .seconds(10)
        try readParameters(query)
    }

    /// Reads `sslmode`, `sslrootcert` and `connect_timeout` from the URL's query.
    private mutating func readParameters(_ query: Substring) throws {
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(parts[0], "parameter name")
            let value = parts.count > 1 ? try Self.decode(parts[1], "value of \(name)") : ""
            switch name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    let allowed = SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw PostgresConfigurationError("sslmode \"\(value)\" is not one of \(allowed)")
                }
                sslMode = mode
            case "sslrootcert":
                guard !value.isEmpty else {
                    throw PostgresConfigurationError("sslrootcert is empty; give the path of a PEM file of CAs")
                }
                sslRootCertificate = value
            case "connect_timeout":
                guard let seconds = Int(value), (1...3600).contains(seconds) else {
                    throw PostgresConfigurationError(
                        "connect_timeout \"\(value)\" must be a whole number of seconds from 1 to 3600")
                }
                connectTimeout = .seconds(seconds)
            default:
                throw PostgresConfigurationError(
                    "the database URL's parameter \"\(name)\" is not one of \(Self.parameters.joined(separator: ", "))")
            }
        }
    }

    /// The host (default `localhost`) and port (default 5432) of `text`, `HOST`, `HOST:PORT`,
    /// `[IPv6]` or `[IPv6]:PORT`.
    private static func hostAndPort(_ text: Substring) throws -> (String, Int) {
        var host = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw PostgresConfigurationError("the database URL's host \"\(text)\" opens a [ it does not close")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw PostgresConfigurationError("the database URL's host \"\(text)\" has \"\(after)\" after its ]")
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        var port = 5432
        if let portText {
            guard let number = Int(portText), (1...65535).contains(number) else {
                throw PostgresConfigurationError(
                    "the database URL's port \"\(portText)\" is not a number from 1 to 65535")
            }
            port = number
        }
        let name = try decode(host, "host")
        return (name.isEmpty ? "localhost" : name, port)
    }

    /// `text` percent-decoded.
    /// - Throws: when `text` holds a `%` not followed by two hex digits; the message names `what`
    ///   but, as it may be the password, never quotes the text.
    private static func decode(_ text: Substring, _ what: String) throws -> String {
        guard let decoded = String(text).removingPercentEncoding else {
            throw PostgresConfigurationError(
                "the database URL's \(what) holds a % that is not followed by two hex digits; write % as %25")
        }
        return decoded
    }

    /// The URL with the password replaced by `***`: safe to log.
    public var description: String {
        let userInfo = password == nil ? user : "\(user):***"
        let shownHost = host.contains(":") ? "[\(host)]" : host
        var text = "postgres://\(userInfo)@\(shownHost):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
        if let sslRootCertificate { text += "&sslrootcert=\(sslRootCertificate)" }
        return text
    }

    /// What `dump` and debuggers show: the masked ``description``, not the fields, one of which is the
    /// password.
    public var customMirror: Mirror {
        Mirror(self, children: ["url": description])
    }

    /// Where it connects, for messages: `HOST:PORT/DATABASE`.
    public var target: String {
        "\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)"
    }
}

/// A database URL that ``PostgresConfiguration`` cannot read: what was wrong and what is allowed,
/// in one line, never holding the password.
public struct PostgresConfigurationError: Error, Sendable, CustomStringConvertible {
    /// What was wrong and what is allowed.
    public var message: String

    /// An error saying `message`.
    public init(_ message: String) {
        self.message = message
    }

    /// The ``message``.
    public var description: String { message }
}
