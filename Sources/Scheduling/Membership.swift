import Foundation
import Storage

/// A scheduler's place among the daemons that use its store: its instance id, whether others share
/// the store, and how long an instance may be silent before its runs are taken over.
///
/// Every run a scheduler stores or claims is held under its instance id (``RunRecord/owner``), and
/// every start, node note and end it writes is fenced by that id and the run's attempt
/// (``RunFence``). Alone on a store (SQLite), a start takes back everything a previous process left;
/// on a shared store (PostgreSQL), an instance takes back only the runs of instances whose heartbeats
/// stopped for ``lease``, and claims queued runs that no instance holds while it has free slots.
///
/// ```swift
/// let membership = Membership(instanceID: heartbeat.instanceID, shared: true, lease: .seconds(30))
/// let scheduler = Scheduler(store: store, executor: executor,
///     configuration: SchedulerConfiguration(membership: membership))
/// ```
public struct Membership: Sendable {
    /// The lease when none is given: how long an instance may be silent before its runs are taken over.
    public static let defaultLease: Duration = .seconds(30)

    /// This process's id: the owner of the runs it holds, and its row in the instance list.
    public var instanceID: String
    /// Whether other daemons may use the store at the same time.
    public var shared: Bool
    /// How long an instance's heartbeats may stop before its running runs are interrupted and its
    /// queued runs freed for others (a shared store only).
    public var lease: Duration

    /// A membership.
    /// - Parameters:
    ///   - instanceID: this process's id, fresh per process; the heartbeat stores it too.
    ///   - shared: whether other daemons may use the store.
    ///   - lease: how long silence costs an instance its runs; at least one second.
    public init(instanceID: String = SortableID.make("ins"), shared: Bool = false, lease: Duration = defaultLease) {
        self.instanceID = instanceID
        self.shared = shared
        self.lease = max(lease, .seconds(1))
    }

    /// How often a heartbeat is due so that a live instance never looks silent: a sixth of the lease,
    /// at most five seconds.
    public var heartbeatInterval: Duration { min(lease / 6, .seconds(5)) }

    /// How often a shared scheduler looks for silent instances' runs and checks it still holds its
    /// own: a third of the lease, at most ten seconds.
    var leaseCheckInterval: Duration { min(lease / 3, .seconds(10)) }

    /// How often a shared scheduler with free slots looks for queued runs no instance holds.
    static let claimInterval: Duration = .seconds(1)

    /// The fence for this instance's attempt `attempt` of a run.
    func fence(attempt: Int) -> RunFence { RunFence(owner: instanceID, attempt: attempt) }
}
