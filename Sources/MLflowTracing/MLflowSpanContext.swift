import Tracing

/// What a span passes to its children through `ServiceContext`: the trace it belongs to and its own id.
public struct MLflowSpanContext: Sendable, Hashable {
    public var traceID: TraceID
    public var spanID: SpanID

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
