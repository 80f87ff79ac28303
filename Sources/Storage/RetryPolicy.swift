import Foundation

/// How a schedule's run that did not succeed is tried again: each retry is a new run of the same
/// fire (``RunRecord/fireAttempt`` one higher, ``RunRecord/retryOf`` naming the run before), stored
/// queued with the backoff as its earliest start, so that it survives a restart like any queued run.
///
/// The wait before attempt `n + 1` is `backoff × 2^(n-1)`, at most `maxBackoff`, of which a random
/// part up to half is taken off ("equal jitter"): retries of many runs that failed together do not
/// all arrive at once, and none comes sooner than half its wait.
///
/// ```yaml
/// retry: {attempts: 3, backoff: 30s, max_backoff: 10m, on: [failed, timed_out, interrupted]}
/// ```
public struct RetryPolicy: Sendable, Hashable, Codable {
    /// Runs per fire at most, the first included: 1 never retries.
    public var attempts: Int
    /// The wait before the second attempt, in seconds; it doubles for each attempt after.
    public var backoffSeconds: Int
    /// The longest wait between two attempts, in seconds.
    public var maxBackoffSeconds: Int
    /// The ends that are retried: some of `failed`, `timed_out` and `interrupted` (never `cancelled`:
    /// someone or something meant the run to stop).
    public var on: Set<RunState>

    /// The ends a policy may retry.
    public static let retriable: [RunState] = [.failed, .timedOut, .interrupted]

    /// The most attempts a policy may ask for.
    public static let mostAttempts = 100

    /// A policy; left out: 30 s doubling up to 10 min, on every retriable end.
    public init(
        attempts: Int, backoffSeconds: Int = 30, maxBackoffSeconds: Int = 600,
        on: Set<RunState> = Set(Self.retriable)
    ) {
        self.attempts = attempts
        self.backoffSeconds = backoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
        self.on = on
    }

    /// No retries: what a schedule has when neither it nor the daemon's defaults give a policy.
    public static let never = RetryPolicy(attempts: 1)

    /// Whether a run of attempt `attempt` that ended `state` gets another attempt.
    public func retries(_ state: RunState, attempt: Int) -> Bool {
        attempt < attempts && on.contains(state)
    }

    /// The wait, in seconds, after attempt `attempt` (1 for the first run) before the next.
    /// - Parameter unit: a number from 0 up to 1 (a random one in use; fixed in tests): 0 waits the
    ///   whole backoff, 1 half of it.
    public func delay(after attempt: Int, unit: Double) -> Double {
        let doublings = max(0, min(attempt - 1, 30))
        let full = min(Double(maxBackoffSeconds), Double(backoffSeconds) * Double(1 << doublings))
        return full - full / 2 * min(max(unit, 0), 1)
    }

    /// The policy as stored with a schedule: a JSON object with the names of the YAML.
    public var json: String {
        let states = Self.retriable.filter(on.contains).map { "\"\($0.rawValue)\"" }.joined(separator: ",")
        return
            "{\"attempts\":\(attempts),\"backoff_seconds\":\(backoffSeconds),\"max_backoff_seconds\":\(maxBackoffSeconds),\"on\":[\(states)]}"
    }

    /// Reads ``json``; `nil` for text that is not such an object (a hand-edited row).
    public init?(json: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let attempts = object["attempts"] as? Int, let backoff = object["backoff_seconds"] as? Int,
            let maxBackoff = object["max_backoff_seconds"] as? Int, let names = object["on"] as? [String]
        else { return nil }
        self.init(
            attempts: attempts, backoffSeconds: backoff, maxBackoffSeconds: maxBackoff,
            on: Set(names.compactMap(RunState.init(rawValue:)).filter(Self.retriable.contains)))
    }
}
