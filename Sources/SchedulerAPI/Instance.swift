import Foundation

/// A daemon using the store, as its heartbeats show it: an element of `GET /api/v1/instances`.
/// Several daemons can share one PostgreSQL database; with SQLite there is one.
public struct Instance: Sendable, Hashable {
    /// `ins_…`, fresh for each process.
    public var id: String
    /// Its machine's host name.
    public var host: String
    /// Its version.
    public var version: String
    /// When it started.
    public var startedAt: Date
    /// Its latest heartbeat, by the database's clock.
    public var lastHeartbeat: Date
    /// Runs it was running at that heartbeat.
    public var runsRunning: Int
    /// Its clock minus the database's, in milliseconds; `nil` before it was measured.
    public var clockOffsetMs: Int64?
    /// Whether its latest heartbeat is recent (within three heartbeat intervals, 15 s).
    public var alive: Bool
    /// Whether it is the instance that answered.
    public var this: Bool

    /// An instance as the API shows it.
    public init(
        id: String, host: String, version: String, startedAt: Date, lastHeartbeat: Date, runsRunning: Int,
        clockOffsetMs: Int64?, alive: Bool, this: Bool
    ) {
        self.id = id
        self.host = host
        self.version = version
        self.startedAt = startedAt
        self.lastHeartbeat = lastHeartbeat
        self.runsRunning = runsRunning
        self.clockOffsetMs = clockOffsetMs
        self.alive = alive
        self.this = this
    }
}

extension Instance: Codable {
    enum CodingKeys: String, CodingKey {
        case id, host, version, alive, this
        case startedAt = "started_at"
        case lastHeartbeat = "last_heartbeat"
        case runsRunning = "runs_running"
        case clockOffsetMs = "clock_offset_ms"
    }

    /// Reads an instance.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        host = try c.decode(String.self, forKey: .host)
        version = try c.decode(String.self, forKey: .version)
        startedAt = try c.decodeTimestamp(forKey: .startedAt)
        lastHeartbeat = try c.decodeTimestamp(forKey: .lastHeartbeat)
        runsRunning = try c.decode(Int.self, forKey: .runsRunning)
        clockOffsetMs = try c.decodeIfPresent(Int64.self, forKey: .clockOffsetMs)
        alive = try c.decode(Bool.self, forKey: .alive)
        this = try c.decode(Bool.self, forKey: .this)
    }

    /// Writes an instance: every field, `null` for an offset not measured yet.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(host, forKey: .host)
        try c.encode(version, forKey: .version)
        try c.encodeTimestamp(startedAt, forKey: .startedAt)
        try c.encodeTimestamp(lastHeartbeat, forKey: .lastHeartbeat)
        try c.encode(runsRunning, forKey: .runsRunning)
        try c.encodeNullable(clockOffsetMs, forKey: .clockOffsetMs)
        try c.encode(alive, forKey: .alive)
        try c.encode(this, forKey: .this)
    }
}

/// `GET /api/v1/instances`: the daemons seen in the last day, in the order they started.
public struct InstanceList: Codable, Sendable, Hashable {
    /// The instances.
    public var instances: [Instance]

    /// A list of instances.
    public init(instances: [Instance]) {
        self.instances = instances
    }
}
