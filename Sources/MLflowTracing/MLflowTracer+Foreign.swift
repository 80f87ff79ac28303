import RunTracing
import Tracing

extension MLflowTracer {
    /// Sends a span a script recorded: made as this tracer's own span with the script's ids and
    /// times, so that it takes the same truncation and export path as every other span.
    public func record(_ foreign: ForeignSpan) {
        guard isEnabled else { return }
        var context = ServiceContext.topLevel
        let own = MLflowSpanContext(traceID: foreign.traceID, spanID: foreign.spanID)
        context.mlflowSpanContext = own
        let span = MLflowSpan(
            name: foreign.name, context: context, spanContext: own, parentSpanID: foreign.parentSpanID,
            kind: foreign.kind, startNanos: foreign.startNanos, limits: limits, sink: sink)
        foreign.attributes.forEach { key, value in
            if case .string(let text) = value, key == MLflowAttribute.inputs || key == MLflowAttribute.outputs {
                span.setAttribute(key, truncating: text, maxBytes: limits.inputsOutputs)
            } else {
                span.setAttribute(key, value)
            }
        }
        for event in foreign.events { span.addEvent(event) }
        if let status = foreign.status { span.setStatus(status) }
        span.finish(at: max(foreign.endNanos, foreign.startNanos))
    }
}
