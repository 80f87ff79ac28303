import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Moves ended spans off the run's path: memory → SQLite spool → MLflow `POST /v1/traces`.
///
/// Run it as a `Service` (or call ``run()`` in a task). Spans are written to the spool in batches as
/// they end, then sent as whole traces, oldest first, many per request (gzip above a few KiB); a
/// trace's root, which ends after its children, is never sent before them. Delivered rows are
/// deleted. Network errors, 408, 429 and 5xx are retried with capped exponential backoff and jitter;
/// a request refused with 400/422 is split by trace until the refused trace is isolated, and that
/// trace goes to the dead-letter table; 404 resolves the experiment again. An outage is logged once
/// when it starts and once when it ends, with the number of spans delivered late.
///
/// ```swift
/// let exporter = try TraceExporter(configuration: .init(environment: env, dataDirectory: dir), logger: logger)
/// let tracer = exporter.tracer   // hand this to the code that makes spans
/// ```
public final class TraceExporter: Service, Sendable {
    /// Counters for metrics and tests.
    public struct Statistics: Sendable, Equatable {
        /// Spans written to the spool.
        public var spooled = 0
        /// Spans MLflow accepted.
        public var delivered = 0
        /// Spans the OTLP collector (the second destination) accepted.
        public var deliveredToCollector = 0
        /// Spans dropped because the spool or the in-memory inbox was full.
        public var dropped = 0
        /// Spans moved to the dead-letter table.
        public var deadLettered = 0
        /// Export requests that failed and will be retried.
        public var failedRequests = 0
        /// Spans waiting in the spool now.
        public var pending = 0
        /// The destinations (`mlflow`, `collector`) whose last request failed: down, or refusing the
        /// spans, until a delivery succeeds again.
        public var unavailable: [String] = []
    }

    /// The tracer whose spans this exporter delivers (records nothing when tracing is off).
    public let tracer: MLflowTracer
    /// The configuration the exporter was made with; without a tracking URI, tracing is off.
    public let configuration: MLflowTracingConfiguration
    private let logger: Logger
    private let inbox: SpanInbox?
    private let spool: SpanSpool?
    private let destinations: [ExportDestination]
    private let wake: AsyncStream<Void>
    private let wakeSender: AsyncStream<Void>.Continuation
    private let collectorWake: AsyncStream<Void>
    private let collectorWakeSender: AsyncStream<Void>.Continuation
    private let stats = Mutex(Statistics())
    private let resolved = Mutex<String?>(nil)

    /// The MLflow experiment id the traces go to, once resolved (`MLFLOW_EXPERIMENT_ID`, or the id of
    /// `MLFLOW_EXPERIMENT_NAME` after the first export).
    public var experimentID: String? { resolved.withLock { $0 } ?? configuration.experimentID }
    private let writerIdle = Mutex(true)
    /// Destinations in an outage (their last request failed): a stop does not wait on them.
    private let unavailable = Mutex<Set<String>>([])

    /// Opens (or creates) the spool. With no tracking URI, tracing is off: said once in the log, and
    /// ``tracer`` records nothing.
    /// - Throws: ``MLflowTracingError`` when the spool cannot be opened.
    public init(configuration: MLflowTracingConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        (wake, wakeSender) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (collectorWake, collectorWakeSender) = AsyncStream.makeStream(
            of: Void.self, bufferingPolicy: .bufferingNewest(1))
        guard let uri = configuration.trackingURI else {
            logger.info("MLflow tracing is off: MLFLOW_TRACKING_URI is not set")
            tracer = .disabled
            inbox = nil
            spool = nil
            destinations = []
            return
        }
        var destinations = [
            ExportDestination.mlflow(
                MLflowClient(trackingURI: uri, authentication: configuration.authentication, tls: configuration.tls))
        ]
        if let endpoint = configuration.otlpEndpoint {
            destinations.append(
                .otlp(OTLPCollector(endpoint: endpoint, headers: configuration.otlpHeaders, tls: configuration.otlpTLS))
            )
        }
        self.destinations = destinations
        do {
            spool = try SpanSpool(path: configuration.spoolPath, destinations: destinations.map(\.name))
        } catch {
            throw MLflowTracingError(.spool, "cannot open the trace spool at \(configuration.spoolPath): \(error)")
        }
        let inbox = SpanInbox()
        self.inbox = inbox
        tracer = MLflowTracer(sink: inbox, limits: configuration.limits)
        stats.withLock { $0.pending = spool?.totals.count ?? 0 }
        logger.info(
            "MLflow tracing is on",
            metadata: [
                "destinations": "\(destinations.map(\.label).joined(separator: "; "))",
                "experiment": "\(configuration.experimentID.map { "id \($0)" } ?? configuration.experimentName)",
                "spooled_from_before": "\(spool?.totals.count ?? 0)",
            ])
    }

