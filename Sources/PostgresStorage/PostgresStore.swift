import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Storage
import Synchronization
import _ConnectionPoolModule

/// The shared store: schedules and runs in a PostgreSQL database, so that several daemons use one
/// schedule set and one run queue, each fire stored once (`UNIQUE (schedule_id, dedupe_key)` on runs,
/// schedule rows locked with `SKIP LOCKED`; see `docs/architecture.md`, "Several daemons on one store").
///
/// It keeps every promise of ``SchedulerStore`` the SQLite engine keeps (`StoreContract` checks both).
/// Its connections come from a `PostgresClient`, which must be running while the store is used: run the
/// store as a `Service` in a `ServiceGroup` whose other services do not use it before it starts, or wrap
/// the code that uses it in ``withRunningClient(_:)``. ``migrate(within:)`` brings the schema up to date
/// and tells, within a bounded wait, whether the server can be reached at all.
///
/// The schedule queries are in `PostgresStore+Schedules.swift`, the run queries in
/// `PostgresStore+Runs.swift`, the schema in ``PostgresMigrations``.
///
/// ```swift
/// let configuration = try PostgresConfiguration(url: "postgres://scheduler@db/schedulerd")
/// let store = PostgresStore(configuration: configuration, logger: logger)
/// try await store.withRunningClient {
///     try await store.migrate(within: .seconds(30))
///     try await store.insertSchedule(ScheduleRecord(name: "nightly", cron: "0 2 * * *", workflow: "backup"))
/// }
/// ```
public final class PostgresStore: SchedulerStore, Service {
    let client: PostgresClient
    let logger: Logger
    /// Whether the client has been run: a `PostgresClient` runs once in its life.
    private let started = Mutex(false)
    /// Where the store connects; its description masks the password.
    public let configuration: PostgresConfiguration

    /// A store on the database `configuration` names. Nothing connects until the client runs and a
    /// query needs a connection.
    /// - Parameters:
    ///   - configuration: the server, role, database and TLS mode.
    ///   - maximumConnections: at most this many connections open at once (default 10).
    ///   - logger: where queries are logged (at `debug`, and only when its level allows), and the pool's
    ///     warnings.
    public init(configuration: PostgresConfiguration, maximumConnections: Int = 10, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        // The pool logs every failed connection attempt at `info`, including those its own shutdown
        // cuts short; the store's errors say what failed where it matters, so only warnings pass.
        var background = logger
        background.logLevel = max(logger.logLevel, .warning)
        client = PostgresClient(
            configuration: configuration.clientConfiguration(maximumConnections: maximumConnections),
            backgroundLogger: background)
    }

    /// The newest schema version this build knows (``migrate(within:)`` brings a database up to it).
    public static var schemaVersion: Int { PostgresMigrations.all.last?.version ?? 0 }

    /// Runs the connection pool until the task is cancelled or, in a `ServiceGroup`, until graceful
    /// shutdown reaches it.
    /// - Throws: ``StorageError`` `.database` when the store's pool has run before: a pool runs once
    ///   in its life, so a store that stopped is replaced by a new one.
    public func run() async throws {
        try claimRun()
        await client.run()
    }

    /// Marks the pool as run. - Throws: when it has run before.
    private func claimRun() throws {
        let first = started.withLock { started in
            defer { started = true }
            return !started
        }
        guard first else {
            throw StorageError(
                code: .database, message: "this PostgresStore's connection pool has run already; make a new store")
        }
    }

