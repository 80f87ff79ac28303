import Foundation
import Logging
import ServiceLifecycle
import Storage
import Synchronization

/// Learns of schedule changes other daemons sharing the store made (added, changed, paused, deleted,
/// or fired and so moved on). Two ways at once:
///
/// - **The store's change feed** (PostgreSQL's `LISTEN`/`NOTIFY`,
///   ``SchedulerStore/followScheduleChanges(listening:changed:)``): each notice names the schedules
///   that changed, and the scheduler reads those again within moments of the other daemon's commit.
///   A broken feed is opened again after a pause.
/// - **Polling, as the fallback**: it compares the store's ``ScheduleRevision`` with the one it saw
///   last and has the scheduler read every schedule again when it moved; every second while the
///   feed is down (or the store has none), every ``followingPollInterval`` while it works (to catch
///   what a notice cannot carry, like a cursor moved by another daemon's fire).
///
/// The daemon runs it when several daemons can share the store; a daemon alone on its SQLite file
/// makes every change itself and needs none.
public final class ScheduleWatcher: Service, Sendable {
    let store: any SchedulerStore
    let scheduler: Scheduler
    let interval: Duration
    let clock: any WallClock
    let logger: Logger
    /// True while the change feed listens.
    let following = Atomic<Bool>(false)

    /// How often the revision is compared while the change feed works.
    public static let followingPollInterval: Duration = .seconds(10)

    /// A watcher that starts once run as a service.
    /// - Parameters:
    ///   - store: the shared store.
    ///   - scheduler: what reads the schedules again on a change.
    ///   - interval: the time between two looks at the revision while the feed is down.
    ///   - clock: what the waits are measured on.
    ///   - logger: where a failed look is logged (once per streak of failures).
    public init(
        store: any SchedulerStore, scheduler: Scheduler, interval: Duration = .seconds(1),
        clock: any WallClock = SystemWallClock(), logger: Logger
    ) {
        self.store = store
        self.scheduler = scheduler
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    /// Follows the feed and polls until a graceful shutdown or cancellation.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.follow() }
                group.addTask { await self.poll() }
            }
        }
    }

    /// Follows the store's change feed, opening it again after a pause that grows while it fails;
    /// returns when the store has none or the task is cancelled.
    func follow() async {
        var pause: Duration = .seconds(1)
        var failing = false
        while !Task.isCancelled {
            let wasFailing = failing
            do {
                let followed = try await store.followScheduleChanges(
                    listening: { [self] in
                        following.store(true, ordering: .relaxed)
                        if wasFailing { logger.info("following schedule changes again") }
                    },
                    changed: { notice in await self.apply(notice) })
                following.store(false, ordering: .relaxed)
                if !followed { return }
            } catch {
                // A feed that listened and then broke starts over: a short pause, and a warning.
                if following.exchange(false, ordering: .relaxed) {
                    pause = .seconds(1)
                    failing = false
                }
                if !failing {
                    logger.warning(
                        "cannot follow schedule changes; looking for them every second meanwhile",
                        metadata: ["error": .string("\(error)")])
                }
            }
            failing = true
            guard (try? await clock.sleep(for: pause)) != nil else { return }
            pause = min(pause * 2, .seconds(30))
        }
    }

    /// Has the scheduler read again what a notice names.
    func apply(_ notice: ScheduleChangeNotice) async {
        do {
            switch notice {
            case .all:
                try await scheduler.reload()
            case .schedules(let ids):
                for id in ids { try await scheduler.scheduleChanged(id: id) }
            }
        } catch {
            logger.warning("cannot read changed schedules", metadata: ["error": .string("\(error)")])
        }
    }

    /// Compares the revision every second while the feed is down, every ``followingPollInterval``
    /// while it works, and has the scheduler read every schedule again when it moved.
    func poll() async {
        var seen = try? await store.scheduleRevision()
        var failing = false
        var sinceLook: Duration = .zero
        while !Task.isCancelled {
            guard (try? await clock.sleep(for: interval)) != nil else { return }
            sinceLook += interval
            if following.load(ordering: .relaxed) && sinceLook < Self.followingPollInterval { continue }
            sinceLook = .zero
            do {
                let now = try await store.scheduleRevision()
                if failing {
                    failing = false
                    logger.info("the store answers the schedule watcher again")
                }
                guard now != seen else { continue }
                try await scheduler.reload()
                seen = now
            } catch {
                if !failing {
                    failing = true
                    logger.warning(
                        "cannot look for schedule changes other daemons made; they reach this one when the store answers again",
                        metadata: ["error": .string("\(error)")])
                }
            }
        }
    }
}
