import Foundation

/// A daemon process using the store, as its heartbeats leave it: several daemons can share one
/// PostgreSQL database, and each tells the others (and `schedule instances`) that it is alive.
public struct InstanceRecord: Sendable, Hashable {
    /// A fresh id per process, `ins_` and a ``SortableID``: a restarted daemon is a new instance.
    public var id: String
    /// The machine's host name.
    public var host: String
    /// The daemon's version.
    public var version: String
    /// When the process started, by its own clock.
    public var startedAt: Date
    /// Its latest heartbeat, by the database's clock (the store sets it).
    public var heartbeatAt: Date
    /// How many runs it was running at that heartbeat.
    public var runsRunning: Int
    /// How far its clock was from the database's at that heartbeat, in milliseconds (positive: its
    /// clock is ahead); `nil` before it was measured.
    public var clockOffsetMs: Int64?

    /// An instance; ``heartbeatAt`` is replaced by the store's clock when it is stored.
    public init(
        id: String = SortableID.make("ins"), host: String, version: String, startedAt: Date,
        heartbeatAt: Date = Date(timeIntervalSince1970: 0), runsRunning: Int = 0, clockOffsetMs: Int64? = nil
    ) {
        self.id = id
        self.host = host
        self.version = version
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
        self.runsRunning = runsRunning
        self.clockOffsetMs = clockOffsetMs
    }
}
