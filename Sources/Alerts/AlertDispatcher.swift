import Foundation
import HTTPClient
import Logging
import Scheduling
import ServiceLifecycle
import Storage
import Support

/// Delivers the alerts of the store's outbox (``AlertRecord``), as a service of its own beside the
/// scheduler: a receiver that is down or hangs delays other alerts by at most one delivery's
/// timeout, and never a run.
///
/// Every ``Configuration/pollInterval`` it claims the pending alerts that are due (with several
/// daemons on one database, each alert is claimed by one of them), tries each once, concurrently,
/// and stores how it went: delivered; to be tried again after a pause that doubles from
/// ``Configuration/firstPause`` up to ``Configuration/longestPause``; or failed, when the receiver
/// refused it or ``Configuration/mostAttempts`` tries failed. A daemon stopped or killed mid-delivery
/// leaves its claimed alerts to the next claim once the lease has passed: an alert may then arrive
/// twice (at least once, never lost), which its `webhook-id` lets a receiver tell.
public struct AlertDispatcher: Service {
    /// How the dispatcher paces itself.
    public struct Configuration: Sendable {
        /// How often the outbox is looked at.
        public var pollInterval: Duration
        /// The longest one delivery may take.
        public var timeout: Duration
        /// The pause after the first failed try; it doubles after each.
        public var firstPause: Duration
        /// The longest pause between two tries.
        public var longestPause: Duration
        /// Tries before an alert is given up.
        public var mostAttempts: Int
        /// The sender of mails whose target names none.
        public var mailFrom: String

        /// The daemon's pacing: every second, 10 s per try, 10 s doubling to an hour, 12 tries
        /// (about six hours).
        public init(
            pollInterval: Duration = .seconds(1), timeout: Duration = .seconds(10), firstPause: Duration = .seconds(10),
            longestPause: Duration = .seconds(3600), mostAttempts: Int = 12,
            mailFrom: String = "schedulerd@\(ProcessInfo.processInfo.hostName)"
        ) {
            self.pollInterval = pollInterval
            self.timeout = timeout
            self.firstPause = firstPause
            self.longestPause = longestPause
            self.mostAttempts = mostAttempts
            self.mailFrom = mailFrom
        }
    }

    let store: any SchedulerStore
    let clock: any WallClock
    let configuration: Configuration
    let sender: AlertSender
    let logger: Logger

    /// Alerts claimed at once.
    static let batch = 16

    /// A dispatcher for `store`'s outbox.
    /// - Parameters:
    ///   - environment: the daemon's environment, where targets' secrets and URLs are read.
    ///   - clock: when alerts are due (the scheduler's clock).
    ///   - tls: the CA bundle HTTPS receivers and mail servers are verified with.
    public init(
        store: any SchedulerStore, environment: [String: String], clock: any WallClock = SystemWallClock(),
        configuration: Configuration = .init(), tls: TLSOptions = TLSOptions(),
        logger: Logger = Logger(label: "schedulerd.alerts")
    ) {
        self.store = store
        self.clock = clock
        self.configuration = configuration
        self.sender = AlertSender(
            environment: environment, http: HTTPClient(tls: tls, label: "alerts"), tls: tls,
            timeout: configuration.timeout, mailFrom: configuration.mailFrom)
        self.logger = logger
    }

    /// Delivers due alerts until graceful shutdown or cancellation.
    public func run() async throws {
        var storeFailing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let delivered = try await round()
                if storeFailing { logger.info("the alert outbox answers again") }
                storeFailing = false
                if delivered == Self.batch { continue }
            } catch {
                if !storeFailing {
                    logger.error("cannot read the alert outbox; trying again", metadata: ["error": .string("\(error)")])
                }
                storeFailing = true
            }
            do {
                try await cancelWhenGracefulShutdown { [clock, configuration] in
                    try await clock.sleep(for: configuration.pollInterval)
                }
            } catch {
                break
            }
        }
    }

    /// Claims the alerts due now and tries each once, concurrently.
    /// - Returns: how many were claimed.
    /// - Throws: when the store cannot be read.
    @discardableResult
    public func round() async throws -> Int {
        let lease = configuration.timeout * 2 + .seconds(30)
        let due = try await store.claimAlerts(now: clock.now(), lease: lease, limit: Self.batch)
        await withTaskGroup(of: Void.self) { group in
            for alert in due { group.addTask { await deliver(alert) } }
        }
        return due.count
    }

    /// Tries `alert` once and stores how it went.
    func deliver(_ alert: AlertRecord) async {
        let outcome = await sender.deliver(alert, now: clock.now())
        let attempt = alert.attempts + 1
        let metadata: Logger.Metadata = [
            "alert_id": .string(alert.id), "event": .string(alert.event.rawValue),
            "schedule": .string(alert.scheduleName),
            "target": .string(AlertTarget(json: alert.targetJSON)?.kind ?? "?"),
            "attempt": .stringConvertible(attempt),
        ]
        let delivery: AlertDelivery
        switch outcome {
        case .delivered:
            delivery = .delivered(at: clock.now())
            logger.info("alert delivered", metadata: metadata)
        case .permanent(let reason):
            delivery = .failed(error: reason)
            logger.error(
                "alert refused; not trying again", metadata: metadata.merging(["error": .string(reason)]) { $1 })
        case .transient(let reason) where attempt >= configuration.mostAttempts:
            delivery = .failed(error: reason)
            logger.error(
                "alert not delivered after its last try; giving up",
                metadata: metadata.merging(["error": .string(reason)]) { $1 })
        case .transient(let reason):
            let pause = min(configuration.longestPause, configuration.firstPause * (1 << min(attempt - 1, 20)))
            delivery = .retry(at: clock.now().addingTimeInterval(pause.timeInterval), error: reason)
            logger.warning(
                "alert not delivered; trying again", metadata: metadata.merging(["error": .string(reason)]) { $1 })
        }
        do {
            try await store.settleAlert(id: alert.id, delivery)
        } catch {
            logger.error(
                "cannot store how an alert's delivery went; it will be tried again after its claim lapses",
                metadata: metadata.merging(["error": .string("\(error)")]) { $1 })
        }
    }
}
