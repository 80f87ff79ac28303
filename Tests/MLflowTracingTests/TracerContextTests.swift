import RunTracing
import Synchronization
import Testing
import Tracing

@testable import MLflowTracing

/// Keeps ended spans in memory.
final class RecordingSink: SpanSink, Sendable {
    private let spans = Mutex<[FinishedSpan]>([])
    func submit(_ span: MLflowSpan) {
        guard let finished = span.finished else { return }
        spans.withLock { $0.append(finished) }
    }
    var all: [FinishedSpan] { spans.withLock { $0 } }
}

@Suite("Tracer: context travels in ServiceContext")
struct TracerContextTests {
    @Test("nested withSpan calls make children in the same trace")
    func nesting() async throws {
        let sink = RecordingSink()
        let tracer = MLflowTracer(sink: sink, limits: TruncationLimits())
        tracer.withSpan("root") { root in
            root.setSpanType(.chain)
            tracer.withSpan("child") { _ in
                tracer.withSpan("grandchild") { _ in }
            }
        }
        let spans = Dictionary(uniqueKeysWithValues: sink.all.map { ($0.name, $0) })
        let root = try #require(spans["root"])
        let child = try #require(spans["child"])
        let grandchild = try #require(spans["grandchild"])
        #expect(root.parentSpanID == nil)
        #expect(child.parentSpanID == root.spanID)
        #expect(grandchild.parentSpanID == child.spanID)
        #expect(Set([root.traceID, child.traceID, grandchild.traceID]).count == 1)
        #expect(sink.all.map(\.name) == ["grandchild", "child", "root"])  // children end first
    }

    @Test("concurrent tasks never share a trace")
    func concurrent() async throws {
        let sink = RecordingSink()
        let tracer = MLflowTracer(sink: sink, limits: TruncationLimits())
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<100 {
                group.addTask {
                    await tracer.withSpan("root-\(i)") { _ in
                        for j in 0..<5 {
                            await tracer.withSpan("child-\(i)-\(j)") { _ in await Task.yield() }
                        }
                    }
                }
            }
        }
        let byTrace = Dictionary(grouping: sink.all, by: \.traceID)
        #expect(byTrace.count == 100)
        for (_, spans) in byTrace {
            let root = try #require(spans.first { $0.parentSpanID == nil })
            let i = root.name.dropFirst("root-".count)
            #expect(spans.count == 6)
            #expect(
                spans.allSatisfy {
                    $0.name == root.name || ($0.name.hasPrefix("child-\(i)-") && $0.parentSpanID == root.spanID)
                })
        }
    }

    @Test("recordError sets MLflow's status and exception event; an error is not overwritten by OK")
    func errors() throws {
        struct Boom: Error, CustomStringConvertible { var description: String { "the node blew up" } }
        let sink = RecordingSink()
        let tracer = MLflowTracer(sink: sink, limits: TruncationLimits())
        let span = tracer.startSpan("node")
        span.recordError(Boom())
        span.setStatus(.init(code: .ok))
        span.end()
        let finished = try #require(sink.all.first)
        #expect(finished.status?.code == .error)
        #expect(finished.status?.message == "Boom: the node blew up")
        let event = try #require(finished.events.first)
        #expect(event.name == "exception")
        #expect(event.attributes["exception.type"]?.toSpanAttribute() == .string("Boom"))
        #expect(event.attributes["exception.message"]?.toSpanAttribute() == .string("the node blew up"))
    }

    @Test("a span ends once; changes after the end are ignored")
    func endOnce() {
        let sink = RecordingSink()
        let tracer = MLflowTracer(sink: sink, limits: TruncationLimits())
        let span = tracer.startSpan("once")
        span.end()
        span.setAttribute("late", .string("x"))
        span.end()
        #expect(sink.all.count == 1)
        #expect(sink.all[0].attributes["late"] == nil)
    }

    @Test("inputs, outputs and strings are cut to their limits")
    func limits() throws {
        let sink = RecordingSink()
        let tracer = MLflowTracer(sink: sink, limits: TruncationLimits(string: 100, inputsOutputs: 200))
        let span = tracer.startSpan("big")
        span.setInputs(json: String(repeating: "x", count: 1000))
        span.setAttribute("note", .string(String(repeating: "y", count: 1000)))
        span.end()
        let attributes = try #require(sink.all.first?.attributes)
        guard case .string(let inputs) = attributes["mlflow.spanInputs"]?.toSpanAttribute(),
            case .string(let note) = attributes["note"]?.toSpanAttribute()
        else {
            Issue.record("attributes missing")
            return
        }
        #expect(inputs.utf8.count <= 200 && inputs.hasSuffix(" bytes]"))
        #expect(note.utf8.count <= 100 && note.hasSuffix(" bytes]"))
    }

    @Test("the disabled tracer records nothing and hands out no trace ids")
    func disabled() {
        let tracer = MLflowTracer.disabled
        let span = tracer.startSpan("nothing")
        #expect(!span.isRecording)
        #expect(span.traceID == nil)
        span.setAttribute("k", .string("v"))
        span.end()
        #expect(span.attributes["k"] == nil)
    }
}
