import Tracing

/// Where a run's spans go: a `Tracing.Tracer` whose spans are ``RunSpan``s, which can also start a
/// trace under ids chosen beforehand and close a trace an earlier process left open.
///
/// `WorkflowRunner` and `Scheduler` hold an `any RunTracer`. The daemon gives them `MLflowTracer`
/// (module MLflowTracing), which exports to MLflow; tests can give them a tracer that keeps spans in
/// memory. Spans nest through `ServiceContext`, as swift-distributed-tracing defines: a span started
/// in a span's `context` is its child.
///
/// ```swift
/// let root = tracer.startRootSpan("energy_analysis", traceID: .random(), spanID: nil, startNanos: nil)
/// root.setSpanType(.chain)
/// root.setTraceTag("trigger", "cron")
/// let node = tracer.startSpan("collect", context: root.context)
/// node.setInputs(["region": "north"])
/// node.end()
/// root.end()
/// ```
public protocol RunTracer: Tracer, Sendable where Span: RunSpan {
    /// Whether spans are recorded at all; false when tracing is off, and then every span ignores
    /// every call.
    var isEnabled: Bool { get }

    /// Starts the root span of a new trace whose id the caller chose beforehand (so that it can hand
    /// the id out before the work starts, as a webhook's 202 response does).
    /// - Parameters:
    ///   - spanID: the root span's id, when the caller stored it beforehand (to close the trace after a
    ///     crash); `nil`: a new random one.
    ///   - startNanos: the root's start in nanoseconds since the epoch, when the caller chose it with
    ///     `spanID`; `nil`: now.
    func startRootSpan(_ name: String, traceID: TraceID, spanID: SpanID?, startNanos: UInt64?) -> Span

    /// Closes a trace whose root span an earlier process started but never ended (it was killed):
    /// sends the root again with its stored ids and start, ending at `endNanos` with the error, so the
    /// trace reads as failed rather than in progress.
    /// - Parameter traceTags: trace tags to set again (the re-sent root replaces the original one).
    func closeAbandonedRoot(
        traceID: TraceID, spanID: SpanID, name: String, startNanos: UInt64, endNanos: UInt64, error: any Error,
        traceTags: [String: String])

    /// Sends a span that ended outside this process (a script recorded it) with its trace, its
    /// strings cut to the tracer's limits (`mlflow.spanInputs` and `mlflow.spanOutputs` to the
    /// inputs/outputs limit). Does nothing when tracing is off.
    func record(_ span: ForeignSpan)
}
