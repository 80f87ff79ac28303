import Cron
import Foundation
import Hummingbird
import SchedulerAPI
import Scheduling
import Storage
import Workflows

/// One run (`/runs/{id}`): its state, trigger and times, its lateness, the error, every node
/// attempt as a row of a waterfall, its attempts when it was retried, its input and output, and the
/// link to its trace in MLflow.
struct RunPage {
    var common: PageCommon
    var run: Detail
    /// Set once the run ended: the page stops updating itself.
    var final: Bool

    struct Detail {
        var id: String
        var state: String
        var schedule: String
        var scheduleLink: String?
        var workflow: String
        var trigger: String
        var attemptText: String?
        var traceID: String?
        var traceURL: String?
        var times: [Field]
        var error: String?
        var attempts: [Attempt]
        var hasAttempts: Bool
        var nodes: [Node]
        var hasNodes: Bool
        var input: String
        var output: String?
    }

    struct Field {
        var label: String
        var value: String
    }

    struct Attempt {
        var id: String
        var attempt: Int
        var state: String
        var current: Bool
    }

    /// A node attempt as a row of the waterfall: `x` and `w` place its bar on a 1000-wide lane that
    /// spans the run.
    struct Node {
        var step: Int
        var node: String
        var workflowNote: String?
        var retry: Int?
        var kind: String
        var status: String
        var offset: String
        var duration: String
        var x: Int
        var w: Int
        var error: String?
        var sandbox: Sandbox?
    }

    /// What a script node's sandbox reported.
    struct Sandbox {
        var exitCode: String
        var timedOut: Bool
        var artifacts: String?
    }
}

extension PageRoutes {
    func run(_ id: String, _ common: PageCommon) async throws -> Response {
        guard let run = try await deps.store.run(id: id) else {
            throw PageNotFound(message: "There is no run with id \(id).", back: ("/", "Back to the overview"))
        }
        var common = common
        common.title = "Run \(PageFormat.short(run.id))"
        common.live = run.state.isFinal ? nil : "2"
        let now = deps.clock.now()
        let schedule = run.scheduleID.flatMap { deps.scheduler.schedule($0) }
        let attempts = try await deps.attempts(of: run)
        var times: [RunPage.Field] = [.init(label: "Queued", value: format.time(run.queuedAt))]
        if let fire = run.nominalTime { times.insert(.init(label: "Fire time", value: format.time(fire)), at: 0) }
        if let started = run.startedAt {
            times.append(.init(label: "Started", value: format.time(started)))
            let planned = run.nominalTime ?? run.notBefore ?? run.queuedAt
            times.append(.init(label: "Lateness", value: PageFormat.duration(from: planned, to: started)))
        }
        if let finished = run.finishedAt {
            times.append(.init(label: "Finished", value: format.time(finished)))
            times.append(.init(label: "Duration", value: PageFormat.duration(from: run.startedAt, to: finished)))
        } else if let started = run.startedAt {
            times.append(.init(label: "Running for", value: PageFormat.duration(from: started, to: now)))
        }
        if let owner = run.owner { times.append(.init(label: "Instance", value: owner)) }
        let nodes = waterfall(run, now: now)
        let detail = RunPage.Detail(
            id: run.id, state: run.state.rawValue,
            schedule: schedule?.name ?? (run.scheduleID == nil ? "no schedule" : "a deleted schedule"),
            scheduleLink: schedule?.name, workflow: run.workflow, trigger: run.trigger,
            attemptText: attempts.count > 1 ? "attempt \(run.fireAttempt) of \(attempts.count)" : nil,
            traceID: run.traceID, traceURL: run.traceID.flatMap(deps.traceURL), times: times, error: run.error,
            attempts: attempts.map {
                .init(id: $0.id, attempt: $0.fireAttempt, state: $0.state.rawValue, current: $0.id == run.id)
            }, hasAttempts: attempts.count > 1, nodes: nodes, hasNodes: !nodes.isEmpty,
            input: PageFormat.prettyJSON(run.inputJSON) ?? "{}", output: PageFormat.prettyJSON(run.outputJSON))
        return PageRenderer.page("run", RunPage(common: common, run: detail, final: run.state.isFinal))
    }

    /// The run's node attempts in the order they began, placed on one time line from the run's
    /// start to its end (or now).
    func waterfall(_ run: RunRecord, now: Date) -> [RunPage.Node] {
        // The attempts going on now, when this daemon runs the run: its stored progress has the
        // ended ones only.
        let going =
            run.state.isFinal
            ? []
            : deps.scheduler.nodesGoing(runID: run.id).map {
                RunNode(
                    node: $0.node, workflow: $0.workflow, kind: $0.kind, step: $0.step, attempt: $0.attempt,
                    status: $0.status.rawValue, startedAt: APITimestamp.format($0.startedAt), durationMs: nil,
                    error: nil)
            }
        let nodes = (Run.nodes(run.nodesJSON) + going).sorted { ($0.step ?? 0) < ($1.step ?? 0) }
        guard !nodes.isEmpty else { return [] }
        let starts = nodes.map { $0.startedAt.flatMap(APITimestamp.parse) }
        let origin = run.startedAt ?? starts.compactMap { $0 }.min() ?? run.queuedAt
        let ends = zip(nodes, starts).map { node, start -> Date? in
            guard let start else { return nil }
            if node.status == "running" { return now }
            return start.addingTimeInterval((node.durationMs ?? 0) / 1000)
        }
        let end = max(run.finishedAt ?? now, ends.compactMap { $0 }.max() ?? origin)
        let span = max(end.timeIntervalSince(origin), 0.001)
        return zip(nodes, zip(starts, ends)).map { node, times in
            let (start, stop) = times
            let offset = start.map { max(0, $0.timeIntervalSince(origin)) } ?? 0
            let length = max(0, (stop ?? start ?? origin).timeIntervalSince(start ?? origin))
            let x = min(999, Int((offset / span * 1000).rounded()))
            return RunPage.Node(
                step: node.step ?? 0, node: node.node ?? "?",
                workflowNote: node.workflow == run.workflow ? nil : node.workflow,
                retry: (node.attempt ?? 1) > 1 ? node.attempt : nil, kind: node.kind ?? "",
                status: node.status ?? "?", offset: PageFormat.duration(milliseconds: offset * 1000),
                duration: PageFormat.duration(milliseconds: node.status == "running" ? length * 1000 : node.durationMs),
                x: x, w: max(2, min(1000 - x, Int((length / span * 1000).rounded()))), error: node.error,
                sandbox: node.sandbox.map {
                    RunPage.Sandbox(
                        exitCode: $0.exitCode.map(String.init) ?? "none", timedOut: $0.timedOut ?? false,
                        artifacts: ($0.artifacts ?? []).isEmpty ? nil : ($0.artifacts ?? []).joined(separator: ", "))
                })
        }
    }
}
