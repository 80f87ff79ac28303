import Foundation
import Storage

/// How the scheduler behaves: how many runs go at once, how long a stop waits for them, how missed
/// fires are caught up, and where its metrics go.
///
/// ```swift
/// let configuration = SchedulerConfiguration(maxConcurrentRuns: 64, shutdownGrace: .seconds(10))
/// let scheduler = Scheduler(store: store, executor: executor, configuration: configuration)
/// ```
public struct SchedulerConfiguration: Sendable {
    /// Runs going at once across all schedules; further runs wait in a queue (state `queued`), so that
    /// a thousand schedules due in the same second do not start a thousand scripts at once.
    public var maxConcurrentRuns: Int
    /// On SIGTERM, how long running runs may go on before they are cancelled, measured on the
    /// scheduler's clock.
    public var shutdownGrace: Duration
    /// Missed-fire threshold and catch-up cap.
    public var planner: FirePlanner

    /// Where fires, lateness, run outcomes and the queue are counted.
    public var metrics: SchedulerMetrics

    /// This scheduler's instance id, and whether and how it shares its store with other daemons.
    public var membership: Membership

    /// The retry policy of schedules that give none (`defaults: {retry: …}` in `policies.yaml`);
    /// ``RetryPolicy/never`` unless set. ``Scheduler/useDefaultRetry(_:)`` changes it later.
    public var retry: RetryPolicy

    /// The alert targets of schedules that give none; none unless set.
    /// ``Scheduler/useDefaultNotify(_:)`` changes them later.
    public var notify: [NotifyRule]

    /// Where alerts link to: the run, and its trace in MLflow.
    public var alertLinks: AlertLinks

    /// When skipped fires and runs waiting for a slot alert `missed` (`defaults: {missed: …}` in
    /// `policies.yaml`); ``Scheduler/useMissedLimits(_:)`` changes them later.
    public var missed = MissedLimits()

    /// A configuration; every value has the daemon's default.
    /// - Parameters:
    ///   - maxConcurrentRuns: runs going at once; values below one count as one.
    ///   - shutdownGrace: how long a graceful stop waits for running runs.
    ///   - planner: the missed-fire threshold and catch-up cap.
    ///   - metrics: where the scheduler's metrics go; ``SchedulerMetrics/none`` records nothing.
    ///   - membership: its instance id and lease; alone on its store unless told otherwise.
    ///   - retry: the retry policy of schedules that give none.
    ///   - notify: the alert targets of schedules that give none.
    ///   - alertLinks: where alerts link to.
    public init(
        maxConcurrentRuns: Int = 16, shutdownGrace: Duration = .seconds(30), planner: FirePlanner = .init(),
        metrics: SchedulerMetrics = .none, membership: Membership = .init(), retry: RetryPolicy = .never,
        notify: [NotifyRule] = [], alertLinks: AlertLinks = .none
    ) {
        self.retry = retry
        self.notify = notify
        self.alertLinks = alertLinks
        self.maxConcurrentRuns = max(1, maxConcurrentRuns)
        self.shutdownGrace = shutdownGrace
        self.planner = planner
        self.metrics = metrics
        self.membership = membership
    }
}
