import Foundation
import HTTPClient
import Logging
import ServiceLifecycle

/// The heartbeat out (`--heartbeat-url`): a `GET` of an outside watcher's URL (healthchecks.io, an
/// Uptime Kuma push monitor, cronitor) every interval while this daemon is healthy, so that the
/// watcher alerts when the pings stop: the daemon died, its machine did, or its timer cannot fire.
///
/// Healthy is what `health` says: the daemon skips the ping, and logs once why, while its timer is
/// not firing or cannot store what it fires. A watcher that does not answer 2xx is logged once per
/// failure streak; the URL itself (often the watcher's secret) is never logged, only its host.
struct OutsidePing: Service {
    /// The watcher's URL, `http://` or `https://`.
    let url: String
    /// How often to ping.
    let interval: Duration
    /// `nil` when the daemon is healthy, else why not, in words for the log.
    let health: @Sendable () async -> String?
    let client: HTTPClient
    let logger: Logger

    /// The longest one ping may take: a watcher that hangs delays the next ping, never a run.
    static let timeout = Duration.seconds(10)

    /// What the last round did, so that a streak of the same is logged once.
    enum Outcome: Equatable {
        /// Not pinged yet: the daemon is still starting (not logged for its first minute).
        case starting
        case pinged
        case unhealthy
        case failed
    }

    /// Pings at once, then every ``interval``, until graceful shutdown or cancellation.
    func run() async throws {
        var last = Outcome.starting
        let started = ContinuousClock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            last = await round(after: last, startedFor: ContinuousClock.now - started)
            do {
                try await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
            } catch {
                break
            }
        }
    }

    /// One round: the ping, or the reason there is none; logs a change from `last`.
    /// - Parameter startedFor: how long ago the service started: a daemon still starting is not
    ///   logged as unhealthy within its first minute.
    /// - Returns: what this round did.
    func round(after last: Outcome, startedFor: Duration = .zero) async -> Outcome {
        if let reason = await health() {
            if last == .starting && startedFor < .seconds(60) { return .starting }
            if last != .unhealthy {
                logger.warning(
                    "not pinging the heartbeat URL while this daemon is unhealthy; its watcher will alert",
                    metadata: ["reason": .string(reason), "host": .string(Self.host(of: url))])
            }
            return .unhealthy
        }
        let problem: String?
        do {
            let response = try await client.perform(method: "GET", url: url, timeout: Self.timeout)
            problem = (200..<300).contains(response.status) ? nil : "it answered HTTP \(response.status)"
        } catch {
            problem = error.description
        }
        if let problem {
            if last != .failed {
                logger.warning(
                    "the heartbeat URL's watcher did not take the ping; trying again every interval",
                    metadata: ["error": .string(problem), "host": .string(Self.host(of: url))])
            }
            return .failed
        }
        if last == .starting {
            logger.info("pinging the heartbeat URL", metadata: ["host": .string(Self.host(of: url))])
        } else if last != .pinged {
            logger.info("pinging the heartbeat URL again", metadata: ["host": .string(Self.host(of: url))])
        }
        return .pinged
    }

    /// The host of `url` (and its port), which may be logged: the path and query often hold the
    /// watcher's secret check id.
    static func host(of url: String) -> String {
        guard let start = url.range(of: "://")?.upperBound else { return "" }
        let rest = url[start...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        // Credentials in the URL are not logged either.
        return String(authority.split(separator: "@").last ?? "")
    }
}
