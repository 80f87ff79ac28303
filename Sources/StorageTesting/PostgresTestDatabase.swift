import Foundation
import Logging
import PostgresNIO
import PostgresStorage
import Storage
import Synchronization
import Testing

/// A fresh PostgreSQL database for one test, on the server `SCHEDULERD_TEST_DATABASE_URL` names.
///
/// `scripts/test` starts a throwaway PostgreSQL server for the whole run (`start_postgres` in
/// `scripts/lib.sh`) and exports its URL; each test then makes a database of its own through that
/// URL's role (`CREATE DATABASE <prefix>_<uuid>`) and drops it at the end, so tests run in parallel
/// without seeing each other's rows.
///
/// Without the variable, a test that needs PostgreSQL records a failure under `CI=true` (nothing is
/// skipped silently in CI) and is skipped with a message elsewhere:
///
/// ```swift
/// @Test(.enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
/// func keeps() async throws {
///     try await PostgresTestDatabase.withStore { store in try await store.insertSchedule(schedule) }
/// }
/// ```
public enum PostgresTestDatabase {
    /// The environment variable with the test server's URL.
    public static let variable = "SCHEDULERD_TEST_DATABASE_URL"

    /// The test server's URL, or `nil` when the variable is unset or empty.
    public static var serverURL: String? {
        ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether the tests are running in CI (`CI=true`), where a missing server is a failure.
    public static var isCI: Bool {
        ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true"
    }

    /// Whether tests that need PostgreSQL run: when the server is given, and in CI (to fail there).
    public static var runs: Bool { serverURL != nil || isCI }

    /// Why the tests that need PostgreSQL were skipped, and how to run them.
    public static let skipMessage: Comment = """
        PostgreSQL is not available: SCHEDULERD_TEST_DATABASE_URL is unset. scripts/test starts a \
        throwaway server and sets it; or point it at a server whose role may CREATE DATABASE
        """

    /// The test server's configuration.
    /// - Throws: a failure saying that PostgreSQL is required and how `scripts/test` provides it, when
    ///   the variable is unset; the URL's problem when it cannot be read.
    public static func server() throws -> PostgresConfiguration {
        guard let url = serverURL else {
            throw PostgresTestFailure(
                "PostgreSQL is required here (CI=true): \(variable) is unset. scripts/test installs PostgreSQL, "
                    + "starts a throwaway server (start_postgres in scripts/lib.sh) and exports \(variable)")
        }
        return try PostgresConfiguration(url: url, environment: ProcessInfo.processInfo.environment)
    }

    /// Makes a fresh, empty database named `<prefix>_<uuid>`, runs `body` with its configuration, and
    /// drops the database afterwards (forcing off connections left open).
    /// - Parameter prefix: lowercase letters, digits and `_` only: the name is written into the
    ///   statement as an identifier, which cannot be a bound value.
    public static func withDatabase<T: Sendable>(
        prefix: String = "test", _ body: (PostgresConfiguration) async throws -> T
    ) async throws -> T {
        let server = try server()
        let name = "\(prefix)_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try await admin(server, "CREATE DATABASE \(unescaped: name)")
        var database = server
        database.database = name
        do {
            let result = try await body(database)
            try await admin(server, "DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)")
            return result
        } catch {
            try? await admin(server, "DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)")
            throw error
        }
    }

    /// The configuration of the database `name` on the test server, made empty first if it does not
    /// exist yet; the same name always gives the same database, for a daemon started again on it.
    /// It is not dropped: the throwaway server `scripts/test` starts is removed whole at the end.
    /// - Parameter name: lowercase letters, digits and `_` only, as for `withDatabase`'s prefix.
    public static func database(named name: String) async throws -> PostgresConfiguration {
        let server = try server()
        if named.withLock({ $0.insert(name).inserted }) {
            do {
                try await admin(server, "CREATE DATABASE \(unescaped: name)")
            } catch {
                named.withLock { _ = $0.remove(name) }
                throw error
            }
        }
        var database = server
        database.database = name
        return database
    }

    /// The databases ``database(named:)`` made in this process.
    private static let named = Mutex<Set<String>>([])

    /// Makes a fresh database, a migrated ``PostgresStore`` on it with its client running, runs `body`
    /// with the store, then stops the client and drops the database.
    public static func withStore<T: Sendable>(
        prefix: String = "store", _ body: (PostgresStore) async throws -> T
    ) async throws -> T {
        try await withDatabase(prefix: prefix) { configuration in
            let store = PostgresStore(configuration: configuration, logger: Logger(label: "test.postgres"))
            return try await store.withRunningClient {
                try await store.migrate(within: .seconds(60))
                return try await body(store)
            }
        }
    }

    /// Runs one statement on the server's own database, through a client of its own.
    private static func admin(_ server: PostgresConfiguration, _ statement: PostgresQuery) async throws {
        let store = PostgresStore(configuration: server, maximumConnections: 1, logger: Logger(label: "test.admin"))
        try await store.withRunningClient {
            try await store.execute(statement)
        }
    }
}

/// Why a test that needs PostgreSQL cannot run.
public struct PostgresTestFailure: Error, CustomStringConvertible {
    /// What is missing and how to provide it.
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
