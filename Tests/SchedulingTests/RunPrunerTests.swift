import Foundation
import Logging
import Scheduling
import Storage
import Testing

@Suite("The run pruner")
struct RunPrunerTests {
    @Test("old finished runs are deleted with their artifact folders; running, queued and recent runs stay")
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
        let pruner = RunPruner(
            store: store, retention: .seconds(30 * 86_400), artifacts: artifacts, logger: Logger(label: "test"))
        #expect(await pruner.prune(now: now) == old.count)
        for id in old { #expect(try await store.run(id: id) == nil) }
        for id in [old[0], old[3]] {
            #expect(!FileManager.default.fileExists(atPath: artifacts.appendingPathComponent(id).path))
        }
        #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent(recent).path))
        for id in [oldRunning, oldQueued, recent] { #expect(try await store.run(id: id) != nil) }
        #expect(await pruner.prune(now: now) == 0)
    }
}
