import Foundation
import ProcessSandbox
import RunTracing
import Tracing

/// A failed script execution, as the TOOL span's exception shows it.
public struct SandboxFailure: Error, CustomStringConvertible, Sendable {
    /// The execution's ``ExecutionRecord/failure`` line, unchanged.
    public var description: String
}

extension SandboxRunner {
    /// Runs the script inside a TOOL span named after the script file, a child of the current span,
    /// carrying the execution record's attributes (docs/traces.md, "Sandbox spans"). A failure marks the
    /// span ERROR with the `exception` event.
    ///
    /// The script gets `TRACEPARENT` (W3C, naming the TOOL span) and `$SCHEDULERD_SPANS_FILE`, where
    /// it may append spans of its own as OTLP JSON lines; those under the TOOL span join the trace
    /// (``ScriptSpans``), and the span counts them in `spans.imported`, `spans.rejected` and
    /// `spans.dropped`.
    public func run(_ execution: ScriptExecution, tracer: any RunTracer) async -> ExecutionRecord {
        let name = URL(fileURLWithPath: execution.script).lastPathComponent
        let span = tracer.startSpan(name, context: ServiceContext.current ?? .topLevel)
        span.setSpanType(.tool)
        var execution = execution
        execution.sideFiles.append(
            .init(variable: ScriptSpans.variable, name: ScriptSpans.fileName, maxBytes: ScriptSpans.maximumBytes))
        if let trace = span.traceID, let id = span.spanID {
            execution.environment["TRACEPARENT"] = "00-\(trace.hex)-\(id.hex)-01"
        }
        let prepared = execution
        let record = await ServiceContext.withValue(span.context) { await run(prepared) }
        record.annotate(span)
        if let trace = span.traceID, let id = span.spanID, let file = record.sideFiles[ScriptSpans.variable],
            !file.data.isEmpty
        {
            let spans = await ScriptSpans.read(file.data, trace: trace, parent: id)
            for foreign in spans.accepted { tracer.record(foreign) }
            span.setAttribute("spans.imported", .int64(Int64(spans.accepted.count)))
            span.setAttribute("spans.rejected", .int64(Int64(spans.rejected)))
            if spans.dropped > 0 { span.setAttribute("spans.dropped", .int64(Int64(spans.dropped))) }
        }
        span.end()
        return record
    }
}

extension ExecutionRecord {
    /// Writes the record onto a span: `exit_code`, `duration_ms`, `timed_out`, `timeout_s`,
    /// `policy_name`, `stdout_bytes`, `stderr_bytes`, `stdout` and `stderr` (cut to their limits),
    /// `artifact_count`, `rejected_count`, and where known `signal`, `isolation`, `max_rss_kb`, `cpu_ms`.
    public func annotate(_ span: some RunSpan) {
        guard span.isRecording else { return }
        let limits = span.limits
        if let exitCode { span.setAttribute("exit_code", .int64(Int64(exitCode))) }
        if let signal { span.setAttribute("signal", .int64(Int64(signal))) }
        span.setAttribute(
            "duration_ms",
            .int64(Int64(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)))
        span.setAttribute("timed_out", .bool(timedOut))
        span.setAttribute(
            "timeout_s", .double(Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18))
        span.setAttribute("policy_name", .string(policyName))
        span.setAttribute("stdout_bytes", .int64(Int64(stdout.totalBytes)))
        span.setAttribute("stderr_bytes", .int64(Int64(stderr.totalBytes)))
        span.setAttribute(
            "stdout",
            truncating: Truncation.truncate(
                String(decoding: stdout.head, as: UTF8.self), maxBytes: limits.stdout, totalBytes: stdout.totalBytes),
            maxBytes: limits.stdout)
        span.setAttribute(
            "stderr",
            truncating: Truncation.truncate(
                String(decoding: stderr.head, as: UTF8.self), maxBytes: limits.stderr, totalBytes: stderr.totalBytes),
            maxBytes: limits.stderr)
        span.setAttribute("artifact_count", .int64(Int64(artifacts.count)))
        span.setAttribute("rejected_count", .int64(Int64(rejectedArtifacts.count)))
        span.setAttribute("isolation", .string(isolation))
        span.setAttribute("max_rss_kb", .int64(Int64(maxRSSKB)))
        span.setAttribute("cpu_ms", .int64(Int64(cpuMs)))
        if let failure { span.recordError(SandboxFailure(description: failure)) }
    }
}