    /// Runs the connection pool in a child task while `body` runs, and stops it when `body` returns or
    /// throws: the way to use the store outside a `ServiceGroup`, as tests and the daemon's start-up do.
    /// - Returns: what `body` returns.
    public func withRunningClient<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try claimRun()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            // The body waits until the child is about to run the pool, so that its first query does
            // not find the pool not yet started (which postgres-nio warns of).
            await withCheckedContinuation { (running: CheckedContinuation<Void, Never>) in
                group.addTask {
                    running.resume()
                    await self.client.run()
                }
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Creates or updates the schema (see ``PostgresMigrations``), safely while other daemons do the
    /// same, and so also checks that the server can be reached and the role may use the database.
    /// - Parameter timeout: how long to wait for the server before giving up.
    /// - Returns: the versions this call applied.
    /// - Throws: ``StorageError`` `.unreachable` naming the server when it could not be reached (it
    ///   may answer later), `.database` with what it refused, `.newerSchema` for a database a newer
    ///   version migrated.
    @discardableResult
    public func migrate(within timeout: Duration = .seconds(30)) async throws -> [Int] {
        let logger = logger
        let target = configuration.target
        do {
            return try await withThrowingTaskGroup(of: [Int]?.self) { group in
                group.addTask { try await PostgresMigrations.migrate(self, logger: logger) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                if let first = try await group.next(), let applied = first { return applied }
                // The pool retries in silence; one connection of its own says why it failed.
                let failure = await probe()
                let reason = failure.map { ": \($0.reason)" } ?? ""
                throw StorageError(
                    code: failure?.serverAnswered == true ? .database : .unreachable,
                    message:
                        "PostgreSQL at \(target) did not answer within \(timeout)\(reason); is the server running and reachable, and are the URL's user, database and sslmode right?"
                )
            }
        } catch let error as StorageError {
            throw error
        } catch {
            throw Self.storageError(error, target: target, doing: "migration")
        }
    }

    /// Opens and closes one connection outside the pool.
    /// - Returns: why it failed, in words without the password, and whether the server answered (a
    ///   refusal: a wrong password, a missing database) or could not be reached; `nil` when it worked.
    func probe() async -> (reason: String, serverAnswered: Bool)? {
        do {
            let connection = try await PostgresConnection.connect(
                configuration: configuration.connectionConfiguration(), id: 0, logger: logger)
            try await connection.close()
            return nil
        } catch {
            return (Self.reason(error), (error as? PSQLError)?.serverInfo != nil)
        }
    }

    /// Runs one statement outside a transaction, for tests' set-up (`CREATE DATABASE`, which cannot run
    /// in one).
    /// - Throws: ``StorageError`` `.database` with what the server refused.
    package func execute(_ statement: PostgresQuery) async throws {
        _ = try await rows(statement, doing: "statement") { _ in () }
    }

    /// Runs `body` in one transaction on one connection: all of its changes are kept, or none.
    /// Every statement of it, `BEGIN` and `COMMIT` included, goes through
    /// `PostgresConnection.settledQuery(_:logger:)`, so that a connection lost midway fails the call
    /// rather than leaving it waiting.
    /// - Parameter work: what the call is, for its error ("write", "migration").
    /// - Throws: a ``StorageError`` that `body` throws, as it is; any other failure as `.database`.
    package func transaction<T: Sendable>(
        doing work: String = "write", _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let logger = logger
        do {
            return try await client.withConnection { connection in
                try await Self.execute("BEGIN", on: connection, logger: logger)
                let value: T
                do {
                    value = try await body(connection)
                } catch {
                    // A connection that is gone has rolled back already; this one is told to.
                    if !connection.isClosed { try? await Self.execute("ROLLBACK", on: connection, logger: logger) }
                    throw error
                }
                try await Self.execute("COMMIT", on: connection, logger: logger)
                return value
            }
        } catch {
            throw Self.storageError(error, target: configuration.target, doing: work)
        }
    }

    /// Runs `query` outside a transaction and reads each row it answers with `decode`.
    /// - Throws: a ``StorageError`` `decode` throws, as it is; any other failure as `.database`.
    func rows<T>(_ query: PostgresQuery, doing work: String = "read", _ decode: (PostgresRow) throws -> T)
        async throws -> [T]
    {
        let logger = logger
        do {
            let answer = try await client.withConnection { connection in
                try await connection.settledQuery(query, logger: logger)
            }
            return try answer.rows.map(decode)
        } catch {
            throw Self.storageError(error, target: configuration.target, doing: work)
        }
    }

    /// Reads each row `query` answers with `decode`, on `connection` (inside a transaction).
    static func rows<T>(
        _ query: PostgresQuery, on connection: PostgresConnection, logger: Logger,
        _ decode: (PostgresRow) throws -> T
    ) async throws -> [T] {
        try await connection.settledQuery(query, logger: logger).rows.map(decode)
    }

    /// Runs a statement whose rows, if any, are not needed, on `connection`.
    static func execute(_ statement: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws {
        _ = try await connection.settledQuery(statement, logger: logger)
    }

    /// `error` as the module's error, in words that name the server but never a password, a webhook
    /// secret or a stored value: PostgreSQL's message and SQLSTATE, not its detail (which quotes rows).
    static func storageError(_ error: any Error, target: String, doing work: String) -> StorageError {
        switch error {
        case let error as StorageError:
            return error
        case is ConnectionClosedBeforeAnswer:
            return StorageError(
                code: .database,
                message: "the connection to PostgreSQL at \(target) closed before it answered a \(work)")
        case let error as PSQLError:
            if error.serverInfo != nil {
                return StorageError(
                    code: .database, message: "PostgreSQL at \(target) refused a \(work): \(reason(error))")
            }
            return StorageError(
                code: .database, message: "cannot use PostgreSQL at \(target) for a \(work): \(reason(error))")
        case let error as ConnectionPoolError where error == .connectionCreationCircuitBreakerTripped:
            // postgres-nio's pool fails what waits for a connection once its attempts have failed for a
            // minute, and then at once until one succeeds.
            return StorageError(
                code: .database,
                message:
                    "cannot reach PostgreSQL at \(target) for a \(work): every connection attempt has failed for a minute or more; is the server up and reachable?"
            )
        case is PostgresDecodingError:
            return StorageError(
                code: .database,
                message:
                    "a value stored in PostgreSQL at \(target) has the wrong type for its column (was the database edited by hand?)"
            )
        default:
            return StorageError(code: .database, message: "PostgreSQL at \(target) failed a \(work): \(error)")
        }
    }

    /// What went wrong, in one phrase: the server's message and SQLSTATE (not its detail, which can
    /// quote a row), or the client's code and the underlying error (such as a refused connection).
    static func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let info = error.serverInfo {
            let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return "\(info[.message] ?? "an error")\(state)"
        }
        // An underlying PSQLError describes itself only as "Generic description…": its code says more.
        return "\(error.code)" + (error.underlying.map { ": \(reason($0))" } ?? "")
    }

    /// Whether `error` is PostgreSQL's refusal of a row that breaks the unique constraint `constraint`.
    static func violates(_ constraint: String, _ error: any Error) -> Bool {
        guard let error = error as? PSQLError, let info = error.serverInfo else { return false }
        return info[.sqlState] == "23505" && info[.constraintName] == constraint
    }
}
