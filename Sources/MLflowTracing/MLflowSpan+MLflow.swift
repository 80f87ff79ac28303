import Foundation
import Tracing

/// MLflow's span types (`mlflow.spanType`), sent as plain strings.
public struct MLflowSpanType: Sendable, Hashable, RawRepresentable, ExpressibleByStringLiteral {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static let chain: MLflowSpanType = "CHAIN"
    public static let tool: MLflowSpanType = "TOOL"
    public static let agent: MLflowSpanType = "AGENT"
    public static let llm: MLflowSpanType = "LLM"
    public static let retriever: MLflowSpanType = "RETRIEVER"
    public static let unknown: MLflowSpanType = "UNKNOWN"
}

/// The attribute names MLflow gives meaning to.
public enum MLflowAttribute {
    public static let spanType = "mlflow.spanType"
    public static let inputs = "mlflow.spanInputs"
    public static let outputs = "mlflow.spanOutputs"
    /// Prefix that turns a root-span attribute into a trace tag.
    public static let traceTagPrefix = "mlflow.traceTag."
}

extension MLflowSpan {
    /// Sets `mlflow.spanType`.
    @inlinable
    public func setSpanType(_ type: MLflowSpanType) {
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

    /// Sets `mlflow.spanInputs` to the JSON encoding of `value`.
    public func setInputs(_ value: some Encodable) {
        guard isRecording else { return }
        setInputs(json: Self.json(value))
    }

    /// Sets `mlflow.spanOutputs` to the JSON encoding of `value`.
    public func setOutputs(_ value: some Encodable) {
        guard isRecording else { return }
        setOutputs(json: Self.json(value))
    }

    /// Sets a trace tag. MLflow reads tags from the root span only.
    @inlinable
    public func setTraceTag(_ key: String, _ value: String) {
        setAttribute(MLflowAttribute.traceTagPrefix + key, .string(value))
    }

    /// Names the trace in the MLflow UI (the `mlflow.traceName` tag).
    public func setTraceName(_ name: String) {
        setTraceTag("mlflow.traceName", name)
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}
