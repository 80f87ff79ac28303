import Cron
import Foundation
import Scheduling
import Storage
import Testing

/// Applying schedule files again (at every start, on SIGHUP, on `schedule apply`): what the
/// scheduler counted down stays, what the file changed is taken.
@Suite("Schedule plans")
struct SchedulePlanTests {
    static let now = Date(timeIntervalSince1970: 1_704_067_200)

    func plan(_ definition: ScheduleDefinition, over existing: [ScheduleRecord], now: Date = now) throws
        -> SchedulePlan
    {
        try SchedulePlan.make(
            desired: [.init(definition: definition, source: "limited.yaml")], existing: existing, workflows: ["w"],
            prune: true, now: now
        ).get()
    }

    func limited(_ runs: Int?, paused: Bool? = nil) -> ScheduleDefinition {
        ScheduleDefinition(name: "limited", cron: "0 * * * *", workflow: "w", paused: paused, remainingRuns: runs)
    }

    /// The schedule as stored after applying `definition` and then `fires` fires counted down.
    func stored(_ definition: ScheduleDefinition, fires: Int, store: SQLiteStore) async throws -> ScheduleRecord {
        let created = try #require(try plan(definition, over: []).creates.first)
        try await store.insertSchedule(created)
        for fire in 0..<fires {
            let run = RunRecord(
                scheduleID: created.id, workflow: created.workflow, trigger: "cron", dedupeKey: "k\(fire)")
            _ = try await store.recordFires([ScheduleFires(scheduleID: created.id, runs: [run], cursor: Int64(fire))])
        }
        return try #require(try await store.schedule(id: created.id))
    }

    func temporaryStore() throws -> SQLiteStore {
        try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("plan-\(UUID()).sqlite").path)
    }

    @Test("the same remaining_runs applied again keeps the count the schedule came down to")
    func sameLimitKeepsCount() async throws {
        let store = try temporaryStore()
        let current = try await stored(limited(10), fires: 3, store: store)
        #expect(current.remainingRuns == 7 && current.declaredRemainingRuns == 10)
        let again = try plan(limited(10), over: [current])
        #expect(again.isEmpty, "re-applying an unchanged file changes nothing")
        #expect(again.unchanged.first?.remainingRuns == 7)
    }

    @Test("a different remaining_runs starts the count afresh; leaving it out lifts the limit")
    func changedLimit() async throws {
        let store = try temporaryStore()
        let current = try await stored(limited(10), fires: 3, store: store)
        let raised = try #require(try plan(limited(20), over: [current]).updates.first)
        #expect(raised.remainingRuns == 20 && raised.declaredRemainingRuns == 20)
        try await store.updateSchedule(raised)
        #expect(try await store.schedule(id: current.id)?.remainingRuns == 20)
        let lifted = try #require(try plan(limited(nil), over: [current]).updates.first)
        #expect(lifted.remainingRuns == nil && lifted.declaredRemainingRuns == nil)
    }

    @Test("a schedule paused by its last remaining run stays paused when its file says paused: false")
    func exhaustedStaysPaused() async throws {
        let store = try temporaryStore()
        let current = try await stored(limited(2, paused: false), fires: 2, store: store)
        #expect(current.paused && current.remainingRuns == 0)
        let again = try plan(limited(2, paused: false), over: [current])
        #expect(again.isEmpty, "\(again.updates)")
        let record = try #require(again.unchanged.first)
        #expect(record.paused && record.pauseNote == "paused after its last remaining run")
        // A new limit re-arms it, whether or not the file says paused: false.
        for file in [limited(5, paused: false), limited(5)] {
            let later = Self.now.addingTimeInterval(86_400)
            let rearmed = try #require(try plan(file, over: [current], now: later).updates.first)
            #expect(!rearmed.paused && rearmed.pauseNote == nil && rearmed.remainingRuns == 5)
            // Fires missed while it was paused are not caught up.
            #expect(current.lastFireSeconds ?? 0 < Int64(later.timeIntervalSince1970))
            #expect(rearmed.lastFireSeconds == Int64(later.timeIntervalSince1970))
        }
        // Without paused: false, the same limit keeps it paused too.
        #expect(try plan(limited(2), over: [current]).unchanged.first?.paused == true)
    }

    @Test("schedules stored before the declared number was kept: the count and a run-out pause survive the upgrade")
    func storedBeforeDeclared() async throws {
        let store = try temporaryStore()
        var counting = try await stored(limited(10), fires: 3, store: store)
        var ranOut = counting
        counting.declaredRemainingRuns = nil
        ranOut.declaredRemainingRuns = nil
        ranOut.remainingRuns = 0
        ranOut.paused = true
        #expect(try plan(limited(10), over: [counting]).updates.first?.remainingRuns == 7)
        let still = try plan(limited(10, paused: false), over: [ranOut])
        #expect(still.updates.first.map { $0.paused && $0.remainingRuns == 0 } == true, "\(still)")
        // Removing the number lifts the limit, as for any schedule.
        #expect(try plan(limited(nil), over: [counting]).updates.first.map { $0.remainingRuns == nil } == true)
    }

    @Test("day_match, dst_gap and dst_fold: stored from a file, refused with what is allowed, only with cron")
    func cronOverrides() throws {
        let text = "cron: \"0 9 1-7 * MON\"\nworkflow: w\nday_match: and\ndst_gap: skip\ndst_fold: both\n"
        let entry = try ScheduleFile.parse(text, file: "first_monday.yaml", defaultName: "first_monday").get()
        let record = try entry.definition.validate(workflows: ["w"], now: Self.now).get().record
        #expect(record.dayMatch == "and" && record.dstGap == "skip" && record.dstFold == "both")
        #expect(record.cronOptions.dayMatch == .and && record.cronOptions.dstGap == .skip)
        // `and`: the first Monday of the month only (2024-01-01 is a Monday; the next is 2024-02-05).
        let fires = try CronExpression(record.cron ?? "", options: record.cronOptions).fires(after: Self.now)
        #expect(fires.prefix(2).map(\.iso8601) == ["2024-01-01T09:00:00+00:00", "2024-02-05T09:00:00+00:00"])

        let bad = ScheduleDefinition(name: "x", webhook: true, workflow: "w", dayMatch: "both", dstFold: "second")
        guard case .failure(let problems) = bad.validate(workflows: ["w"]) else {
            Issue.record("overrides without cron were accepted")
            return
        }
        #expect(
            problems.problems.map(\.description) == [
                "day_match: needs a cron expression", #"day_match: "both" is not allowed; use vixie, or, and"#,
                "dst_fold: needs a cron expression", #"dst_fold: "second" is not allowed; use first, last, both"#,
            ])
    }

    @Test("--prune deletes only the schedules applied from the same directory (never older ones without a path)")
    func pruneStaysInItsDirectory() throws {
        func record(_ name: String, source: String?) -> ScheduleRecord {
            ScheduleRecord(name: name, cron: "0 * * * *", workflow: "w", source: source)
        }
        let existing = [
            record("here", source: "/srv/a/here.yaml"), record("there", source: "/srv/b/there.yaml"),
            record("older", source: "older.yaml"), record("added", source: nil),
        ]
        let plan = try SchedulePlan.make(
            desired: [], existing: existing, workflows: ["w"], prune: true, directory: "/srv/a", now: Self.now
        ).get()
        #expect(plan.deletes.map(\.name) == ["here"])
        let everywhere = try SchedulePlan.make(desired: [], existing: existing, workflows: ["w"], prune: true).get()
        #expect(everywhere.deletes.map(\.name) == ["here", "there", "older"])
    }
}
