import Cron
import Foundation
import Hummingbird
import SchedulerAPI
import Scheduling
import Storage

/// The schedules (`/schedules`), by name, a page of 50 at a time: each one's trigger in words, its
/// next fire, its last 20 runs as marks, and the actions.
struct SchedulesPage {
    var common: PageCommon
    var total: Int
    var query: String
    var schedules: [Row]
    var hasSchedules: Bool
    var range: String
    var previousPage: String?
    var nextPage: String?

    struct Row {
        var name: String
        var workflow: String
        var problem: String?
        var trigger: String
        var cron: String?
        var next: String
        var dst: String?
        var paused: Bool
        var pauseNote: String?
        var marks: [Mark]
    }

    /// One run among a schedule's latest.
    struct Mark {
        var id: String
        var state: String
        var when: String
    }

    /// Schedules per page.
    static let pageSize = 50
    /// Runs shown per schedule.
    static let marks = 20
}

extension PageRoutes {
    func schedules(_ request: Request, _ common: PageCommon) async throws -> Response {
        var common = common
        common.title = "Schedules"
        common.live = "2"
        let query = request.uri.queryParameters["q"].map(String.init) ?? ""
        let pageNumber = max(1, request.uri.queryParameters["page"].flatMap { Int(String($0)) } ?? 1)
        var names = try await scheduleNames()
        if !query.isEmpty {
            let needle = query.lowercased()
            names = names.filter { $0.lowercased().contains(needle) }
        }
        names.sort()
        let size = SchedulesPage.pageSize
        let start = min((pageNumber - 1) * size, names.count)
        let slice = try await schedules(named: names[start..<min(start + size, names.count)])
        let now = deps.clock.now()
        let workflows = deps.workflows()
        var rows: [SchedulesPage.Row] = []
        rows.reserveCapacity(slice.count)
        let recent = try await deps.store.runSummaries(
            scheduleIDs: slice.map(\.id), limit: SchedulesPage.marks, before: nil)
        for schedule in slice {
            rows.append(row(schedule, runs: recent[schedule.id] ?? [], now: now, workflows: workflows))
        }
        func link(_ page: Int) -> String {
            "/schedules?" + (query.isEmpty ? "" : "q=\(Self.queryEscaped(query))&") + "page=\(page)"
        }
        let page = SchedulesPage(
            common: common, total: names.count, query: query, schedules: rows, hasSchedules: !rows.isEmpty,
            range: names.isEmpty ? "" : "\(start + 1)–\(start + slice.count) of \(names.count)",
            previousPage: pageNumber > 1 ? link(pageNumber - 1) : nil,
            nextPage: start + size < names.count ? link(pageNumber + 1) : nil)
        return PageRenderer.page("schedules", page)
    }

    /// Every schedule's name: from the scheduler's loaded copy (no database read) once it has loaded
    /// them, else from the store.
    func scheduleNames() async throws -> [String] {
        deps.scheduler.loaded ? deps.scheduler.loadedScheduleNames : try await deps.store.schedules().map(\.name)
    }

    /// The schedules of `names`, in that order; a name deleted meanwhile is left out.
    func schedules(named names: ArraySlice<String>) async throws -> [ScheduleRecord] {
        var found: [ScheduleRecord] = []
        for name in names {
            if let schedule = deps.scheduler.loaded
                ? deps.scheduler.schedule(name) : try await deps.schedules.find(name)
            {
                found.append(schedule)
            }
        }
        return found
    }

    func row(_ schedule: ScheduleRecord, runs: [RunSummary], now: Date, workflows: Set<String>) -> SchedulesPage.Row {
        let next = Schedule.fires(schedule, count: 1, now: now).first
        return SchedulesPage.Row(
            name: schedule.name, workflow: schedule.workflow,
            problem: ScheduleService.problem(schedule, workflows: workflows), trigger: Self.trigger(schedule),
            cron: schedule.cron, next: next.map { format.time($0.date) } ?? "—", dst: next?.dst?.rawValue,
            paused: schedule.paused, pauseNote: schedule.pauseNote, marks: marks(runs))
    }

    /// A schedule's latest runs as marks, oldest first.
    func marks(_ runs: [RunSummary]) -> [SchedulesPage.Mark] {
        runs.reversed().map {
            .init(id: $0.id, state: $0.state.rawValue, when: format.time($0.startedAt ?? $0.queuedAt))
        }
    }

    /// What fires the schedule, in words: the cron expression read out (`at 02:00 every day,
    /// Europe/Berlin`), the webhook and its scheme, or "by hand only".
    static func trigger(_ schedule: ScheduleRecord) -> String {
        var parts: [String] = []
        if let cron = schedule.cron {
            parts.append((try? CronExpression(cron, options: schedule.cronOptions))?.reading ?? "cron \(cron)")
        }
        if schedule.webhook { parts.append("webhook (\((schedule.webhookScheme ?? .github).rawValue) signature)") }
        return parts.isEmpty ? "by hand only" : parts.joined(separator: "; ")
    }
}

extension CronFire {
    /// The fire's instant.
    var date: Date { Date(timeIntervalSince1970: TimeInterval(unixSeconds)) }
}
