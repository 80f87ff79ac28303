import ClockTesting
import Foundation
import Logging
import SchedulerTesting
import Scheduling
import Storage
import Testing

/// The run pruner as a service on a manual clock: it waits on the clock, and a pass deletes what
/// finished before the clock's time minus the retention.
@Suite("Run pruner on a manual clock", .timeLimit(.minutes(1)))
struct RunPrunerTests {
    static let t0 = Date(timeIntervalSince1970: 1_704_067_200)  // 2024-01-01T00:00:00Z
    static let day: TimeInterval = 86_400

    @Test("the first pass comes when the clock reaches the first delay, and measures the retention from the clock")
    func passesOnTheClock() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prune-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("db.sqlite").path)
        /// A run made and finished `daysAgo` days before t0 (its id tells when it was made, as ids do).
        func finished(_ daysAgo: Double) async throws -> String {
            let made = Self.t0.addingTimeInterval(-daysAgo * Self.day)
            var record = RunRecord(
                id: SortableID.lowest("run", at: made).dropLast(1) + "1", scheduleID: nil, workflow: "w",
                trigger: "manual", state: .succeeded, queuedAt: made)
            record.finishedAt = made
            #expect(try await store.insertRun(record))
            return record.id
        }
        // Both are more than 30 days old by the real time: only the clock's time keeps the recent one.
        let old = try await finished(31)
        let recent = try await finished(1)
        let clock = ManualClock(Self.t0)
        let pruner = RunPruner(
            store: store, retention: .seconds(30 * 86_400), artifacts: directory.appendingPathComponent("artifacts"),
            firstDelay: .seconds(60), interval: .seconds(3600), clock: clock, logger: Logger(label: "test.pruner"))
        let task = Task { try await pruner.run() }
        defer { task.cancel() }

        try await eventually("the pruner sleeps until its first pass") {
            clock.nextDeadline == Self.t0.addingTimeInterval(60)
        }
        #expect(try await store.run(id: old) != nil)
        clock.advance(by: 60)
        try await eventually("the pruner sleeps until its second pass") {
            clock.nextDeadline == Self.t0.addingTimeInterval(60 + 3600)
        }
        #expect(try await store.run(id: old) == nil)
        #expect(try await store.run(id: recent) != nil)
    }

    @Test(
        "old finished runs are deleted with their artifact folders, and old alerts no longer pending; running, queued and recent runs and pending alerts stay"
    )
    func retention() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ret-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("db.sqlite").path)
        let now = Date()
        let day: TimeInterval = 86_400
        func run(_ daysAgo: Double, _ state: RunState, finished: Bool = true) async throws -> String {
            let made = now.addingTimeInterval(-daysAgo * day)
            var record = RunRecord(
                id: SortableID.lowest("run", at: made).dropLast(4) + String(format: "%04d", Int(daysAgo * 10)),
                scheduleID: nil, workflow: "w", trigger: "manual", state: state, queuedAt: made)
            if finished { record.finishedAt = made.addingTimeInterval(60) }
            #expect(try await store.insertRun(record))
            return record.id
        }
        let old = [
            try await run(40, .succeeded), try await run(39, .failed), try await run(38, .skipped),
            try await run(37, .interrupted),
        ]
        let oldRunning = try await run(36, .running, finished: false)
        let oldQueued = try await run(35, .queued, finished: false)
        let recent = try await run(2, .succeeded)

        let artifacts = directory.appendingPathComponent("artifacts")
        for id in [old[0], old[3], recent] {
            try FileManager.default.createDirectory(
                at: artifacts.appendingPathComponent("\(id)/report"), withIntermediateDirectories: true)
        }
        func alert(_ daysAgo: Double, _ key: String) -> AlertRecord {
            AlertRecord(
                scheduleID: nil, scheduleName: "s", event: .failure, runID: nil, dedupeKey: key, targetJSON: "{}",
                payloadJSON: "{}", createdAt: now.addingTimeInterval(-daysAgo * day))
        }
        var oldDone = alert(40, "old-done")
        oldDone.state = .delivered
        let oldPending = alert(40, "old-pending")
        var recentDone = alert(2, "recent-done")
        recentDone.state = .failed
        _ = try await store.insertAlerts([oldDone, oldPending, recentDone])
        let pruner = RunPruner(
            store: store, retention: .seconds(30 * 86_400), artifacts: artifacts, logger: Logger(label: "test"))
        #expect(await pruner.prune(now: now) == old.count)
        #expect(
            Set(try await store.alerts(scheduleID: nil, limit: 10, before: nil).map(\.dedupeKey))
                == ["old-pending", "recent-done"])
        for id in old { #expect(try await store.run(id: id) == nil) }
        for id in [old[0], old[3]] {
            #expect(!FileManager.default.fileExists(atPath: artifacts.appendingPathComponent(id).path))
        }
        #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent(recent).path))
        for id in [oldRunning, oldQueued, recent] { #expect(try await store.run(id: id) != nil) }
        #expect(await pruner.prune(now: now) == 0)
    }
}
