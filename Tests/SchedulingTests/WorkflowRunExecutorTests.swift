import ClockTesting
import Foundation
import Logging
import ProcessSandbox
import RunTracing
import Storage
import Testing
import Tracing
import TracingTesting
import Workflows

@testable import Scheduling

/// What the executor writes into a run's trace, read from an in-memory tracer: the ids the scheduler
/// stored before the run started, the trace tags, and the root an interrupted run left open.
@Suite("The run executor's traces, through any RunTracer")
struct WorkflowRunExecutorTests {
    struct Fixture {
        let directory: URL
        let tracer = MemoryTracer()
        let clock = ManualClock(Date(timeIntervalSince1970: 1_733_300_000))
        let executor: WorkflowRunExecutor
        let schedule = ScheduleRecord(name: "nightly", cron: "0 2 * * *", workflow: "report")

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("executor-\(UUID())")
            let workflows = directory.appendingPathComponent("workflows")
            try FileManager.default.createDirectory(at: workflows, withIntermediateDirectories: true)
            try "name: report\nentry: sum\nnodes:\n  sum:\n    set: {total: 3}\n".write(
                to: workflows.appendingPathComponent("report.yaml"), atomically: true, encoding: .utf8)
            let sandbox = SandboxRunner(environment: [:], workRoot: directory.appendingPathComponent("work"))
            let runner = WorkflowRunner(
                catalog: try WorkflowCatalog.load(directory: directory, nodeKinds: []), tracer: tracer,
                configuration: .init(sandbox: sandbox),
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            executor = WorkflowRunExecutor(runner: runner, clock: clock)
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    @Test("a cron run's trace has the stored trace id, root span id and start, and the fire's tags")
    func storedIDs() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        var run = RunRecord(
            scheduleID: fixture.schedule.id, workflow: "report", trigger: "cron",
            nominalTime: Date(timeIntervalSince1970: 1_733_277_600))
        let traceID = TraceID.random()
        let rootSpanID = SpanID.random()
        run.traceID = traceID.mlflowTraceID
        run.rootSpanID = rootSpanID.hex
        run.rootStartNanos = 1_733_300_000_000_000_000
        let outcome = await fixture.executor.execute(
            run, schedule: fixture.schedule, started: { _ in }, progress: { _ in })
        #expect(outcome.state == .succeeded)
        let spans = fixture.tracer.spans(inTrace: traceID.hex)
        let root = try #require(spans.first { $0.parentSpanID == nil })
        #expect(root.spanID == rootSpanID.hex)
        #expect(root.startNanos == 1_733_300_000_000_000_000)
        #expect(root.spanType == "CHAIN")
        #expect(root.traceTags["trigger"] == "cron")
        #expect(root.traceTags["schedule_id"] == fixture.schedule.id)
        #expect(root.traceTags["schedule_name"] == "nightly")
        #expect(root.traceTags["run_id"] == run.id)
        #expect(root.traceTags["fire_time"] == "2024-12-04T02:00:00Z")
        #expect(root.traceTags["mlflow.source.name"] == "workflows/report.yaml")
        #expect(root.string("session.id") == "nightly")
        #expect(root.string("user.id") == "cron")
        let node = try #require(spans.first { $0.name == "sum" })
        #expect(node.parentSpanID == rootSpanID.hex)
    }

    @Test("an interrupted run's root is closed at the clock's now with the error and its tags")
    func closeInterrupted() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        var run = RunRecord(scheduleID: fixture.schedule.id, workflow: "report", trigger: "webhook")
        let traceID = TraceID.random()
        run.traceID = traceID.mlflowTraceID
        run.rootSpanID = SpanID.random().hex
        run.rootStartNanos = 1_733_299_000_000_000_000
        await fixture.executor.closeInterrupted(run)
        let root = try #require(fixture.tracer.spans(inTrace: traceID.hex).first)
        #expect(root.spanID == run.rootSpanID)
        #expect(root.startNanos == 1_733_299_000_000_000_000)
        #expect(root.endNanos == 1_733_300_000_000_000_000)
        #expect(root.isError)
        #expect(root.status?.message?.hasPrefix("RunInterrupted: the daemon stopped") == true)
        #expect(root.traceTags["trigger"] == "webhook")
        #expect(root.traceTags["run_id"] == run.id)
        #expect(root.traceTags["schedule_id"] == fixture.schedule.id)
    }

    @Test("a run without a stored root has nothing to close")
    func nothingToClose() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let run = RunRecord(scheduleID: fixture.schedule.id, workflow: "report", trigger: "cron")
        await fixture.executor.closeInterrupted(run)
        #expect(fixture.tracer.spans.isEmpty)
    }
}
