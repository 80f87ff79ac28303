import Foundation
import GRDB
import RunTracing
import Synchronization

/// The durable queue between ended spans and their destinations: a SQLite file (WAL) in the data
/// directory.
///
/// Spans are appended in the order they ended, with one pending delivery per destination (MLflow,
/// and optionally an OTLP collector); a span is deleted once every destination has it. A crash or an
/// outage therefore loses nothing that reached the spool. The spool is bounded in span count and
/// bytes; past either bound the oldest spans are dropped (and counted) so that the caller is never
/// blocked. Payloads a destination refuses (400/422) move to a dead-letter table with the reason.
final class SpanSpool: Sendable {
    struct Row: Sendable {
        var id: Int64
        var traceID: String
        /// 16 lowercase hex digits.
        var spanID: String = ""
        var isRoot: Bool
        var payload: [UInt8]
    }

    struct Totals: Sendable, Equatable {
        var count: Int
        var bytes: Int
    }

    private struct Counters {
        var totals: Totals
        var pending: [String: Int]
    }

    let path: String
    let destinations: [String]
    private let queue: DatabaseQueue
    /// The spool's own thread for database work.
    private let io = DispatchQueue(label: "schedulerd.trace-spool")
    /// Counts kept in memory so that bounds and metrics cost no scan.
    private let counters: Mutex<Counters>

    /// Opens or creates the spool. Deliveries pending for destinations no longer in `destinations`
    /// are forgotten; a destination added since gets only new spans.
    init(path: String, destinations: [String] = ["mlflow"]) throws {
        self.path = path
        self.destinations = destinations
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
                    CREATE TABLE trace_delivery (
                        destination TEXT NOT NULL,
                        spool_id INTEGER NOT NULL,
                        PRIMARY KEY (destination, spool_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX trace_delivery_spool ON trace_delivery(spool_id);
                    CREATE TABLE trace_dead_letter (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        destination TEXT NOT NULL,
                        trace_id TEXT NOT NULL,
                        span_count INTEGER NOT NULL,
                        http_status INTEGER,
                        reason TEXT NOT NULL,
                        payload BLOB NOT NULL,
                        failed_at INTEGER NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2 rows by trace") { db in
            try db.execute(sql: "CREATE INDEX trace_spool_trace ON trace_spool(trace_id, id)")
        }
        try migrator.migrate(queue)
        counters = Mutex(
            try queue.write { db in
                try db.execute(
                    sql:
                        "DELETE FROM trace_delivery WHERE destination NOT IN (\(databaseQuestionMarks(count: destinations.count)))",
                    arguments: StatementArguments(destinations))
                try db.execute(
                    sql: "DELETE FROM trace_spool WHERE id NOT IN (SELECT spool_id FROM trace_delivery)")
                let row = try SQLiteRow.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM trace_spool")
                var pending: [String: Int] = [:]
                for destination in destinations {
                    pending[destination] =
                        try Int.fetchOne(
                            db, sql: "SELECT COUNT(*) FROM trace_delivery WHERE destination = ?",
                            arguments: [destination])
                        ?? 0
                }
                return Counters(totals: Totals(count: row?[0] ?? 0, bytes: row?[1] ?? 0), pending: pending)
            })
    }

    /// Appends encoded spans in one transaction, then drops the oldest rows beyond the bounds.
    /// - Returns: how many rows were dropped to stay within the bounds.
    /// Appends on the spool's own thread: the caller's task suspends, no cooperative thread blocks, and
    /// a cancelled caller still gets its spans written.
    func append(_ spans: [(span: FinishedSpan, payload: [UInt8])], maxCount: Int, maxBytes: Int) async throws -> Int {
        try await offload { try self.appendBlocking(spans, maxCount: maxCount, maxBytes: maxBytes) }
    }

    func oldest(for destination: String = "mlflow", maxSpans: Int, maxBytes: Int) async throws -> [Row] {
        try await offload { try self.oldestBlocking(for: destination, maxSpans: maxSpans, maxBytes: maxBytes) }
    }

    func delivered(ids: [Int64], to destination: String = "mlflow") async throws {
        try await offload { try self.deliveredBlocking(ids: ids, to: destination) }
    }

    func deadLetter(_ rows: [Row], destination: String = "mlflow", status: Int?, reason: String) async throws {
        try await offload {
            try self.deadLetterBlocking(rows, destination: destination, status: status, reason: reason)
        }
    }

    private func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            io.async { continuation.resume(with: Result { try body() }) }
        }
    }

