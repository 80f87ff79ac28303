import ClockTesting
import Foundation
import Scheduling
import Storage
import Testing

/// The one place schedules change, on a real SQLite file and a manual clock, without the HTTP layer.
@Suite("ScheduleService")
struct ScheduleServiceTests {
    static let start = Date(timeIntervalSince1970: 1_704_067_200)

    static func service() throws -> (ScheduleService, SQLiteStore, ManualClock) {
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent(
                "service-\(UUID().uuidString.prefix(8)).sqlite"
            ).path)
        let clock = ManualClock(start)
        return (ScheduleService(store: store, scheduler: nil, environment: [:], clock: clock), store, clock)
    }

    @Test("a key finds a schedule by name first, then by id")
    func lookupOrder() async throws {
        let (service, store, _) = try Self.service()
        // A name that is another schedule's id: the stored rows are made by hand to meet.
        try await store.insertSchedule(ScheduleRecord(id: "sch_shared", name: "first", cron: nil, workflow: "w"))
        try await store.insertSchedule(ScheduleRecord(name: "sch_shared", cron: nil, workflow: "w"))
        #expect(try await service.find("sch_shared")?.name == "sch_shared")
        #expect(try await service.find("first")?.id == "sch_shared")
        #expect(try await service.find("nothing") == nil)
        await #expect(throws: SchedulingError.self) { try await service.schedule("nothing") }
    }

    @Test("add, pause, resume and rotate stamp the service's clock; refusals store nothing")
    func changes() async throws {
        let (service, store, clock) = try Self.service()
        let added = try await service.add(
            ScheduleDefinition(cron: "0 * * * *", webhook: true, workflow: "w", webhookScheme: "token"),
            workflows: ["w"])
        #expect(added.schedule.name == "w" && added.schedule.createdAt == Self.start && added.secret != nil)
        clock.advance(by: 60)
        let paused = try await service.pause("w", note: "why")
        #expect(paused.updatedAt == Self.start.addingTimeInterval(60) && paused.pauseNote == "why")
        clock.advance(by: 60)
        let resumed = try await service.resume("w")
        #expect(resumed.wasPaused && resumed.schedule.lastFireSeconds == Int64(Self.start.timeIntervalSince1970) + 120)
        #expect(try await service.resume("w").wasPaused == false)
        let rotated = try await service.rotateSecret("w", grace: "1h")
        #expect(rotated.schedule.webhookPreviousUntil == Self.start.addingTimeInterval(120 + 3600))

        let before = try await store.schedules()
        await #expect(throws: SchedulingError.self) {
            try await service.add(ScheduleDefinition(name: "w", cron: "0 * * * *", workflow: "w"), workflows: ["w"])
        }
        await #expect(throws: SchedulingError.self) {
            try await service.pause("w", note: String(repeating: "n", count: 2000))
        }
        await #expect(throws: SchedulingError.self) { try await service.rotateSecret("w", grace: "-1s") }
        #expect(try await store.schedules() == before)
        #expect(try await service.delete("w").id == added.schedule.id)
        #expect(try await store.schedules().isEmpty)
    }

    @Test("schedule files: a plan is stored only by commit; a bad file refuses the whole directory")
    func files() async throws {
        let (service, store, _) = try Self.service()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "service-files-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "cron: \"0 1 * * *\"\nworkflow: w\n".write(
            to: directory.appendingPathComponent("one.yaml"), atomically: true, encoding: .utf8)
        let plan = try await service.planFiles(in: directory, workflows: ["w"])
        #expect(plan.creates.map(\.name) == ["one"])
        #expect(try await store.schedules().isEmpty)
        try await service.commit(plan)
        #expect(try await store.schedules().map(\.name) == ["one"])

        try "cron: \"99 * * * *\"\nworkflow: w\n".write(
            to: directory.appendingPathComponent("two.yaml"), atomically: true, encoding: .utf8)
        do {
            _ = try await service.planFiles(in: directory, workflows: ["w"])
            Issue.record("a bad file was planned")
        } catch let error as SchedulingError {
            #expect(error.code == .invalid)
            #expect(error.message.hasPrefix("the schedule files in \(directory.path) are not valid:\n"))
            #expect(error.message.contains("two.yaml"))
        }
    }

    @Test(
        "a schedule name is checked as namePattern says: the byte-by-byte check agrees with the pattern, and a trailing newline is refused",
        arguments: [
            "a", "nightly", "nightly_energy-2", "0days", String(repeating: "a", count: 64),
            String(repeating: "a", count: 65), "", "_x", "-x", "Nightly", "night ly", "nächtlich", "a.b", "a/b", "é",
        ])
    func nameCheck(name: String) {
        let byPattern = name.range(of: ScheduleDefinition.namePattern, options: .regularExpression) != nil
        #expect(ScheduleDefinition.isValidName(name) == byPattern)
        #expect(!ScheduleDefinition.isValidName(name + "\n"))
    }
}
