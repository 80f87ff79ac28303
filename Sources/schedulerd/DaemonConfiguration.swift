import Foundation
import HTTPAPI
import Logging
import PostgresStorage
import ProcessSandbox
import Scheduling
import Storage
import Support

/// Why the daemon cannot start, in words for an operator.
struct DaemonError: Error, CustomStringConvertible {
    var description: String
}

/// The daemon's settings, from flags and environment (a flag wins).
struct DaemonConfiguration: Sendable {
    struct Flags {
        var dataDir: String?
        var listen: String?
        var schedules: String?
        var logLevel: String?
        var maxRuns: Int?
        var shutdownGrace: String?
        var hookMaxBody: String?
        var hookRate: String?
        var retention: String?
        var httpCABundle: String?
        var database: String?
        var lease: String?
        var durability: String?
        var heartbeatURL: String?
        var heartbeatEvery: String?
        var publicURL: String?
        var scriptUsers: String?
    }

    /// `--data-dir`, `SCHEDULERD_DATA_DIR`; default `$XDG_STATE_HOME/schedulerd` or
    /// `~/.local/state/schedulerd`.
    var dataDirectory: URL
    /// `--listen`, `SCHEDULERD_LISTEN`; default `127.0.0.1:8088`.
    var host: String
    var port: Int
    /// `--schedules`, `SCHEDULERD_SCHEDULES`; default `schedules`.
    var schedulesDirectory: URL
    /// `--log-level`, `SCHEDULERD_LOG_LEVEL`; default `info`.
    var logLevel: Logger.Level
    /// `--max-runs`, `SCHEDULERD_MAX_RUNS`; default 16.
    var maxRuns: Int
    /// `--shutdown-grace`, `SCHEDULERD_SHUTDOWN_GRACE`; default 30 s.
    var shutdownGrace: Duration
    /// `--retention`, `SCHEDULERD_RETENTION`; default 30 days, at least 72 hours.
    var retention: Duration
    /// `--http-ca-bundle`, `SCHEDULERD_HTTP_CA_BUNDLE`: the CA bundle `http` nodes verify HTTPS servers
    /// with; `nil`: the system's CAs.
    var httpCABundle: String?
    /// `--hook-max-body` (`SCHEDULERD_HOOK_MAX_BODY`, default 1MiB) and `--hook-rate`
    /// (`SCHEDULERD_HOOK_RATE`, default 50/s, bursts of twice that).
    var webhooks: WebhookLimits
    /// `--database`, `SCHEDULERD_DATABASE_URL`: the PostgreSQL database that holds the schedules and
    /// runs, from a `postgres://` URL (the password from the URL or `PGPASSWORD`); `nil` (the default):
    /// the SQLite file `<data-dir>/schedulerd.sqlite`.
    var database: PostgresConfiguration?
    /// `--lease`, `SCHEDULERD_LEASE`; default 30 s, from 3 s to 10 min: with a shared database, how
    /// long an instance's heartbeats may stop before the others take its runs over.
    var lease: Duration
    /// `--durability`, `SCHEDULERD_DURABILITY`; default `full`: with the SQLite file, whether new
    /// runs and schedule changes are synced to disk before they are acknowledged
    /// (``SQLiteStore/Durability``). PostgreSQL commits as the server is configured.
    var durability: SQLiteStore.Durability
    /// `--heartbeat-url`, `SCHEDULERD_HEARTBEAT_URL`: an outside watcher's `http(s)://` URL that the
    /// daemon pings while it is healthy (``OutsidePing``); `nil` (the default): no pings.
    var heartbeatURL: String?
    /// `--heartbeat-every`, `SCHEDULERD_HEARTBEAT_EVERY`; default 1 minute, from 1 s to 1 h.
    var heartbeatEvery: Duration
    /// `--public-url`, `SCHEDULERD_PUBLIC_URL`: where people reach this daemon, for the links in
    /// alerts (without a trailing `/`); default `http://` and `--listen`.
    var publicURL: String
    /// `--script-users`, `SCHEDULERD_SCRIPT_USERS`: user ids `FIRST-LAST` lent one per script
    /// running (``ScriptUsers``); `nil` (the default): scripts share one user (`nobody` under root).
    var scriptUsers: ClosedRange<UInt32>?
    /// `SCHEDULERD_TOKEN`; else the token file.
    var token: String?
    /// The whole environment: MLflow's variables, and `${NAME}` for HTTP nodes; `SCHEDULERD_URL`
    /// is the daemon's own API when it is not set.
    var environment: [String: String]

