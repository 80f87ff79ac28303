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
    /// Whether the writes a caller has been told succeeded survive a power loss.
    public let durability: Durability

    /// How far a committed write is on disk: the file runs in WAL mode with `synchronous = NORMAL`,
    /// where a commit is safe from a crash of the process but the last ones may be lost when the
    /// machine loses power; ``full`` syncs the WAL at the commit of every write that stores a promise
    /// (``write(durable:_:)``).
    public enum Durability: String, Sendable, CaseIterable {
        /// New runs (accepted webhook deliveries, manual runs, the timer's fires with their cursors)
        /// and schedule changes are synced to disk before the caller hears they are stored. Writes
        /// whose loss is harmless (a run's start, progress and end, heartbeats, leases, pruning) do
        /// not wait for a sync of their own, only when they share a transaction with new runs: after
        /// a power loss a run that had ended may be found running, and is closed as interrupted
        /// like after a crash.
        case full
        /// Nothing is synced at commit: the last writes before a power loss may be gone, a crash
        /// of the process alone loses nothing.
        case normal
    }

    /// Opens (creating and migrating when needed) the database at `path`.
    /// - Parameters:
    ///   - path: the database file; its directory is created when missing.
    ///   - durability: what survives a power loss (``Durability``); ``Durability/full`` unless told.
    /// - Throws: ``StorageError`` `.database` with what went wrong.
    public init(path: String, durability: Durability = .full) throws {
        self.path = path
        self.durability = durability
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
    /// - Parameter durable: the write stores something the caller promises to others (a 202, a
    ///   claimed fire): with ``Durability/full`` its commit is synced to disk before this returns.
    ///   SQLite refuses to change `synchronous` inside a transaction, so it is raised for this one
    ///   around it, on the one writer connection, and lowered again after. Writes that arrive
    ///   meanwhile wait for the writer, as always; the run journal gathers them into the next
    ///   transaction, so one sync covers all of them.
    /// - Throws: a ``StorageError`` that `body` throws, as it is; any other failure as `.database`.
    func write<T: Sendable>(durable: Bool = false, _ body: @escaping @Sendable (Database) throws -> T) async throws
        -> T
    {
        do {
            guard durable && durability == .full else { return try await pool.write(body) }
            return try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
                var result: T?
                try db.inTransaction {
                    result = try body(db)
                    return .commit
                }
                return result!
            }
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