    /// The counters since this exporter started, with ``Statistics/pending`` read from the spool now.
    public var statistics: Statistics {
        var s = stats.withLock { $0 }
        s.pending = spool?.totals.count ?? 0
        s.unavailable = unavailable.withLock { $0.sorted() }
        return s
    }

    /// Runs until the task is cancelled or a graceful shutdown is requested. On a graceful shutdown
    /// (which the daemon asks for after its runs have ended) it keeps delivering for up to
    /// ``MLflowTracingConfiguration/shutdownDelivery``, stopping early when the spool is empty or
    /// every destination is unreachable; then it writes what is still in memory to the spool and
    /// logs how many spans wait there for the next start.
    public func run() async throws {
        guard let inbox, let spool, !destinations.isEmpty else {
            try? await gracefulShutdown()
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.writeLoop(inbox, spool) }
            for destination in self.destinations {
                group.addTask { await self.sendLoop(destination, spool) }
            }
            do {
                try await gracefulShutdown()
                await self.deliverBeforeExit(inbox, spool)
            } catch {
                // Cancelled rather than asked to stop: no time to deliver.
            }
            inbox.finish()
            self.wakeSender.finish()
            self.collectorWakeSender.finish()
            group.cancelAll()
        }
        // Whatever ended meanwhile reaches the spool, so it is delivered after the next start.
        await writeBatch(inbox, spool)
        let left = spool.totals.count
        if left > 0 {
            logger.warning(
                "stopped with spans not delivered; they are sent after the next start",
                metadata: ["spans": "\(left)", "spool": "\(spool.path)"])
        } else {
            logger.info("stopped with every span delivered", metadata: ["spool": "\(spool.path)"])
        }
    }

    /// Delivers what is spooled, until nothing is left, every destination is in an outage, or
    /// ``MLflowTracingConfiguration/shutdownDelivery`` has passed.
    private func deliverBeforeExit(_ inbox: SpanInbox, _ spool: SpanSpool) async {
        let deadline = ContinuousClock.now + configuration.shutdownDelivery
        while ContinuousClock.now < deadline {
            if inbox.isEmpty && writerIdle.withLock({ $0 }) && spool.totals.count == 0 { return }
            if unavailable.withLock({ $0.count }) == destinations.count { return }
            wakeSender.yield()
            collectorWakeSender.yield()
            try? await Task.sleep(for: .milliseconds(5))
            if Task.isCancelled { return }
        }
    }

    /// Waits until every span ended so far is delivered (or moved to the dead-letter table), or the
    /// timeout passes. - Returns: true when nothing is left to deliver.
    @discardableResult
    public func flush(timeout: Duration = .seconds(30)) async -> Bool {
        guard let inbox, let spool else { return true }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if inbox.isEmpty && writerIdle.withLock({ $0 }) && spool.totals.count == 0 { return true }
            wakeSender.yield()
            collectorWakeSender.yield()
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// Waits until every span ended so far is in the spool (not necessarily delivered).
    @discardableResult
    public func flushToSpool(timeout: Duration = .seconds(10)) async -> Bool {
        guard let inbox else { return true }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if inbox.isEmpty && writerIdle.withLock({ $0 }) { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return false
    }

    // MARK: - Spool writer

    /// Wakes when the inbox stops being empty, lets spans gather for
    /// ``MLflowTracingConfiguration/spoolInterval`` and writes them all in one transaction.
    private func writeLoop(_ inbox: SpanInbox, _ spool: SpanSpool) async {
        for await _ in inbox.signals {
            writerIdle.withLock { $0 = false }
            try? await Task.sleep(for: configuration.spoolInterval)
            await writeBatch(inbox, spool)
            writerIdle.withLock { $0 = true }
            if Task.isCancelled { return }
        }
    }

    /// Drains the inbox and writes what it held to the spool.
    private func writeBatch(_ inbox: SpanInbox, _ spool: SpanSpool) async {
        let batch = inbox.drain()
        defer { inbox.recycle(batch.spans) }
        let spans = batch.spans.compactMap(\.finished)
        var dropped = batch.dropped
        if !spans.isEmpty {
            let encoded = spans.map { ($0, OTLPJSON.encode($0)) }
            do {
                dropped += try await spool.append(
                    encoded, maxCount: configuration.spoolMaxSpans, maxBytes: configuration.spoolMaxBytes)
                stats.withLock { $0.spooled += encoded.count }
                wakeSender.yield()
                collectorWakeSender.yield()
            } catch {
                dropped += encoded.count
                logger.error(
                    "cannot write spans to the trace spool; they are lost",
                    metadata: ["spans": "\(encoded.count)", "spool": "\(spool.path)", "error": "\(error)"])
            }
        }
        if dropped > 0 {
            stats.withLock { $0.dropped += dropped }
            logger.warning(
                "trace spool full: dropped the oldest spans",
                metadata: [
                    "dropped": "\(dropped)", "max_spans": "\(configuration.spoolMaxSpans)",
                    "max_bytes": "\(configuration.spoolMaxBytes)",
                ])
        }
    }

    // MARK: - Sender

    private struct Outage {
        var since: ContinuousClock.Instant
        var reason: String
    }

    private func sendLoop(_ destination: ExportDestination, _ spool: SpanSpool) async {
        var experimentID: String?
        var outage: Outage?
        var backoff = Backoff(maximum: configuration.maxBackoff)
        var wakeups = destination.name == "mlflow" ? wake.makeAsyncIterator() : collectorWake.makeAsyncIterator()

        /// Waits before the next try. The first failure of an outage is logged: a warning when the
        /// destination is down, an error when it refuses us (experiment, credentials) and an operator
        /// must act.
        func fail(_ reason: String, after: Duration? = nil, refused: Bool = false) async {
            stats.withLock { $0.failedRequests += 1 }
            unavailable.withLock { _ = $0.insert(destination.name) }
            if outage == nil {
                outage = Outage(since: .now, reason: reason)
                let metadata: Logger.Metadata = [
                    "reason": "\(reason)", "pending_spans": "\(spool.pending(for: destination.name))",
                ]
                if refused {
                    logger.error(
                        "\(destination.title) refuses the spans; they wait in the spool until this is fixed",
                        metadata: metadata)
                } else {
                    logger.warning(
                        "\(destination.title) is unavailable; spans wait in the spool and are sent when it is back",
                        metadata: metadata)
                }
            }
            try? await Task.sleep(for: after.map { min($0, .seconds(300)) } ?? backoff.next())
        }

        while !Task.isCancelled {
            guard spool.pending(for: destination.name) > 0 else {
                if await wakeups.next() == nil { return }
                continue
            }
            if case .mlflow(let client) = destination, experimentID == nil {
                do {
                    experimentID = try await client.resolveExperiment(
                        name: configuration.experimentName, id: configuration.experimentID)
                    resolved.withLock { $0 = experimentID }
                } catch {
                    await fail(error.message, refused: error.code != .unavailable)
                    continue
                }
            }
            let rows: [SpanSpool.Row]
            do {
                rows = try await spool.oldest(
                    for: destination.name, maxSpans: configuration.batchMaxSpans, maxBytes: configuration.batchMaxBytes)
            } catch {
                await fail("cannot read the trace spool: \(error)")
                continue
            }
            if rows.isEmpty { continue }
            let late = outage == nil ? 0 : spool.pending(for: destination.name)
            switch await deliver(rows, to: destination, experimentID: experimentID, spool) {
            case .delivered:
                backoff.reset()
                unavailable.withLock { _ = $0.remove(destination.name) }
                if let ended = outage {
                    outage = nil
                    let seconds = (ContinuousClock.now - ended.since).components.seconds
                    logger.info(
                        "\(destination.title) is reachable again; the spans that waited are delivered late",
                        metadata: ["outage_seconds": "\(seconds)", "late_spans": "\(late)"])
                }
            case .retry(let reason, let after):
                await fail(reason, after: after)
            case .notFound:
                if case .mlflow = destination {
                    experimentID = nil
                    await fail("the experiment was not found (404); resolving it again")
                } else {
                    await fail("\(destination.label) answered 404; check OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                }
            case .unauthorized(let status):
                await fail("\(destination.label) refused the credentials (\(status))", refused: true)
            case .rejected:
                break  // handled inside deliver
            }
        }
    }

    /// Counts `rows` and marks them delivered to `destination`. The count comes first: ``flush(timeout:)``
    /// returns as soon as the spool is empty, and its caller must then see the spans counted.
    private func deliver(accepted rows: [SpanSpool.Row], to destination: ExportDestination, _ spool: SpanSpool) async
        -> ExportResult
    {
        stats.withLock {
            if case .mlflow = destination {
                $0.delivered += rows.count
            } else {
                $0.deliveredToCollector += rows.count
            }
        }
        do {
            try await spool.delivered(ids: rows.map(\.id), to: destination.name)
        } catch {
            logger.error("cannot mark delivered spans in the spool", metadata: ["error": "\(error)"])
        }
        return .delivered
    }

    /// Sends `rows`; on 400/422 splits them by trace until the refused trace is alone, and moves it to
    /// the dead-letter table. Delivered rows are marked in the spool.
    private func deliver(
        _ rows: [SpanSpool.Row], to destination: ExportDestination, experimentID: String?, _ spool: SpanSpool
    ) async -> ExportResult {
        let body = OTLPJSON.request(spans: rows.map(\.payload), serviceName: configuration.serviceName)
        let result: ExportResult
        switch destination {
        case .mlflow(let client):
            result = await client.send(
                body: body, experimentID: experimentID ?? "", gzipThreshold: configuration.gzipThreshold)
        case .otlp(let collector):
            result = await collector.send(body: body, gzipThreshold: configuration.gzipThreshold)
        }
        switch result {
        case .delivered:
            return await deliver(accepted: rows, to: destination, spool)
        case .rejected(let status, let reason):
            var traces: [String] = []
            var byTrace: [String: [SpanSpool.Row]] = [:]
            for row in rows {
                if byTrace[row.traceID] == nil { traces.append(row.traceID) }
                byTrace[row.traceID, default: []].append(row)
            }
            if traces.count == 1 {
                if case .mlflow(let client) = destination,
                    await client.holds(traceID: traces[0], spanIDs: Set(rows.map(\.spanID)))
                {
                    logger.notice(
                        "MLflow refused spans it already stores (an earlier request was committed after it timed out here); they count as delivered",
                        metadata: ["trace_id": "tr-\(traces[0])", "spans": "\(rows.count)", "http_status": "\(status)"])
                    return await deliver(accepted: rows, to: destination, spool)
                }
                stats.withLock { $0.deadLettered += rows.count }  // before the spool empties, as above
                do {
                    try await spool.deadLetter(rows, destination: destination.name, status: status, reason: reason)
                } catch {
                    logger.error(
                        "cannot move a refused trace to the dead-letter table", metadata: ["error": "\(error)"])
                }
                logger.error(
                    "\(destination.title) refused a trace; it was moved to the dead-letter table",
                    metadata: [
                        "trace_id": "tr-\(traces[0])", "spans": "\(rows.count)", "http_status": "\(status)",
                        "reason": "\(reason)",
                    ])
                return .delivered
            }
            let half = traces.count / 2
            let first = traces[..<half].flatMap { byTrace[$0] ?? [] }
            let second = traces[half...].flatMap { byTrace[$0] ?? [] }
            let a = await deliver(first, to: destination, experimentID: experimentID, spool)
            guard a == .delivered else { return a }
            return await deliver(second, to: destination, experimentID: experimentID, spool)
        default:
            return result
        }
    }
}

/// A place spans are delivered to.
enum ExportDestination: Sendable {
    case mlflow(MLflowClient)
    case otlp(OTLPCollector)

    /// The key of its pending deliveries in the spool.
    var name: String {
        switch self {
        case .mlflow: "mlflow"
        case .otlp: "otlp"
        }
    }

    /// "MLflow at http://…", for logs.
    var label: String {
        switch self {
        case .mlflow(let client): "MLflow at \(client.displayURI)"
        case .otlp(let collector): collector.label
        }
    }

    /// How a log line starts when it speaks of it.
    var title: String {
        switch self {
        case .mlflow: "MLflow"
        case .otlp: "The OTLP collector"
        }
    }
}

/// Capped exponential backoff with equal jitter: 0.25 s, 0.5 s, 1 s, … up to `maximum`, each wait
/// half the step plus a random part of the other half (so never less than half the step).
struct Backoff {
    var maximum: Duration
    var step: Duration = .milliseconds(250)

    mutating func next() -> Duration {
        let current = min(step, maximum)
        step = min(step * 2, maximum)
        let low = current / 2
        let span = (current - low).components
        let nanos = Int64(span.seconds) * 1_000_000_000 + span.attoseconds / 1_000_000_000
        return low + .nanoseconds(Int64.random(in: 0...max(0, nanos)))
    }

    mutating func reset() { step = .milliseconds(250) }
}