    init(flags: Flags, environment: [String: String]) throws {
        func pick(_ flag: String?, _ variable: String) -> String? {
            if let flag, !flag.isEmpty { return flag }
            if let value = environment[variable], !value.isEmpty { return value }
            return nil
        }
        self.environment = environment
        if let dir = pick(flags.dataDir, "SCHEDULERD_DATA_DIR") {
            dataDirectory = URL(fileURLWithPath: dir)
        } else if let state = environment["XDG_STATE_HOME"], !state.isEmpty {
            dataDirectory = URL(fileURLWithPath: state).appendingPathComponent("schedulerd")
        } else {
            dataDirectory = URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory())
                .appendingPathComponent(".local/state/schedulerd")
        }
        let listen = pick(flags.listen, "SCHEDULERD_LISTEN") ?? "127.0.0.1:8088"
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
            (0...65535).contains(port), colon > listen.startIndex
        else {
            throw DaemonError(description: "listen address \"\(listen)\" must be HOST:PORT, like 127.0.0.1:8088")
        }
        host = String(listen[..<colon])
        self.port = port
        if (environment["SCHEDULERD_URL"] ?? "").isEmpty {
            // Workflows reach the daemon's own API as ${SCHEDULERD_URL} (an http node's url).
            let reachable: String
            switch host {
            case "0.0.0.0", "": reachable = "127.0.0.1"
            case "::", "[::]": reachable = "[::1]"
            default: reachable = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
            }
            self.environment["SCHEDULERD_URL"] = "http://\(reachable):\(port)"
        }
        schedulesDirectory = URL(fileURLWithPath: pick(flags.schedules, "SCHEDULERD_SCHEDULES") ?? "schedules")
        let level = pick(flags.logLevel, "SCHEDULERD_LOG_LEVEL") ?? "info"
        guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
            throw DaemonError(
                description:
                    "log level \"\(level)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
        logLevel = parsed
        if let flag = flags.maxRuns {
            maxRuns = flag
        } else if let text = environment["SCHEDULERD_MAX_RUNS"], !text.isEmpty {
            guard let n = Int(text) else {
                throw DaemonError(description: "SCHEDULERD_MAX_RUNS \"\(text)\" must be a whole number")
            }
            maxRuns = n
        } else {
            maxRuns = 16
        }
        guard (1...10_000).contains(maxRuns) else {
            throw DaemonError(description: "max runs \(maxRuns) must be from 1 to 10000")
        }
        let grace = pick(flags.shutdownGrace, "SCHEDULERD_SHUTDOWN_GRACE") ?? "30s"
        guard let graceDuration = DurationText.parse(grace), graceDuration <= .seconds(86_400) else {
            throw DaemonError(
                description: "shutdown grace \"\(grace)\" must be a duration from 0s to 24h, like 30s or 5m")
        }
        shutdownGrace = graceDuration
        let retentionText = pick(flags.retention, "SCHEDULERD_RETENTION") ?? "30d"
        guard let retention = DurationText.parse(retentionText), retention >= RunPruner.minimumRetention else {
            throw DaemonError(
                description:
                    "retention \"\(retentionText)\" must be a duration from 72h (webhook deliveries are deduplicated that long) to \(DurationText.maximumText), like 30d"
            )
        }
        self.retention = retention
        httpCABundle = pick(flags.httpCABundle, "SCHEDULERD_HTTP_CA_BUNDLE")
        var isFolder: ObjCBool = false
        if let bundle = httpCABundle,
            !FileManager.default.fileExists(atPath: bundle, isDirectory: &isFolder) || isFolder.boolValue
                || !FileManager.default.isReadableFile(atPath: bundle)
        {
            throw DaemonError(
                description:
                    "the CA bundle for http nodes \"\(bundle)\" is not a readable file; give a PEM file of CA certificates, or leave SCHEDULERD_HTTP_CA_BUNDLE unset to use the system's"
            )
        }
        if let url = pick(flags.database, "SCHEDULERD_DATABASE_URL") {
            do {
                database = try PostgresConfiguration(url: url, environment: environment)
            } catch {
                throw DaemonError(description: "database URL: \(error)")
            }
        }
        let leaseText = pick(flags.lease, "SCHEDULERD_LEASE") ?? "30s"
        guard let lease = DurationText.parse(leaseText), lease >= .seconds(3), lease <= .seconds(600) else {
            throw DaemonError(
                description:
                    "lease \"\(leaseText)\" must be a duration from 3s to 10m, like 30s: how long an instance may be silent before others take its runs over"
            )
        }
        self.lease = lease
        let durabilityText = pick(flags.durability, "SCHEDULERD_DURABILITY") ?? "full"
        guard let durability = SQLiteStore.Durability(rawValue: durabilityText.lowercased()) else {
            throw DaemonError(
                description:
                    "durability \"\(durabilityText)\" must be full (new runs and schedule changes synced to disk before they are acknowledged) or normal (faster; the last ones may be lost when the machine loses power)"
            )
        }
        self.durability = durability
        heartbeatURL = pick(flags.heartbeatURL, "SCHEDULERD_HEARTBEAT_URL")
        if let url = heartbeatURL {
            let lower = url.lowercased()
            let scheme = lower.hasPrefix("https://") ? "https://" : lower.hasPrefix("http://") ? "http://" : nil
            guard let scheme, !OutsidePing.host(of: url).isEmpty, !url.contains(where: \.isWhitespace),
                url.count > scheme.count
            else {
                throw DaemonError(
                    description:
                        "heartbeat URL \"\(OutsidePing.host(of: url).isEmpty ? "(not a URL)" : OutsidePing.host(of: url))\" must be an http:// or https:// URL with a host, like https://hc-ping.com/<check id>"
                )
            }
        }
        let everyText = pick(flags.heartbeatEvery, "SCHEDULERD_HEARTBEAT_EVERY") ?? "1m"
        guard let every = DurationText.parse(everyText), every >= .seconds(1), every <= .seconds(3600) else {
            throw DaemonError(
                description: "heartbeat interval \"\(everyText)\" must be a duration from 1s to 1h, like 1m")
        }
        heartbeatEvery = every
        let publicText =
            pick(flags.publicURL, "SCHEDULERD_PUBLIC_URL")
            ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        guard let publicParts = URLComponents(string: publicText),
            ["http", "https"].contains(publicParts.scheme ?? ""),
            !(publicParts.host ?? "").isEmpty, publicParts.query == nil, publicParts.user == nil
        else {
            throw DaemonError(
                description:
                    "public URL \"\(publicText)\" must be an http:// or https:// URL with a host and no query, like https://scheduler.example.com"
            )
        }
        publicURL = publicText.hasSuffix("/") ? String(publicText.dropLast()) : publicText
        if let text = pick(flags.scriptUsers, "SCHEDULERD_SCRIPT_USERS") {
            guard let range = ScriptUsers.parse(text) else {
                throw DaemonError(
                    description:
                        "script users \"\(text)\" must be a range of user ids FIRST-LAST, from 1000 up, at most 65536 of them, like 61000-61999"
                )
            }
            guard geteuid() == 0 else {
                throw DaemonError(
                    description: "script users \(text) need the daemon to run as root, to switch scripts to them")
            }
            scriptUsers = range
        }
        token = environment["SCHEDULERD_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let maxBodyText = pick(flags.hookMaxBody, "SCHEDULERD_HOOK_MAX_BODY") ?? "1MiB"
        guard let maxBody = Self.bytes(maxBodyText), (1...(64 << 20)).contains(maxBody) else {
            throw DaemonError(
                description: "webhook body limit \"\(maxBodyText)\" must be a size from 1 to 64MiB, like 512KiB or 1MiB"
            )
        }
        let rateText = pick(flags.hookRate, "SCHEDULERD_HOOK_RATE") ?? "50/s"
        let rateNumber = rateText.hasSuffix("/s") ? String(rateText.dropLast(2)) : rateText
        guard let rate = Double(rateNumber), rate > 0, rate <= 1_000_000 else {
            throw DaemonError(
                description: "webhook rate \"\(rateText)\" must be requests per second per hook, like 50/s")
        }
        webhooks = WebhookLimits(maxBody: maxBody, ratePerSecond: rate, burst: max(1, Int((rate * 2).rounded(.up))))
    }

    /// `1048576`, `512KiB`, `1MiB` (also `KB`/`MB`, read as the binary units) → bytes.
    static func bytes(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("KB", 1 << 10), ("MB", 1 << 20), ("B", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let n = Int(text.dropLast(suffix.count)), n >= 0 else { return nil }
            let (product, overflow) = n.multipliedReportingOverflow(by: factor)
            return overflow ? nil : product
        }
        return Int(text).flatMap { $0 >= 0 ? $0 : nil }
    }
}
