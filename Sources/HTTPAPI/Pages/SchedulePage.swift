import Cron
import Foundation
import Hummingbird
import SchedulerAPI
import Scheduling
import Storage

/// One schedule (`/schedules/{name}`): its definition and source file, the next 10 fires, its
/// webhook URL and scheme (never the secret), the durations of its recent runs as a chart, and its
/// history, 50 runs a page.
struct SchedulePage {
    var common: PageCommon
    var schedule: Detail
    var chart: Chart?
    var runs: [RunRow]
    var hasRuns: Bool
    var before: String?
    var nextPage: String?

    struct Detail {
        var name: String
        var paused: Bool
        var pauseNote: String?
        var problem: String?
        var trigger: String
        var cron: String?
        var webhookPath: String?
        var webhookURL: String?
        var webhookScheme: String?
        var secretEnv: String?
        var workflow: String
        var fields: [Field]
        var input: String
        var source: String?
        var fires: [Fire]
        var hasFires: Bool
    }

    struct Field {
        var label: String
        var value: String
    }

    struct Fire {
        var when: String
        var dst: String?
    }

    /// The durations of the latest finished runs, oldest on the left, as bars of an SVG.
    struct Chart {
        var width: Int
        var height: Int
        var count: Int
        var longest: String
        var bars: [Bar]
    }

    struct Bar {
        var id: String
        var state: String
        var duration: String
        var when: String
        var x: Int
        var y: Int
        var w: Int
        var h: Int
    }

    struct RunRow {
        var id: String
        var shortID: String
        var attempt: Int?
        var state: String
        var trigger: String
        var fireTime: String
        var started: String
        var duration: String
        var error: String?
    }

    /// Runs per page of history, and in the chart.
    static let pageSize = 50
}

extension PageRoutes {
    func schedule(_ key: String, _ request: Request, _ common: PageCommon) async throws -> Response {
        guard let schedule = try await deps.schedules.find(key) else {
            throw PageNotFound(
                message: "There is no schedule named \(key).", back: ("/schedules", "All schedules"))
        }
        var common = common
        common.title = schedule.name
        common.live = "2"
        let before = request.uri.queryParameters["before"].map(String.init)
        let now = deps.clock.now()
        let size = SchedulePage.pageSize
        let runs = try await deps.store.runSummaries(scheduleIDs: [schedule.id], limit: size, before: before)
        let recent =
            before == nil
            ? runs : try await deps.store.runSummaries(scheduleIDs: [schedule.id], limit: size, before: nil)
        let page = SchedulePage(
            common: common, schedule: detail(schedule, request: request, now: now),
            chart: chart(recent[schedule.id] ?? []),
            runs: (runs[schedule.id] ?? []).map(runRow), hasRuns: runs[schedule.id] != nil, before: before,
            nextPage: runs[schedule.id]?.count == size ? runs[schedule.id]?.last.map { "?before=\($0.id)" } : nil)
        return PageRenderer.page("schedule", page)
    }

    func detail(_ schedule: ScheduleRecord, request: Request, now: Date) -> SchedulePage.Detail {
        let shown = Schedule(schedule, now: now)
        var fields: [SchedulePage.Field] = [
            .init(label: "Overlap", value: shown.overlap),
            .init(label: "Catch-up", value: "\(shown.catchup) (\(shown.catchupMode))"),
        ]
        if schedule.jitterSeconds > 0 { fields.append(.init(label: "Jitter", value: shown.jitter)) }
        if let timeout = shown.timeout { fields.append(.init(label: "Timeout", value: timeout)) }
        if let expected = shown.expectedDuration { fields.append(.init(label: "Expected duration", value: expected)) }
        if let retry = shown.retry {
            fields.append(
                .init(
                    label: "Retry",
                    value: (retry.attempts ?? 1) <= 1
                        ? "off"
                        : "\(retry.attempts ?? 1) attempts, backoff \(retry.backoff ?? "—") up to \(retry.maxBackoff ?? "—")"
                ))
        }
        if let notify = schedule.notify, !notify.isEmpty {
            fields.append(.init(label: "Alerts", value: "\(notify.count) target\(notify.count == 1 ? "" : "s")"))
        }
        if let remaining = schedule.remainingRuns { fields.append(.init(label: "Runs left", value: "\(remaining)")) }
        if schedule.cron != nil {
            fields.append(.init(label: "Day rule", value: shown.dayMatch))
            fields.append(.init(label: "DST", value: "gap \(shown.dstGap), fold \(shown.dstFold)"))
        }
        let fires = Schedule.fires(schedule, count: 10, now: now).map {
            SchedulePage.Fire(when: format.time($0.date), dst: $0.dst?.rawValue)
        }
        let path = schedule.webhook ? "/hooks/\(schedule.name)" : nil
        return SchedulePage.Detail(
            name: schedule.name, paused: schedule.paused, pauseNote: schedule.pauseNote,
            problem: ScheduleService.problem(schedule, workflows: deps.workflows()), trigger: Self.trigger(schedule),
            cron: schedule.cron, webhookPath: path, webhookURL: path.map { origin(request) + $0 },
            webhookScheme: schedule.webhook ? (schedule.webhookScheme ?? .github).rawValue : nil,
            secretEnv: schedule.webhookSecretEnv, workflow: schedule.workflow, fields: fields,
            input: PageFormat.prettyJSON(schedule.inputJSON) ?? "{}", source: schedule.source, fires: fires,
            hasFires: !fires.isEmpty)
    }

    /// Where users reach the daemon: the public URL when one is set, else the request's own host.
    func origin(_ request: Request) -> String {
        if let url = deps.publicURL { return url }
        let scheme = secure(request) ? "https" : "http"
        return "\(scheme)://\(request.head.authority ?? "localhost")"
    }

    func runRow(_ run: RunSummary) -> SchedulePage.RunRow {
        SchedulePage.RunRow(
            id: run.id, shortID: PageFormat.short(run.id), attempt: run.fireAttempt > 1 ? run.fireAttempt : nil,
            state: run.state.rawValue, trigger: run.trigger, fireTime: format.time(run.nominalTime),
            started: format.time(run.startedAt), duration: PageFormat.duration(from: run.startedAt, to: run.finishedAt),
            error: run.error.map { $0.count > 300 ? String($0.prefix(300)) + "…" : $0 })
    }

    /// Bars for the finished runs among `runs` (newest first), oldest on the left, each as tall as
    /// its duration against the longest.
    func chart(_ runs: [RunSummary]) -> SchedulePage.Chart? {
        let finished = runs.reversed().compactMap { run -> (RunSummary, Double)? in
            guard let start = run.startedAt, let end = run.finishedAt else { return nil }
            return (run, max(0, end.timeIntervalSince(start) * 1000))
        }
        guard !finished.isEmpty else { return nil }
        let width = 1000
        let height = 140
        let longest = max(finished.map(\.1).max() ?? 1, 1)
        let slot = width / max(finished.count, 10)
        let bars = finished.enumerated().map { index, item in
            let h = max(2, Int((item.1 / longest * Double(height - 10)).rounded()))
            return SchedulePage.Bar(
                id: item.0.id, state: item.0.state.rawValue, duration: PageFormat.duration(milliseconds: item.1),
                when: format.time(item.0.startedAt), x: index * slot + 2, y: height - h, w: max(1, slot - 4), h: h)
        }
        return SchedulePage.Chart(
            width: width, height: height, count: finished.count, longest: PageFormat.duration(milliseconds: longest),
            bars: bars)
    }
}
