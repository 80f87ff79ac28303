import Foundation
import Tracing

/// MLflow's span types (`mlflow.spanType`), sent as plain strings.
public struct MLflowSpanType: Sendable, Hashable, RawRepresentable, ExpressibleByStringLiteral {
    /// The string sent as `mlflow.spanType`; MLflow's own types are upper case (`TOOL`).
    public var rawValue: String
    /// A span type from its string, for the types MLflow knows that have no constant here
    /// (`EMBEDDING`, `PARSER`, …). Nothing is checked; MLflow shows an unknown string as it is.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// A span type written as a string literal: `span.setSpanType("RERANKER")`.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// A step that runs other steps: a workflow run's root span, its nodes and a sub-workflow's run.
    public static let chain: MLflowSpanType = "CHAIN"
    /// A call out of the process: the span of a sandboxed script or of an `http` node's request.
    public static let tool: MLflowSpanType = "TOOL"
    /// A `workflow:` node, which hands its work to another workflow.
    public static let agent: MLflowSpanType = "AGENT"
    /// A call to a language model. schedulerd makes none itself; it is here for Swift nodes that do.
    public static let llm: MLflowSpanType = "LLM"
    /// A search for documents to give a model. schedulerd makes none itself; it is here for Swift nodes.
    public static let retriever: MLflowSpanType = "RETRIEVER"
    /// MLflow's type for a span whose role is not known.
    public static let unknown: MLflowSpanType = "UNKNOWN"
}

/// The attribute names MLflow gives meaning to.
public enum MLflowAttribute {
    /// `mlflow.spanType`: the span's ``MLflowSpanType``; set it with ``MLflowSpan/setSpanType(_:)``.
    public static let spanType = "mlflow.spanType"
    /// `mlflow.spanInputs`: a JSON text MLflow shows as the span's inputs; set it with
    /// ``MLflowSpan/setInputs(json:)`` or ``MLflowSpan/setInputs(_:)``.
    public static let inputs = "mlflow.spanInputs"
    /// `mlflow.spanOutputs`: a JSON text MLflow shows as the span's outputs; set it with
    /// ``MLflowSpan/setOutputs(json:)`` or ``MLflowSpan/setOutputs(_:)``.
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
