import Foundation
import Logging
import PostgresNIO
import Storage

/// The schedule change feed: every write that adds, changes or deletes schedules (or pauses one at
/// its last run) sends `NOTIFY` on ``scheduleChannel`` in its transaction, delivered at commit, with
/// the schedules' ids; every daemon `LISTEN`s on a connection of its own and reads those schedules
/// again, instead of learning of the change at its next poll.
extension PostgresStore {
    /// The channel schedule changes are announced on.
    static let scheduleChannel = "schedulerd_schedules"

    /// The id the listening connection gets in postgres-nio's logs (the pool's connections count up
    /// from 1).
    static let listenerConnectionID = 1_000_000

    /// Listens on ``scheduleChannel`` on a connection of its own until the task is cancelled.
    /// - Returns: true once cancelled.
    /// - Throws: ``StorageError`` `.unreachable` or `.database` when the connection cannot be opened
    ///   or breaks.
    public func followScheduleChanges(
        listening: @escaping @Sendable () -> Void, changed: @escaping @Sendable (ScheduleChangeNotice) async -> Void
    ) async throws -> Bool {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: configuration.connectionConfiguration(), id: Self.listenerConnectionID,
                logger: logger)
        } catch {
            throw StorageError(
                code: (error as? PSQLError)?.serverInfo == nil ? .unreachable : .database,
                message:
                    "cannot listen for schedule changes at \(configuration.target): \(Self.reason(error))")
        }
        do {
            // Closing the connection ends the notification sequence, which cancellation alone may not.
            try await withTaskCancellationHandler {
                try await connection.listen(on: Self.scheduleChannel) { notifications in
                    listening()
                    for try await notification in notifications {
                        await changed(ScheduleChangeNotice(payload: notification.payload))
                    }
                }
            } onCancel: {
                Task { try? await connection.close() }
            }
        } catch {
            try? await connection.close()
            if Task.isCancelled { return true }
            throw StorageError(
                code: .unreachable,
                message: "the schedule change feed at \(configuration.target) broke: \(Self.reason(error))")
        }
        try? await connection.close()
        return true
    }

    /// Announces, at commit, that the schedules `ids` changed.
    static func announce(_ ids: [String], on connection: PostgresConnection, logger: Logger) async throws {
        guard !ids.isEmpty else { return }
        let payload = ScheduleChangeNotice.payload(for: ids)
        try await Self.execute("SELECT pg_notify(\(scheduleChannel), \(payload))", on: connection, logger: logger)
    }
}
