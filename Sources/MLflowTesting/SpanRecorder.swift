import MLflowTracing
import Synchronization
import Tracing

/// Keeps every ended span in memory: a tracer for tests that check span trees without an MLflow server.
///
/// ```swift
/// let recorder = SpanRecorder()
/// let runner = WorkflowRunner(catalog: catalog, tracer: recorder.tracer, …)
/// recorder.spans.first { $0.name == "collect" }?.string("node.kind")
/// ```
public final class SpanRecorder: Sendable {
    /// An ended span, as recorded.
    public struct Span: Sendable {
        /// The trace's id, 32 hex digits (without MLflow's `tr-`).
        public var traceID: String
        /// The span's id, 16 hex digits.
        public var spanID: String
        /// The parent span's id, 16 hex digits; `nil` for a root span.
        public var parentSpanID: String?
        /// The name the span was started with: a workflow's name, a node's id, an HTTP call's method and host.
        public var name: String
        /// When the span started, in nanoseconds since the Unix epoch.
        public var startNanos: UInt64
        /// When the span ended, in nanoseconds since the Unix epoch.
        public var endNanos: UInt64
        /// The span's attributes, as the tracer kept them.
        public var attributes: SpanAttributes
        /// The span's events, in the order they were added.
        public var events: [SpanEvent]
        /// `nil` for unset, else OK or ERROR with its message.
        public var status: SpanStatus?

        /// True when the span ended with an ERROR status.
        public var isError: Bool { status?.code == .error }

        /// The attribute `key` when it is a string; `nil` otherwise.
        public func string(_ key: String) -> String? {
            if case .string(let value)? = attributes[key]?.toSpanAttribute() { return value }
            return nil
        }

        /// The attribute `key` when it is a 64-bit integer; `nil` otherwise.
        public func int(_ key: String) -> Int64? {
            if case .int64(let value)? = attributes[key]?.toSpanAttribute() { return value }
            return nil
        }
    }

    private final class Sink: SpanSink {
        let spans = Mutex<[Span]>([])
        func submit(_ span: FinishedSpan) {
            let recorded = Span(
                traceID: span.traceID.hex, spanID: span.spanID.hex, parentSpanID: span.parentSpanID?.hex,
                name: span.name, startNanos: span.startNanos, endNanos: span.endNanos, attributes: span.attributeMap,
                events: span.events, status: span.status)
            spans.withLock { $0.append(recorded) }
        }
    }

    private let sink = Sink()

    /// An empty recorder; give its ``tracer`` to the code under test.
    public init() {}

    /// A tracer whose ended spans land here.
    public var tracer: MLflowTracer { MLflowTracer(sink: sink, limits: TruncationLimits()) }

    /// Every span ended so far, in the order they ended.
    public var spans: [Span] { sink.spans.withLock { $0 } }

    /// The spans of one trace.
    public func spans(inTrace traceID: String) -> [Span] {
        let hex = traceID.hasPrefix("tr-") ? String(traceID.dropFirst(3)) : traceID
        return spans.filter { $0.traceID == hex }
    }
}
