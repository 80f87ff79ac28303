import Cron
import Foundation
import Hummingbird
import SchedulerAPI
import Scheduling
import Storage
import Workflows

/// The overview (`/`): today's runs by state with the failing schedules first, what runs and waits
/// now, the next fires, the trace export, and the instances sharing the store.
struct OverviewPage {
    var common: PageCommon
    var since: String
    var totals: [Total]
    var tally: [ScheduleTally]
    var hasTally: Bool
    /// How many more schedules ran today than the table lists.
    var moreTally: Int?
    var active: [ActiveRun]
    var hasActive: Bool
    var moreActive: Int?
    var upcoming: [Upcoming]
    var hasUpcoming: Bool
    var export: Export?
    var instances: [InstanceRow]
    var showInstances: Bool

    struct Total {
        var state: String
        var label: String
        var count: Int
    }

    struct ScheduleTally {
        var name: String
        /// The schedule's name for its link; `nil` for a schedule deleted since.
        var link: String?
        var failed = 0
        var timedOut = 0
        var succeeded = 0
        var running = 0
        var queued = 0
        var other = 0
        /// Set when a run failed or timed out today: the row is marked and listed first.
        var failing = false
    }

    struct ActiveRun {
        var id: String
        var shortID: String
        var schedule: String
        var scheduleLink: String?
        var state: String
        var elapsed: String
        var node: String
        var instance: String
    }

    struct Upcoming {
        var when: String
        var within: String
        var dst: String?
        var name: String
        var workflow: String
    }

    struct Export {
        var pending: Int
        var dropped: Int?
        var reachable: Bool
    }

    struct InstanceRow {
        var id: String
        var this: Bool
        var host: String
        var version: String
        var seen: String
        var running: Int
    }

    /// How many running and queued runs the table lists.
    static let activeShown = 50
    /// How many schedules the table of today's runs lists, the most failures first.
    static let tallyShown = 20
}

extension PageRoutes {
    func overview(_ common: PageCommon) async throws -> Response {
        var common = common
        common.title = "Overview"
        common.live = "2"
        let now = deps.clock.now()
        let since = format.startOfDay(now)
        async let tallyRows = deps.store.runTally(since: since)
        async let activeRuns = deps.store.activeRuns(limit: OverviewPage.activeShown)
        async let seen = deps.store.instances(seenSince: now.addingTimeInterval(-60))
        let upcoming = await deps.scheduler.upcomingFires(limit: 10)

        var bySchedule: [String: OverviewPage.ScheduleTally] = [:]
        var totals: [RunState: Int] = [:]
        for row in try await tallyRows {
            totals[row.state, default: 0] += row.count
            let key = row.scheduleID ?? ""
            var entry = bySchedule[key] ?? scheduleTally(row.scheduleID)
            switch row.state {
            case .failed: entry.failed += row.count
            case .timedOut: entry.timedOut += row.count
            case .succeeded: entry.succeeded += row.count
            case .running: entry.running += row.count
            case .queued: entry.queued += row.count
            default: entry.other += row.count
            }
            bySchedule[key] = entry
        }
        let ranked = bySchedule.values.map { row in
            var row = row
            row.failing = row.failed + row.timedOut > 0
            return row
        }.sorted { ($1.failed + $1.timedOut, $0.name) < ($0.failed + $0.timedOut, $1.name) }
        let tally = Array(ranked.prefix(OverviewPage.tallyShown))
        let shownStates: [(RunState, String)] = [
            (.failed, "failed"), (.timedOut, "timed out"), (.succeeded, "succeeded"), (.running, "running"),
            (.queued, "queued"),
        ]

        let active = try await activeRuns
        let shown = active.runs.map { run -> OverviewPage.ActiveRun in
            let schedule = run.scheduleID.flatMap { deps.scheduler.schedule($0) }
            return OverviewPage.ActiveRun(
                id: run.id, shortID: PageFormat.short(run.id), schedule: schedule?.name ?? run.workflow,
                scheduleLink: schedule?.name, state: run.state.rawValue,
                elapsed: PageFormat.duration(from: run.startedAt ?? run.queuedAt, to: now),
                node: currentNode(run), instance: run.owner ?? "—")
        }

        let export = deps.traceExport().map {
            OverviewPage.Export(
                pending: $0.pending, dropped: $0.dropped > 0 ? $0.dropped : nil, reachable: $0.reachable)
        }
        let instances = try await seen.map {
            OverviewPage.InstanceRow(
                id: $0.id, this: $0.id == deps.instanceID, host: $0.host, version: $0.version,
                seen: format.time($0.heartbeatAt), running: $0.runsRunning)
        }
        let page = OverviewPage(
            common: common, since: format.time(since),
            totals: shownStates.map { .init(state: $0.0.rawValue, label: $0.1, count: totals[$0.0] ?? 0) },
            tally: tally, hasTally: !tally.isEmpty,
            moreTally: ranked.count > tally.count ? ranked.count - tally.count : nil, active: shown,
            hasActive: !shown.isEmpty,
            moreActive: active.total > shown.count ? active.total - shown.count : nil,
            upcoming: upcoming.map {
                OverviewPage.Upcoming(
                    when: format.time(Date(timeIntervalSince1970: TimeInterval($0.fire.unixSeconds))),
                    within: PageFormat.within(TimeInterval($0.fire.unixSeconds) - now.timeIntervalSince1970),
                    dst: $0.fire.dst?.rawValue, name: $0.schedule.name, workflow: $0.schedule.workflow)
            }, hasUpcoming: !upcoming.isEmpty, export: export, instances: instances,
            showInstances: instances.count > 1)
        return PageRenderer.page("overview", page)
    }

    /// A tally row for a schedule id, named as the scheduler has it loaded.
    func scheduleTally(_ id: String?) -> OverviewPage.ScheduleTally {
        guard let id else { return .init(name: "(runs of deleted schedules)") }
        guard let schedule = deps.scheduler.schedule(id) else { return .init(name: "(deleted schedule \(id))") }
        return .init(name: schedule.name, link: schedule.name)
    }

    /// The node a running run is at: the attempt going on when this daemon runs it, else the last one
    /// that ended (another daemon's run).
    func currentNode(_ run: RunSummary) -> String {
        if let going = deps.scheduler.nodesGoing(runID: run.id).last { return going.node }
        let nodes = Run.nodes(run.nodesJSON)
        if let last = nodes.last { return "after \(last.node ?? "?")" }
        return run.state == .running ? "starting" : "—"
    }
}
