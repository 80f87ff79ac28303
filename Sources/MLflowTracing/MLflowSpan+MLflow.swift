import RunTracing
import Tracing

/// The attribute names MLflow gives meaning to.
public enum MLflowAttribute {
    /// `mlflow.spanType`: the span's `SpanType` (module RunTracing); set it with ``MLflowSpan/setSpanType(_:)``.
    public static let spanType = "mlflow.spanType"
    /// `mlflow.spanInputs`: a JSON text MLflow shows as the span's inputs; set it with
    /// ``MLflowSpan/setInputs(json:)`` or `setInputs(_:)` of `RunSpan`.
    public static let inputs = "mlflow.spanInputs"
    /// `mlflow.spanOutputs`: a JSON text MLflow shows as the span's outputs; set it with
    /// ``MLflowSpan/setOutputs(json:)`` or `setOutputs(_:)` of `RunSpan`.
    public static let outputs = "mlflow.spanOutputs"
    /// Prefix that turns a root-span attribute into a trace tag.
    public static let traceTagPrefix = "mlflow.traceTag."
}

extension MLflowSpan: RunSpan {
    /// Sets `mlflow.spanType`.
    @inlinable
    public func setSpanType(_ type: SpanType) {
        setAttribute(MLflowAttribute.spanType, .string(type.rawValue))
    }

    /// Sets `mlflow.spanInputs` to a JSON text, cut to the inputs/outputs limit.
    @inlinable
    public func setInputs(json: String) {
        if records { recordAttribute(MLflowAttribute.inputs, truncating: json, maxBytes: inputsOutputsLimit) }
    }

    /// Sets `mlflow.spanOutputs` to a JSON text, cut to the inputs/outputs limit.
    @inlinable
    public func setOutputs(json: String) {
        if records { recordAttribute(MLflowAttribute.outputs, truncating: json, maxBytes: inputsOutputsLimit) }
    }

    @usableFromInline
    var inputsOutputsLimit: Int { limits.inputsOutputs }

    /// Sets a trace tag. MLflow reads tags from the root span only.
    @inlinable
    public func setTraceTag(_ key: String, _ value: String) {
        setAttribute(MLflowAttribute.traceTagPrefix + key, .string(value))
    }
}
