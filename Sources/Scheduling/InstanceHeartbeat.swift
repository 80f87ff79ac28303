import Foundation
import Logging
import ServiceLifecycle
import Storage
import Support
import Synchronization

/// Tells the store, every few seconds, that this daemon is alive: its id, host, version, how many
/// runs it is running, and how far its clock is from the database's. `schedule instances` and
/// `GET /api/v1/instances` list what the heartbeats leave; a clean stop removes the row.
///
/// The offset is the database's clock at the heartbeat against the middle of this process's clock
/// before and after the call (positive: this machine's clock is ahead). When it is past one second
/// by more than half the round trip (so that a slow heartbeat is not taken for a clock that is off)
/// it logs a warning, once until the clocks agree again: with several daemons on one database, whatever
/// decides what is due must not hang on each host's own clock.
///
/// ```swift
/// let heartbeat = InstanceHeartbeat(store: store, identity: InstanceRecord(host: host, version: "1.4",
///     startedAt: Date()), runningCount: { await scheduler.runningCount }, logger: logger)
/// // a service of the daemon's group
/// ```
public final class InstanceHeartbeat: Service, Sendable {
    /// How often the heartbeat is stored.
    public static let defaultInterval: Duration = .seconds(5)
    /// The offset past which the clocks are said to disagree.
    public static let offsetWarning: Duration = .seconds(1)
    /// How far past the round trip's uncertainty an offset must be before a ``DatabaseClock`` is moved
    /// by it.
    public static let offsetNoise: Duration = .milliseconds(5)

    let store: any SchedulerStore
    let interval: Duration
    let clock: any WallClock
    let runningCount: @Sendable () async -> Int
    let logger: Logger
    /// The clock each measured offset is passed to, if any.
    let correcting: DatabaseClock?
    private let state: Mutex<State>

    struct State {
        var identity: InstanceRecord
        var offset: Duration?
        var warnedOffset = false
        var failing = false
    }

    /// A heartbeat that starts once run as a service.
    /// - Parameters:
    ///   - store: where the heartbeats go.
    ///   - identity: this process: a fresh id, its host, version and start.
    ///   - interval: the time between heartbeats.
    ///   - clock: what the waits and this process's side of the offset are read from.
    ///   - runningCount: how many runs this daemon is running now.
    ///   - correcting: a clock that fires by the database's time: every measured offset is passed to it.
    ///   - logger: where the offset warnings and the store's failures are logged.
    public init(
        store: any SchedulerStore, identity: InstanceRecord, interval: Duration = defaultInterval,
        clock: any WallClock = SystemWallClock(), runningCount: @escaping @Sendable () async -> Int,
        correcting: DatabaseClock? = nil, logger: Logger
    ) {
        self.store = store
        self.interval = interval
        self.clock = clock
        self.runningCount = runningCount
        self.correcting = correcting
        self.logger = logger
        self.state = Mutex(State(identity: identity))
    }

    /// This process's id in the store.
    public var instanceID: String { state.withLock { $0.identity.id } }

    /// Whether the last heartbeat failed (or the store has not answered it for two intervals): the
    /// store cannot be written, so neither can fires.
    public var isFailing: Bool { state.withLock { $0.failing } }

    /// This machine's clock minus the database's at the latest heartbeat; `nil` before the first.
    public var clockOffset: Duration? { state.withLock { $0.offset } }

    /// Stores a heartbeat at once and after every interval until a graceful shutdown or cancellation;
    /// then removes this instance's row.
    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await beat()
            do {
                try await cancelWhenGracefulShutdown { [clock, interval] in try await clock.sleep(for: interval) }
            } catch {
                break
            }
        }
        // A task of its own, so that a cancelled daemon still leaves the list.
        let removal = Task { [store, instanceID] in try await store.removeInstance(id: instanceID) }
        do {
            _ = try await removal.value
        } catch {
            logger.warning(
                "cannot remove this instance from the store; it drops out of the list a day after its last heartbeat",
                metadata: ["error": .string("\(error)")])
        }
    }

    /// One heartbeat: stores this process's row and measures the clock offset.
    public func beat() async {
        let running = await runningCount()
        let identity = state.withLock { state -> InstanceRecord in
            state.identity.runsRunning = running
            return state.identity
        }
        let sent = clock.now()
        do {
            let database = try await storeWatched(identity)
            let received = clock.now()
            let halfRoundTrip = max(0, received.timeIntervalSince(sent) / 2)
            let middle = sent.addingTimeInterval(halfRoundTrip)
            record(
                offset: Duration(timeInterval: middle.timeIntervalSince(database)),
                uncertainty: Duration(timeInterval: halfRoundTrip))
        } catch {
            noteFailure("\(error)")
        }
    }

    /// Stores `identity`'s heartbeat. A store that does not answer within two intervals of real time
    /// (a database cut off mid-connection keeps the call waiting rather than failing) is warned of
    /// once, as a failed heartbeat is, while the call goes on waiting.
    private func storeWatched(_ identity: InstanceRecord) async throws -> Date {
        let patience = interval * 2
        let watchdog = Task {
            try await Task.sleep(for: patience)
            self.noteFailure("the store has not answered for \(patience)")
        }
        defer { watchdog.cancel() }
        return try await store.heartbeat(identity)
    }

    /// Logs, once until a heartbeat is stored again, that heartbeats are not being stored.
    private func noteFailure(_ error: String) {
        let first = state.withLock { state in
            defer { state.failing = true }
            return !state.failing
        }
        if first {
            logger.warning(
                "cannot store this instance's heartbeat; other instances and schedule instances will show it as silent",
                metadata: ["error": .string(error)])
        }
    }

    /// Keeps a measured offset. The database read its clock somewhere within the round trip, so the
    /// true offset is within `uncertainty` of the measured one: the clocks are said to disagree only
    /// when even the nearest value is past ``offsetWarning`` (a slow heartbeat under load is no
    /// reason to warn).
    private func record(offset: Duration, uncertainty: Duration) {
        // An offset within what the round trip leaves uncertain (plus a few milliseconds) is no
        // offset: correcting by noise would set the clocks of daemons on one machine apart.
        let noise = uncertainty + Self.offsetNoise
        correcting?.adjust(offset: offset > noise || offset < .zero - noise ? offset : .zero)
        let (recovered, crossed, back, offsetMs) = state.withLock { state -> (Bool, Bool, Bool, Int64) in
            let recovered = state.failing
            state.failing = false
            state.offset = offset
            let offsetMs = Int64(saturating: (offset.timeInterval * 1000).rounded())
            state.identity.clockOffsetMs = offsetMs
            let limit = Self.offsetWarning + uncertainty
            let far = offset > limit || offset < .zero - limit
            defer { state.warnedOffset = far }
            return (recovered, far && !state.warnedOffset, !far && state.warnedOffset, offsetMs)
        }
        if recovered { logger.info("this instance's heartbeats are stored again") }
        let metadata: Logger.Metadata = [
            "offset_ms": .stringConvertible(offsetMs),
            "instance": .string(instanceID),
        ]
        if crossed {
            logger.warning(
                "this machine's clock is more than 1 s from the database's; this daemon fires by the database's clock, but keep the machines' clocks synchronised (NTP): its logs and scripts read this one",
                metadata: metadata)
        } else if back {
            logger.info("this machine's clock agrees with the database's again", metadata: metadata)
        }
    }
}
