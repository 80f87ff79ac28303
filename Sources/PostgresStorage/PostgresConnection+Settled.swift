import Logging
import NIOCore
import PostgresNIO

/// Queries that always end. postgres-nio 1.33 hands a query to its connection's channel without
/// watching that hand-over: a query written after the connection closed (the server went away
/// between the pool's lease and the write, or while the transaction before it ran) is dropped at the
/// closed channel, and its answer is awaited for ever. A daemon's timer or heartbeat waiting on such
/// a query stops for good. ``settledQuery(_:logger:)`` fails the query instead.
extension PostgresConnection {
    /// Runs `query` and collects its rows; fails with ``ConnectionClosedBeforeAnswer`` when the
    /// connection had closed by the time the query reached it.
    ///
    /// The check runs on the connection's event loop right after the query's write, which that loop
    /// runs first: a connection open then has the query in its handler, which answers it or fails it
    /// when the connection closes later; a connection closed then may have dropped it.
    func settledQuery(_ query: PostgresQuery, logger: Logger) async throws -> PostgresQueryResult {
        let answer = startQuery(query, logger: logger)
        let settled = eventLoop.makePromise(of: PostgresQueryResult.self)
        answer.cascade(to: settled)
        eventLoop.execute { [self] in
            // A promise completes once: when the handler failed the query first, this is ignored.
            if isClosed { settled.fail(ConnectionClosedBeforeAnswer()) }
        }
        return try await settled.futureResult.get()
    }

    /// Writes `query` to the connection; its rows when they are all in.
    private func startQuery(_ query: PostgresQuery, logger: Logger) -> EventLoopFuture<PostgresQueryResult> {
        self.query(query, logger: logger)
    }
}

/// A query that reached its connection after the connection had closed: it was not run, or its
/// answer was lost with the connection (what it wrote is rolled back unless it was the `COMMIT`).
struct ConnectionClosedBeforeAnswer: Error, CustomStringConvertible {
    var description: String { "the connection closed before the query was answered" }
}
