import Foundation
import GRDB

/// The embedded store: one SQLite file (`<data-dir>/schedulerd.sqlite`) in WAL mode with foreign
/// keys and a busy timeout. GRDB runs every statement on its own threads, so callers never block the
/// cooperative pool.
///
/// The tables are described by ``SQLiteMigrations``; their rows are GRDB records (`ScheduleRow`,
/// `RunRow`). The schedule queries are in `SQLiteStore+Schedules.swift`, the run queries in
/// `SQLiteStore+Runs.swift`.
///
/// ```swift
/// let store = try SQLiteStore(path: "/var/lib/schedulerd/schedulerd.sqlite")
/// try await store.insertSchedule(ScheduleRecord(name: "nightly", cron: "0 2 * * *", workflow: "backup"))
/// let latest = try await store.runs(scheduleID: nil, limit: 20, before: nil)
/// ```
public final class SQLiteStore: SchedulerStore {
    let pool: DatabasePool
    /// The database file this store opened.
    public let path: String

    /// Opens (creating and migrating when needed) the database at `path`.
    /// - Parameter path: the database file; its directory is created when missing.
    /// - Throws: ``StorageError`` `.database` with what went wrong.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            pool = try DatabasePool(path: path, configuration: configuration)
            let superseded = try pool.read { db in try SQLiteMigrations.migrator.hasBeenSuperseded(db) }
            guard !superseded else {
                throw StorageError(
                    code: .newerSchema,
                    message:
                        "the database \(path) was changed by a newer schedulerd (it has tables this version does not know); run that version or newer, or restore a copy made before it"
                )
            }
            try SQLiteMigrations.migrator.migrate(pool)
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(code: .database, message: "cannot open the database \(path): \(error)")
        }
    }

    /// Runs `body` in one write transaction: all of its changes are kept, or none.
    /// - Throws: a ``StorageError`` that `body` throws, as it is; any other failure as `.database`.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw Self.storageError(error, doing: "write")
        }
    }

    /// Runs `body` on a snapshot of the database, concurrently with other reads and with a write.
    /// - Throws: a ``StorageError`` that `body` throws (a row that cannot be read), as it is; any other
    ///   failure as `.database`.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storageError(error, doing: "read")
        }
    }

    /// `error` as the module's error. GRDB's decoding errors print the whole row, which can hold a
    /// webhook secret or a payload, so they become a message without it.
    private static func storageError(_ error: any Error, doing work: String) -> StorageError {
        switch error {
        case let error as StorageError:
            error
        case is RowDecodingError:
            StorageError(
                code: .database,
                message: "a stored value has the wrong type for its column (was the database edited by hand?)")
        default:
            StorageError(code: .database, message: "the database refused a \(work): \(error)")
        }
    }
}
