import RunTracing
import Tracing

/// What a span passes to its children through `ServiceContext`: the trace it belongs to and its own id.
public struct MLflowSpanContext: Sendable, Hashable {
    /// The trace the span belongs to; every span of one trace carries the same id.
    public var traceID: TraceID
    /// The span's own id, which the spans started under it record as their parent.
    public var spanID: SpanID

    /// The ids of one span. ``MLflowTracer`` makes them for the spans it starts; build one yourself
    /// only to continue a trace whose ids you know.
    public init(traceID: TraceID, spanID: SpanID) {
        self.traceID = traceID
        self.spanID = spanID
    }
}

enum MLflowSpanContextKey: ServiceContextKey {
    typealias Value = MLflowSpanContext
    static var nameOverride: String? { "mlflow-span-context" }
}

extension ServiceContext {
    /// The MLflow span this context belongs to, if any.
    public var mlflowSpanContext: MLflowSpanContext? {
        get { self[MLflowSpanContextKey.self] }
        set { self[MLflowSpanContextKey.self] = newValue }
    }
}
