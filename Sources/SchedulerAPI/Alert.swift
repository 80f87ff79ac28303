import Foundation

/// An alert as the API shows it: an element of `GET /api/v1/alerts`. Its target is shown by kind
/// and where it goes (a host, mail addresses), never with a secret or a URL's path.
///
/// ```swift
/// let list = try WireFormat.decode(AlertList.self, from: body)
/// for alert in list.alerts where alert.state == "failed" { print(alert.lastError ?? "") }
/// ```
public struct Alert: Sendable, Hashable {
    /// `alt_…`.
    public var id: String
    /// The schedule's name when the alert was made.
    public var schedule: String
    /// The schedule's id; `nil` once it is gone.
    public var scheduleID: String?
    /// `failure`, `recovered`, `missed`, `overdue` or `success`.
    public var event: String
    /// The run it is about, if any.
    public var runID: String?
    /// `webhook`, `slack` or `email`.
    public var target: String
    /// Where it goes: the receiver's host, or the mail's recipients.
    public var destination: String
    /// `pending`, `delivered` or `failed`.
    public var state: String
    /// Deliveries tried so far.
    public var attempts: Int
    /// When it was made.
    public var createdAt: Date
    /// When the next try is due (pending alerts).
    public var nextAttemptAt: Date?
    /// When the receiver took it.
    public var deliveredAt: Date?
    /// Why the last try failed.
    public var lastError: String?
    /// The JSON body the receivers are told.
    public var payload: OpaqueJSON

    /// An alert as the API shows it.
    public init(
        id: String, schedule: String, scheduleID: String?, event: String, runID: String?, target: String,
        destination: String, state: String, attempts: Int, createdAt: Date, nextAttemptAt: Date?, deliveredAt: Date?,
        lastError: String?, payload: OpaqueJSON
    ) {
        self.id = id
        self.schedule = schedule
        self.scheduleID = scheduleID
        self.event = event
        self.runID = runID
        self.target = target
        self.destination = destination
        self.state = state
        self.attempts = attempts
        self.createdAt = createdAt
        self.nextAttemptAt = nextAttemptAt
        self.deliveredAt = deliveredAt
        self.lastError = lastError
        self.payload = payload
    }
}

extension Alert: Codable {
    enum CodingKeys: String, CodingKey {
        case id, schedule, event, target, destination, state, attempts, payload
        case scheduleID = "schedule_id"
        case runID = "run_id"
        case createdAt = "created_at"
        case nextAttemptAt = "next_attempt_at"
        case deliveredAt = "delivered_at"
        case lastError = "last_error"
    }

    /// Reads an alert; fields it does not know are ignored (a newer daemon may add some).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        schedule = try c.decode(String.self, forKey: .schedule)
        scheduleID = try c.decodeIfPresent(String.self, forKey: .scheduleID)
        event = try c.decode(String.self, forKey: .event)
        runID = try c.decodeIfPresent(String.self, forKey: .runID)
        target = try c.decode(String.self, forKey: .target)
        destination = try c.decode(String.self, forKey: .destination)
        state = try c.decode(String.self, forKey: .state)
        attempts = try c.decode(Int.self, forKey: .attempts)
        createdAt = try c.decodeTimestamp(forKey: .createdAt)
        nextAttemptAt = try c.decodeTimestampIfPresent(forKey: .nextAttemptAt)
        deliveredAt = try c.decodeTimestampIfPresent(forKey: .deliveredAt)
        lastError = try c.decodeIfPresent(String.self, forKey: .lastError)
        payload = try c.decodeIfPresent(OpaqueJSON.self, forKey: .payload) ?? .object([:])
    }

    /// Writes an alert: every field, `null` where there is no value.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(schedule, forKey: .schedule)
        try c.encodeNullable(scheduleID, forKey: .scheduleID)
        try c.encode(event, forKey: .event)
        try c.encodeNullable(runID, forKey: .runID)
        try c.encode(target, forKey: .target)
        try c.encode(destination, forKey: .destination)
        try c.encode(state, forKey: .state)
        try c.encode(attempts, forKey: .attempts)
        try c.encodeTimestamp(createdAt, forKey: .createdAt)
        try c.encodeTimestamp(nextAttemptAt, forKey: .nextAttemptAt)
        try c.encodeTimestamp(deliveredAt, forKey: .deliveredAt)
        try c.encodeNullable(lastError, forKey: .lastError)
        try c.encode(payload, forKey: .payload)
    }
}

/// `GET /api/v1/alerts`: the latest alerts, newest first.
public struct AlertList: Codable, Sendable, Hashable {
    /// The alerts.
    public var alerts: [Alert]

    /// A page of alerts.
    public init(alerts: [Alert]) {
        self.alerts = alerts
    }
}