    private func appendBlocking(
        _ spans: [(span: FinishedSpan, payload: [UInt8])], maxCount: Int, maxBytes: Int
    ) throws -> Int {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let added = spans.reduce(0) { $0 + $1.payload.count }
        let current = counters.withLock { $0.totals }
        let destinations = self.destinations
        let dropped = try queue.write { db -> (count: Int, bytes: Int, deliveries: [String: Int]) in
            let insert = try db.makeStatement(
                sql:
                    "INSERT INTO trace_spool (trace_id, span_id, is_root, size, payload, enqueued_at) VALUES (?,?,?,?,?,?)"
            )
            let deliver = try db.makeStatement(sql: "INSERT INTO trace_delivery (destination, spool_id) VALUES (?,?)")
            for (span, payload) in spans {
                try insert.execute(arguments: [
                    span.traceID.hex, span.spanID.hex, span.isRoot, payload.count, Data(payload), now,
                ])
                let id = db.lastInsertedRowID
                for destination in destinations { try deliver.execute(arguments: [destination, id]) }
            }
            var count = current.count + spans.count
            var bytes = current.bytes + added
            guard count > maxCount || bytes > maxBytes else { return (0, 0, [:]) }
            // Drop the oldest rows until both bounds hold.
            var doomed: [Int64] = []
            let cursor = try SQLiteRow.fetchCursor(db, sql: "SELECT id, size FROM trace_spool ORDER BY id")
            while count > maxCount || bytes > maxBytes, let row = try cursor.next() {
                let size: Int = row[1]
                doomed.append(row[0])
                count -= 1
                bytes -= size
            }
            return try Self.deleteRows(db, ids: doomed)
        }
        counters.withLock {
            $0.totals.count += spans.count - dropped.count
            $0.totals.bytes += added - dropped.bytes
            for destination in destinations {
                $0.pending[destination, default: 0] += spans.count - (dropped.deliveries[destination] ?? 0)
            }
        }
        return dropped.count
    }

    /// The rows to send next to `destination`, up to `maxSpans` spans and about `maxBytes` bytes (at
    /// least one row): whole traces, oldest first. The traces of the oldest rows owed, in the order of
    /// their oldest row, each with every row of it owed (in the order they ended, so a trace's root
    /// comes after its children). Runs going on side by side interleave their spans in the spool; a
    /// request of the oldest rows alone would touch a trace per few spans, and MLflow's cost grows
    /// with the traces in a request more than with its spans.
    private func oldestBlocking(for destination: String, maxSpans: Int, maxBytes: Int) throws -> [Row] {
        try queue.read { db in
            let traces = try String.fetchAll(
                db,
                sql: """
                    SELECT s.trace_id FROM trace_delivery d JOIN trace_spool s ON s.id = d.spool_id
                    WHERE d.destination = ? ORDER BY d.spool_id LIMIT ?
                    """,
                arguments: [destination, maxSpans])
            let ofTrace = try db.makeStatement(
                sql: """
                    SELECT s.id, s.trace_id, s.is_root, s.payload, s.span_id FROM trace_spool s
                    JOIN trace_delivery d ON d.spool_id = s.id AND d.destination = ?
                    WHERE s.trace_id = ? ORDER BY s.id
                    """)
            var rows: [Row] = []
            var bytes = 0
            var seen: Set<String> = []
            traces: for trace in traces where seen.insert(trace).inserted {
                let cursor = try SQLiteRow.fetchCursor(ofTrace, arguments: [destination, trace])
                while let row = try cursor.next() {
                    let payload: Data = row[3]
                    if !rows.isEmpty && (rows.count >= maxSpans || bytes + payload.count > maxBytes) { break traces }
                    bytes += payload.count
                    rows.append(
                        Row(id: row[0], traceID: row[1], spanID: row[4], isRoot: row[2], payload: [UInt8](payload)))
                }
            }
            return rows
        }
    }

