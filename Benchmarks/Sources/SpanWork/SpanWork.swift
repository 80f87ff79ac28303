import MLflowTracing
import RunTracing
import Tracing

/// The span both tracing benchmarks time, so that their figures compare: a workflow node's span with
/// a type, four attributes and small inputs and outputs, started as a child of `parent` and ended.
@inlinable
public func nodeSpan(_ tracer: MLflowTracer, parent: ServiceContext) {
    let span = tracer.startSpan("collect", context: parent)
    span.setSpanType(.chain)
    span.setAttribute("node.kind", .string("script"))
    span.setAttribute("node.step", .int64(3))
    span.setAttribute("node.attempt", .int64(1))
    span.setAttribute("policy_name", .string("default"))
    span.setInputs(json: #"{"day":"2024-01-01","meter":"main"}"#)
    span.setOutputs(json: #"{"kwh":12.5,"peak_hour":18}"#)
    span.end()
}
