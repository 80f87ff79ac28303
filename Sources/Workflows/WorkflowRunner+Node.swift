import Foundation
import HTTPClient
import Logging
import ProcessSandbox
import RunTracing
import Synchronization
import Tracing

// One node attempt: its span, its retries and timeout, and what each kind of node does.

extension WorkflowRunner {
    struct Outcome: Sendable {
        var update: [String: JSONValue]
        var next: WorkflowNode.Next
        /// What the span shows as outputs, when not the update.
        var spanOutputs: JSONValue?
        /// How a script node's process ended.
        var sandbox: NodeRecord.SandboxSummary? = nil
    }

    func runNode(_ node: WorkflowNode, in workflow: Workflow, state: [String: JSONValue], execution: Execution)
        async throws -> Outcome
    {
        // The span's inputs; not written out when tracing is off.
        let inputs = tracer.isEnabled ? JSONValue.object(state).jsonText : ""
        var attempt = 0
        // The provider's Retry-After of the last failed model call: the next attempt waits at least that.
        var retryAfter: Duration = .zero
        while true {
            attempt += 1
            if attempt > 1 {
                do {
                    try await Task.sleep(for: max(node.retry.delay(before: attempt), retryAfter))
                } catch {
                    throw NodeCancelled(node: node.id)
                }
            }
            let step = execution.nextStep()
            let span = tracer.startSpan(node.id, context: ServiceContext.current ?? .topLevel)
            if case .workflow = node.kind { span.setSpanType(.agent) } else { span.setSpanType(.chain) }
            span.setAttribute("node.kind", .string(node.kindName))
            span.setAttribute("node.step", .int64(Int64(step)))
            span.setAttribute("node.attempt", .int64(Int64(attempt)))
            span.setInputs(json: inputs)
            let startedAt = Date()
            let clock = ContinuousClock()
            let began = clock.now
            let currentAttempt = attempt
            let meter = TokenMeter()
            execution.began(
                NodeRecord(
                    node: node.id, workflow: workflow.name, kind: node.kindName, step: step, attempt: attempt,
                    status: .running, startedAt: startedAt, durationMs: 0, error: nil))
            let (result, timedOut) = await Self.withDeadline(node.timeout) {
                try await ServiceContext.withValue(span.context) {
                    try await TokenMeter.$current.withValue(meter) {
                        try await self.perform(
                            node, in: workflow, state: state, span: span, attempt: currentAttempt,
                            execution: execution)
                    }
                }
            }
            var record = NodeRecord(
                node: node.id, workflow: workflow.name, kind: node.kindName, step: step, attempt: attempt,
                status: .succeeded, startedAt: startedAt, durationMs: 0, error: nil)
            if let usage = meter.usage {
                record.inputTokens = usage.input
                record.outputTokens = usage.output
            }
            switch result {
            case .success(let outcome):
                if span.isRecording { span.setOutputs(json: (outcome.spanOutputs ?? .object(outcome.update)).jsonText) }
                span.end()
                record.durationMs = Self.milliseconds(clock.now - began)
                record.sandbox = outcome.sandbox
                execution.finished(record)
                return outcome
            case .failure(let failure):
                let cancelled = Task.isCancelled && !timedOut
                let error: any Error =
                    timedOut
                    ? NodeTimedOut(node: node.id, timeout: node.timeout ?? .zero)
                    : (cancelled || failure is CancellationError ? NodeCancelled(node: node.id) : failure)
                span.recordError(error)
                span.end()
                record.durationMs = Self.milliseconds(clock.now - began)
                record.status = error is NodeCancelled ? .cancelled : .failed
                record.error = String(describing: error)
                record.sandbox = (failure as? ScriptFailed)?.sandbox
                execution.finished(record)
                if error is NodeCancelled { throw error }
                logger.warning(
                    "node failed",
                    metadata: [
                        "run_id": .string(execution.runID), "workflow": .string(workflow.name),
                        "node": .string(node.id),
                        "attempt": .stringConvertible(attempt), "error": .string(record.error ?? ""),
                    ])
                let modelFailure = error as? LLMRequestFailed
                if attempt < node.retry.attempts && modelFailure?.retryable != false {
                    retryAfter = modelFailure?.retryAfter ?? .zero
                    continue
                }
                if node.continueOnError {
                    var next = node.next
                    if case .route(let route) = node.kind {
                        next = route.defaultNext == "end" ? .end : .node(route.defaultNext)
                    }
                    return Outcome(update: [:], next: next)
                }
                throw NodeFailed(node: node.id, cause: error)
            }
        }
    }