    /// Records that `destination` has these rows; rows every destination has are deleted.
    private func deliveredBlocking(ids: [Int64], to destination: String) throws {
        guard !ids.isEmpty else { return }
        let result = try queue.write { db in try Self.markDelivered(db, ids: ids, destination: destination) }
        apply(result, destination: destination)
    }

    /// Moves a refused trace's rows to the dead-letter table (for that destination).
    private func deadLetterBlocking(_ rows: [Row], destination: String, status: Int?, reason: String) throws {
        guard let traceID = rows.first?.traceID else { return }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let payload = OTLPJSON.request(spans: rows.map(\.payload), serviceName: "schedulerd")
        let result = try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO trace_dead_letter (destination, trace_id, span_count, http_status, reason, payload, failed_at)
                    VALUES (?,?,?,?,?,?,?)
                    """,
                arguments: [destination, traceID, rows.count, status, reason, Data(payload), now])
            return try Self.markDelivered(db, ids: rows.map(\.id), destination: destination)
        }
        apply(result, destination: destination)
    }

    /// Spans and bytes waiting in the spool (for any destination).
    var totals: Totals { counters.withLock { $0.totals } }

    /// Spans still owed to `destination`.
    func pending(for destination: String) -> Int { counters.withLock { $0.pending[destination] ?? 0 } }

    func deadLetterCount() throws -> Int {
        try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM trace_dead_letter") ?? 0 }
    }

    // MARK: - Private

    private struct Removal {
        var deliveries: Int
        var rows: Int
        var bytes: Int
    }

    private func apply(_ removal: Removal, destination: String) {
        counters.withLock {
            $0.pending[destination, default: 0] -= removal.deliveries
            $0.totals.count -= removal.rows
            $0.totals.bytes -= removal.bytes
        }
    }

    private static func markDelivered(_ db: Database, ids: [Int64], destination: String) throws -> Removal {
        var removal = Removal(deliveries: 0, rows: 0, bytes: 0)
        for chunk in stride(from: 0, to: ids.count, by: 500) {
            let part = Array(ids[chunk..<min(chunk + 500, ids.count)])
            let marks = databaseQuestionMarks(count: part.count)
            try db.execute(
                sql: "DELETE FROM trace_delivery WHERE destination = ? AND spool_id IN (\(marks))",
                arguments: StatementArguments([destination]) + StatementArguments(part))
            removal.deliveries += db.changesCount
            let sizes = try Int.fetchAll(
                db,
                sql: """
                    DELETE FROM trace_spool WHERE id IN (\(marks))
                    AND NOT EXISTS (SELECT 1 FROM trace_delivery WHERE spool_id = trace_spool.id) RETURNING size
                    """,
                arguments: StatementArguments(part))
            removal.rows += sizes.count
            removal.bytes += sizes.reduce(0, +)
        }
        return removal
    }

    /// Deletes spool rows and their pending deliveries.
    private static func deleteRows(_ db: Database, ids: [Int64]) throws -> (
        count: Int, bytes: Int, deliveries: [String: Int]
    ) {
        var count = 0
        var bytes = 0
        var deliveries: [String: Int] = [:]
        for chunk in stride(from: 0, to: ids.count, by: 500) {
            let part = Array(ids[chunk..<min(chunk + 500, ids.count)])
            let marks = databaseQuestionMarks(count: part.count)
            for destination in try String.fetchAll(
                db, sql: "DELETE FROM trace_delivery WHERE spool_id IN (\(marks)) RETURNING destination",
                arguments: StatementArguments(part))
            {
                deliveries[destination, default: 0] += 1
            }
            let sizes = try Int.fetchAll(
                db, sql: "DELETE FROM trace_spool WHERE id IN (\(marks)) RETURNING size",
                arguments: StatementArguments(part))
            count += sizes.count
            bytes += sizes.reduce(0, +)
        }
        return (count, bytes, deliveries)
    }
}

typealias SQLiteRow = GRDB.Row
