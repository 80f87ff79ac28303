import Logging
import Synchronization

/// A log handler that keeps every record, for tests that check what operators would read.
public final class LogCapture: Sendable {
    /// One log record as the logger was called.
    public struct Record: Sendable {
        /// The level it was logged at.
        public var level: Logger.Level
        /// The message, as text.
        public var message: String
        /// The logger's metadata merged with the call's (the call's wins), each value as text.
        public var metadata: [String: String]
    }

    private let records = Mutex<[Record]>([])

    /// An empty capture; make loggers with ``logger(label:)``.
    public init() {}

    /// A logger writing into this capture (at `trace` level, so nothing is filtered).
    public func logger(label: String = "test") -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    /// Every record so far, oldest first, from every logger of this capture.
    public var all: [Record] { records.withLock { $0 } }

    /// Records at `level` whose message contains `fragment`.
    public func matching(_ level: Logger.Level, _ fragment: String) -> [Record] {
        all.filter { $0.level == level && $0.message.contains(fragment) }
    }

    fileprivate func append(_ record: Record) { records.withLock { $0.append(record) } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged = metadata
            for (k, v) in event.metadata ?? [:] { merged[k] = v }
            capture.append(
                Record(
                    level: event.level, message: event.message.description,
                    metadata: merged.mapValues { "\($0)" }))
        }
    }
}