    func perform(
        _ node: WorkflowNode, in workflow: Workflow, state: [String: JSONValue], span: any RunSpan, attempt: Int,
        execution: Execution
    ) async throws -> Outcome {
        switch node.kind {
        case .set(let assignments):
            var combined = JSONValue.object(state)
            var update: [String: JSONValue] = [:]
            for (path, template) in assignments {
                combined = path.setting(template.render(.object(state)), in: combined)
                update[path.root] = combined[path.root]
            }
            return Outcome(update: update, next: node.next)

        case .route(let route):
            var selected: String?
            var candidates: [JSONValue] = []
            for (condition, next) in route.cases {
                let holds: Bool
                do {
                    holds = try condition.evaluate(.object(state))
                } catch {
                    throw RouteFailed(description: "condition \"\(condition)\": \(error.message)")
                }
                candidates.append([
                    "when": .string(condition.description), "next": .string(next), "matched": .bool(holds),
                ])
                if holds && selected == nil { selected = next }
            }
            candidates.append(["default": .string(route.defaultNext), "matched": .bool(selected == nil)])
            let chosen = selected ?? route.defaultNext
            span.setAttribute("route.selected", .string(chosen))
            span.setAttribute("route.candidates", .string(JSONValue.array(candidates).jsonText))
            return Outcome(
                update: [:], next: chosen == "end" ? .end : .node(chosen), spanOutputs: ["next": .string(chosen)])

        case .script(let script):
            var scriptRun = ScriptExecution(
                script: script.resolvedPath, arguments: script.arguments,
                state: Data(JSONValue.object(state).jsonText.utf8),
                payload: execution.payload, policy: catalog.policies[script.policy] ?? .default)
            scriptRun.readableFolder = catalog.directory.standardizedFileURL.path
            if let root = configuration.artifactsDirectory {
                scriptRun.artifactDestination = root.appendingPathComponent(execution.runID).appendingPathComponent(
                    node.id)
            }
            let record = await configuration.sandbox.run(scriptRun, tracer: tracer)
            if record.cancelled { throw NodeCancelled(node: node.id) }
            let summary = NodeRecord.SandboxSummary(
                exitCode: record.exitCode, signal: record.signal, timedOut: record.timedOut,
                artifacts: record.artifacts.map(\.name))
            if let failure = record.failure { throw ScriptFailed(description: failure, sandbox: summary) }
            let update = try record.outputJSON.map { try JSONValue(json: $0) }?.objectValue ?? [:]
            return Outcome(update: update, next: node.next, sandbox: summary)

        case .http(let request):
            let update = try await performHTTP(request, node: node, state: state)
            return Outcome(update: update, next: node.next)

        case .llm(let call):
            let update = try await performLLM(call, node: node, in: workflow, state: state, execution: execution)
            return Outcome(update: update, next: node.next)

        case .workflow(let delegation):
            guard let sub = catalog.workflows[delegation.workflow] else {
                throw RouteFailed(description: "workflow \"\(delegation.workflow)\" is not loaded")
            }
            span.setAttribute("delegation.from", .string(workflow.name))
            span.setAttribute("delegation.to", .string(sub.name))
            var input = sub.state
            if let mapping = delegation.input {
                for (key, template) in mapping { input[key] = template.render(.object(state)) }
            } else {
                for (key, value) in state { input[key] = value }
            }
            let subSpan = tracer.startSpan(sub.name, context: span.context)
            subSpan.setSpanType(.chain)
            subSpan.setAttribute("workflow", .string(sub.type))
            subSpan.setInputs(json: JSONValue.object(input).jsonText)
            let final: [String: JSONValue]
            let subInput = input
            let (outcome, timedOut) = await Self.withDeadline(sub.timeout) {
                try await ServiceContext.withValue(subSpan.context) {
                    try await self.runGraph(sub, state: subInput, execution: execution, top: false)
                }
            }
            switch outcome {
            case .success(let state):
                final = state
            case .failure(let failure):
                let error: any Error =
                    timedOut
                    ? SubWorkflowTimedOut(workflow: sub.name, timeout: sub.timeout ?? .zero)
                    : (Task.isCancelled ? NodeCancelled(node: node.id) : failure)
                subSpan.recordError(error)
                subSpan.end()
                throw error
            }
            subSpan.setOutputs(json: JSONValue.object(final).jsonText)
            subSpan.end()
            var update: [String: JSONValue] = [:]
            if let mapping = delegation.output {
                for (key, template) in mapping { update[key] = template.render(.object(final)) }
            } else {
                update[node.id] = .object(final)
            }
            return Outcome(update: update, next: node.next)

        case .swift(let name, let configuration):
            guard let handler = registry.handlers[name] else {
                throw SwiftNodeFailed(description: "no Swift node kind \"\(name)\" is registered")
            }
            let update = try await handler(
                NodeInvocation(
                    node: node.id, workflow: workflow.name, state: state, configuration: configuration,
                    attempt: attempt,
                    runID: execution.runID, span: span))
            return Outcome(update: update, next: node.next)
        }
    }
}
