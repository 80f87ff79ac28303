import Foundation
import Tracing

/// A span of a traced run: a `Tracing.Span` that also speaks the vocabulary of the trace schema
/// (docs/traces.md) — a span type, JSON inputs and outputs, trace tags on the root — and knows its
/// ids and the size limits of its values.
///
/// The workflow runner and the scheduler write spans only through this protocol, so they do not
/// depend on where spans go: `MLflowSpan` (module MLflowTracing) sends them to MLflow, and a test can
/// record them in memory. A span that does not record (tracing is off) ignores every call.
public protocol RunSpan: Tracing.Span {
    /// The trace this span belongs to; `nil` for a span that does not record.
    var traceID: TraceID? { get }
    /// The span's own id; `nil` for a span that does not record.
    var spanID: SpanID? { get }
    /// When the span started, in nanoseconds since the epoch.
    var startNanosecondsSinceEpoch: UInt64 { get }
    /// The size limits this span applies to its values, for callers that cut a value themselves
    /// (a script's output, read only up to a cap).
    var limits: TruncationLimits { get }

    /// Sets the span's type (`mlflow.spanType`).
    func setSpanType(_ type: SpanType)
    /// Sets the span's inputs to a JSON text, cut to the inputs/outputs limit.
    func setInputs(json: String)
    /// Sets the span's outputs to a JSON text, cut to the inputs/outputs limit.
    func setOutputs(json: String)
    /// Sets one attribute; a string is cut to the string limit.
    func setAttribute(_ key: String, _ value: SpanAttribute)
    /// Sets a string attribute cut to `maxBytes` (for `stdout` and `stderr`, which have their own limits).
    func setAttribute(_ key: String, truncating value: String, maxBytes: Int)
    /// Sets a trace tag. Tags count on the root span only.
    func setTraceTag(_ key: String, _ value: String)
}

extension RunSpan {
    /// Sets the span's inputs to the JSON encoding of `value` (keys sorted, slashes unescaped).
    public func setInputs(_ value: some Encodable) {
        guard isRecording else { return }
        setInputs(json: SpanJSON.encode(value))
    }

    /// Sets the span's outputs to the JSON encoding of `value` (keys sorted, slashes unescaped).
    public func setOutputs(_ value: some Encodable) {
        guard isRecording else { return }
        setOutputs(json: SpanJSON.encode(value))
    }

    /// Names the trace in the MLflow UI (the `mlflow.traceName` tag); call it on the root span.
    public func setTraceName(_ name: String) {
        setTraceTag("mlflow.traceName", name)
    }
}

/// The JSON text of a span's inputs and outputs.
package enum SpanJSON {
    /// `value` as JSON with sorted keys and unescaped slashes; `null` when it cannot be encoded.
    package static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}
