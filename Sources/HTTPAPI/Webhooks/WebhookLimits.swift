import Foundation

/// Limits on webhook requests.
public struct WebhookLimits: Sendable {
    /// The largest body accepted; a larger one gets 413 before more of it is read.
    public var maxBody: Int
    /// Requests per second each hook accepts on average (a token bucket).
    public var ratePerSecond: Double
    /// How many requests a hook accepts at once before the rate applies.
    public var burst: Int
    /// The longest `?wait=` a caller may ask for.
    public var maxWait: Duration
    /// How far a Standard Webhooks timestamp may be from the daemon's clock, either way, in seconds.
    public var timestampTolerance: TimeInterval

    /// Limits for webhooks; each is clamped to a usable value (a body of at least one byte, …).
    public init(
        maxBody: Int = 1 << 20, ratePerSecond: Double = 50, burst: Int = 100, maxWait: Duration = .seconds(60),
        timestampTolerance: TimeInterval = 300
    ) {
        self.maxBody = max(1, maxBody)
        self.ratePerSecond = max(0.001, ratePerSecond)
        self.burst = max(1, burst)
        self.maxWait = maxWait
        self.timestampTolerance = timestampTolerance
    }
}
