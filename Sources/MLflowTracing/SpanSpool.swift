import Foundation
import GRDB
import Synchronization

/// The durable queue between ended spans and MLflow: a SQLite file (WAL) in the data directory.
///
/// Spans are appended in the order they ended and deleted once delivered, so a crash or an MLflow
/// outage loses nothing that reached the spool. The spool is bounded in span count and bytes; past
/// either bound the oldest spans are dropped (and counted) so that the caller is never blocked.
/// Payloads that MLflow refuses (400/422) move to a dead-letter table with the reason.
final class SpanSpool: Sendable {
    struct Row: Sendable {
        var id: Int64
        var traceID: String
        var isRoot: Bool
        var payload: [UInt8]
    }

    struct Totals: Sendable, Equatable {
        var count: Int
        var bytes: Int
    }

    let path: String
    private let queue: DatabaseQueue
    /// Count and bytes of the rows in `trace_spool`, kept in memory so bounds cost no scan.
    private let counters: Mutex<Totals>

    init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
        }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE trace_spool (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        trace_id TEXT NOT NULL,
                        span_id TEXT NOT NULL,
                        is_root INTEGER NOT NULL,
                        size INTEGER NOT NULL,
                        payload BLOB NOT NULL,
                        enqueued_at INTEGER NOT NULL
                    );
                    CREATE TABLE trace_dead_letter (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        trace_id TEXT NOT NULL,
                        span_count INTEGER NOT NULL,
                        http_status INTEGER,
                        reason TEXT NOT NULL,
                        payload BLOB NOT NULL,
                        failed_at INTEGER NOT NULL
                    );
                    """)
        }
        try migrator.migrate(queue)
        counters = Mutex(try queue.read { try Self.totals($0) })
    }

    /// Appends encoded spans in one transaction, then drops the oldest rows beyond the bounds.
    /// - Returns: how many rows were dropped to stay within the bounds.
    func append(_ spans: [(span: FinishedSpan, payload: [UInt8])], maxCount: Int, maxBytes: Int) throws -> Int {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let added = spans.reduce(0) { $0 + $1.payload.count }
        let current = counters.withLock { $0 }
        let (dropped, droppedBytes) = try queue.write { db -> (Int, Int) in
            let insert = try db.makeStatement(
                sql:
                    "INSERT INTO trace_spool (trace_id, span_id, is_root, size, payload, enqueued_at) VALUES (?,?,?,?,?,?)"
            )
            for (span, payload) in spans {
                try insert.execute(arguments: [
                    span.traceID.hex, span.spanID.hex, span.isRoot, payload.count, Data(payload), now,
                ])
            }
            var count = current.count + spans.count
            var bytes = current.bytes + added
            guard count > maxCount || bytes > maxBytes else { return (0, 0) }
            // Drop the oldest rows until both bounds hold.
            var doomed: [Int64] = []
            var doomedBytes = 0
            let cursor = try SQLiteRow.fetchCursor(db, sql: "SELECT id, size FROM trace_spool ORDER BY id")
            while count > maxCount || bytes > maxBytes, let row = try cursor.next() {
                let size: Int = row[1]
                doomed.append(row[0])
                doomedBytes += size
                count -= 1
                bytes -= size
            }
            try Self.deleteRows(db, ids: doomed)
            return (doomed.count, doomedBytes)
        }
        counters.withLock {
            $0.count += spans.count - dropped
            $0.bytes += added - droppedBytes
        }
        return dropped
    }

    /// The oldest rows, up to `maxSpans` spans and about `maxBytes` bytes (at least one row).
    func oldest(maxSpans: Int, maxBytes: Int) throws -> [Row] {
        try queue.read { db in
            var rows: [Row] = []
            var bytes = 0
            let cursor = try SQLiteRow.fetchCursor(
                db, sql: "SELECT id, trace_id, is_root, payload FROM trace_spool ORDER BY id LIMIT ?",
                arguments: [maxSpans])
            while let row = try cursor.next() {
                let payload: Data = row[3]
                if !rows.isEmpty && bytes + payload.count > maxBytes { break }
                bytes += payload.count
                rows.append(Row(id: row[0], traceID: row[1], isRoot: row[2], payload: [UInt8](payload)))
            }
            return rows
        }
    }

    /// Deletes delivered rows (rows already gone are ignored).
    func delete(ids: [Int64]) throws {
        guard !ids.isEmpty else { return }
        let (count, bytes) = try queue.write { db in try Self.deleteRows(db, ids: ids) }
        counters.withLock {
            $0.count -= count
            $0.bytes -= bytes
        }
    }

    @discardableResult
    private static func deleteRows(_ db: Database, ids: [Int64]) throws -> (count: Int, bytes: Int) {
        var count = 0
        var bytes = 0
        for chunk in stride(from: 0, to: ids.count, by: 500) {
            let part = Array(ids[chunk..<min(chunk + 500, ids.count)])
            let sizes = try Int.fetchAll(
                db,
                sql: "DELETE FROM trace_spool WHERE id IN (\(databaseQuestionMarks(count: part.count))) RETURNING size",
                arguments: StatementArguments(part))
            count += sizes.count
            bytes += sizes.reduce(0, +)
        }
        return (count, bytes)
    }

    /// Moves a refused trace's rows to the dead-letter table.
    func deadLetter(_ rows: [Row], status: Int?, reason: String) throws {
        guard let traceID = rows.first?.traceID else { return }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let payload = OTLPJSON.request(spans: rows.map(\.payload), serviceName: "schedulerd")
        let (count, bytes) = try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO trace_dead_letter (trace_id, span_count, http_status, reason, payload, failed_at)
                    VALUES (?,?,?,?,?,?)
                    """,
                arguments: [traceID, rows.count, status, reason, Data(payload), now])
            return try Self.deleteRows(db, ids: rows.map(\.id))
        }
        counters.withLock {
            $0.count -= count
            $0.bytes -= bytes
        }
    }

    /// Spans and bytes waiting in the spool.
    var totals: Totals { counters.withLock { $0 } }

    func deadLetterCount() throws -> Int {
        try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM trace_dead_letter") ?? 0 }
    }

    private static func totals(_ db: Database) throws -> Totals {
        let row = try SQLiteRow.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM trace_spool")
        return Totals(count: row?[0] ?? 0, bytes: row?[1] ?? 0)
    }
}

typealias SQLiteRow = GRDB.Row
