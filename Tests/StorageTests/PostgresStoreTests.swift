import Foundation
import PostgresNIO
import PostgresStorage
import Storage
import StorageTesting
import Testing

/// What the PostgreSQL store does beyond the shared contract.
@Suite("The PostgreSQL store's own behaviour")
struct PostgresStoreTests {
    @Test(
        "free text holding NUL is stored with U+FFFD in its place; a key holding NUL is refused, not altered",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func nulInText() async throws {
        try await PostgresTestDatabase.withStore(prefix: "nul") { store in
            var schedule = ScheduleRecord(name: "s", cron: nil, workflow: "w", inputJSON: "{}")
            schedule.pauseNote = "paused\u{0}by a script"
            try await store.insertSchedule(schedule)
            #expect(try await store.schedule(id: schedule.id)?.pauseNote == "paused\u{FFFD}by a script")

            let run = RunRecord(scheduleID: schedule.id, workflow: "w", trigger: "manual")
            #expect(try await store.insertRun(run))
            try await store.updateRuns([
                .finished(
                    id: run.id, state: .failed, at: Date(), outputJSON: nil, error: "exit 1: \u{0}binary\u{0}",
                    nodesJSON: nil)
            ])
            let ended = try #require(try await store.run(id: run.id))
            #expect(ended.state == .failed && ended.error == "exit 1: \u{FFFD}binary\u{FFFD}")

            let error = await #expect(throws: StorageError.self) {
                try await store.insertSchedule(ScheduleRecord(name: "a\u{0}b", cron: nil, workflow: "w"))
            }
            #expect(error?.code == .database)
            #expect(try await store.schedules().map(\.name) == ["s"])
        }
    }

    @Test(
        "the change feed tells another store's follower which schedules were added, changed and deleted",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func changeFeed() async throws {
        try await PostgresTestDatabase.withStore(prefix: "feed") { writer in
            let reader = PostgresStore(configuration: writer.configuration, logger: Logger(label: "test.reader"))
            let (notices, received) = AsyncStream.makeStream(of: ScheduleChangeNotice.self)
            let (listening, ready) = AsyncStream.makeStream(of: Void.self)
            let follower = Task {
                try await reader.followScheduleChanges(
                    listening: { ready.yield() }, changed: { notice in received.yield(notice) })
            }
            var readyIterator = listening.makeAsyncIterator()
            _ = await readyIterator.next()
            var iterator = notices.makeAsyncIterator()

            let schedule = ScheduleRecord(name: "s", cron: "* * * * *", workflow: "w")
            try await writer.insertSchedule(schedule)
            #expect(await iterator.next() == .schedules([schedule.id]))
            var paused = schedule
            paused.paused = true
            try await writer.updateSchedule(paused)
            #expect(await iterator.next() == .schedules([schedule.id]))
            let other = ScheduleRecord(name: "t", cron: nil, workflow: "w")
            try await writer.applySchedules(insert: [other], update: [], delete: [schedule.id])
            #expect(await iterator.next() == .schedules([schedule.id, other.id]))
            #expect(try await writer.deleteSchedule(id: other.id))
            #expect(await iterator.next() == .schedules([other.id]))

            follower.cancel()
            #expect(try await follower.value, "a cancelled follower returns true")
        }
    }

    @Test(
        "a database a newer version migrated is refused with the versions, and nothing is changed",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func newerSchema() async throws {
        try await PostgresTestDatabase.withDatabase(prefix: "newer") { database in
            let first = PostgresStore(configuration: database, logger: Logger(label: "test"))
            try await first.withRunningClient {
                _ = try await first.migrate(within: .seconds(60))
                try await first.execute("INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')")
            }
            let second = PostgresStore(configuration: database, logger: Logger(label: "test"))
            try await second.withRunningClient {
                let error = await #expect(throws: StorageError.self) { try await second.migrate(within: .seconds(60)) }
                #expect(error?.code == .newerSchema)
                #expect(
                    error?.message.contains("schema is version 99, newer than this schedulerd knows") == true,
                    "\(String(describing: error))")
                let schedules = try await second.schedules()
                #expect(schedules.isEmpty)
            }
        }
    }

    @Test(
        "a tick of a daemon that has not heard of a pause stores nothing of it; one that lost every fire leaves the count",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func staleTick() async throws {
        try await PostgresTestDatabase.withStore(prefix: "stale") { store in
            var paused = ScheduleRecord(name: "paused", cron: "* * * * *", workflow: "w")
            paused.paused = true
            let counted = ScheduleRecord(name: "counted", cron: "* * * * *", workflow: "w", remainingRuns: 5)
            try await store.applySchedules(insert: [paused, counted], update: [], delete: [])
            // Another daemon stored the fire k1 of `counted` and counted it down to 4.
            let first = RunRecord(scheduleID: counted.id, workflow: "w", trigger: "cron", dedupeKey: "k1")
            _ = try await store.recordFires([
                ScheduleFires(scheduleID: counted.id, runs: [first], cursor: 60)
            ])
            // This daemon's tick: it does not know `paused` is paused, and its memory of `counted` is behind.
            let late = RunRecord(scheduleID: paused.id, workflow: "w", trigger: "cron", dedupeKey: "k1")
            let again = RunRecord(scheduleID: counted.id, workflow: "w", trigger: "cron", dedupeKey: "k1")
            let result = try await store.recordFires([
                ScheduleFires(scheduleID: paused.id, runs: [late], cursor: 60),
                ScheduleFires(scheduleID: counted.id, runs: [again], cursor: 60),
            ])
            #expect(result.busy == [paused.id] && result.stored.isEmpty)
            #expect(try await store.run(id: late.id) == nil)
            #expect(try await store.schedule(id: counted.id)?.remainingRuns == 4, "the count stays the winner's")
        }
    }

    @Test(
        "a tick passes over a schedule whose row another daemon holds: reported busy, nothing of it written",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func busySchedule() async throws {
        try await PostgresTestDatabase.withStore(prefix: "busy") { store in
            let held = ScheduleRecord(name: "held", cron: "* * * * *", workflow: "w")
            let free = ScheduleRecord(name: "free", cron: "* * * * *", workflow: "w")
            try await store.applySchedules(insert: [held, free], update: [], delete: [])
            let heldRun = RunRecord(scheduleID: held.id, workflow: "w", trigger: "cron", dedupeKey: "k1")
            let freeRun = RunRecord(scheduleID: free.id, workflow: "w", trigger: "cron", dedupeKey: "k1")
            let fires = [
                ScheduleFires(scheduleID: held.id, runs: [heldRun], cursor: 60),
                ScheduleFires(scheduleID: free.id, runs: [freeRun], cursor: 60),
            ]
            // Another daemon's transaction holds the row, as while it stores that schedule's fires.
            try await store.transaction { connection in
                try await connection.query(
                    "SELECT id FROM schedule WHERE id = \(held.id) FOR UPDATE", logger: Logger(label: "test"))
                let result = try await store.recordFires(fires)
                #expect(result.busy == [held.id])
                #expect(result.stored == [freeRun.id])
            }
            #expect(try await store.run(id: heldRun.id) == nil)
            #expect(try await store.schedule(id: held.id)?.lastFireSeconds == nil, "its cursor did not move")
            #expect(try await store.schedule(id: free.id)?.lastFireSeconds == 60)
            let again = try await store.recordFires([fires[0]])
            #expect(again.busy.isEmpty && again.stored == [heldRun.id])
        }
    }

    @Test(
        "a tick whose fires another daemon handled (the stored cursor is at or past it) writes nothing; a later one does",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func handledTick() async throws {
        try await PostgresTestDatabase.withStore(prefix: "handled") { store in
            let schedule = ScheduleRecord(name: "s", cron: "* * * * *", workflow: "w", remainingRuns: 5)
            try await store.insertSchedule(schedule)
            let run = { (key: String, second: Int64) in
                RunRecord(
                    scheduleID: schedule.id, workflow: "w", trigger: "cron",
                    nominalTime: Date(timeIntervalSince1970: TimeInterval(second)), dedupeKey: key)
            }
            let first = run("k60", 60)
            let stored = try await store.recordFires([
                ScheduleFires(scheduleID: schedule.id, runs: [first], cursor: 60)
            ])
            #expect(stored == RunWriteResult(stored: [first.id], remaining: [schedule.id: 4]))
            // A daemon behind, with a fire under another key for the same cursor: not written at all.
            let behind = run("k60-elsewhere", 60)
            let again = try await store.recordFires([
                ScheduleFires(scheduleID: schedule.id, runs: [behind], cursor: 60)
            ])
            #expect(again == RunWriteResult())
            #expect(try await store.run(id: behind.id) == nil)
            let row = try #require(try await store.schedule(id: schedule.id))
            #expect(row.lastFireSeconds == 60 && row.remainingRuns == 4 && !row.paused)
            let later = run("k120", 120)
            let next = try await store.recordFires([
                ScheduleFires(scheduleID: schedule.id, runs: [later], cursor: 120)
            ])
            #expect(next == RunWriteResult(stored: [later.id], remaining: [schedule.id: 3]))
            #expect(try await store.schedule(id: schedule.id)?.lastFireSeconds == 120)
        }
    }

    @Test(
        "a database edited by hand: a value of the wrong type is a thrown error naming the row, not the value",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func wrongType() async throws {
        try await PostgresTestDatabase.withStore(prefix: "edited") { store in
            let schedule = ScheduleRecord(name: "s", cron: nil, webhookSecret: "whsec_hidden", workflow: "w")
            try await store.insertSchedule(schedule)
            try await store.execute("ALTER TABLE schedule ALTER COLUMN remaining_runs_declared TYPE text")
            try await store.execute("UPDATE schedule SET remaining_runs_declared = 'many'")
            let error = await #expect(throws: StorageError.self) { try await store.schedules() }
            #expect(error?.code == .database)
            #expect(error?.message.contains("the schedule row \(schedule.id) has a value of the wrong type") == true)
            #expect(error?.message.contains("whsec_hidden") == false)
        }
    }

    @Test(
        "a batch larger than one statement keeps every field, payload bytes included, and dedupes across statements",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func largeBatch() async throws {
        try await PostgresTestDatabase.withStore(prefix: "batch") { store in
            let schedule = ScheduleRecord(name: "s", cron: "* * * * *", workflow: "w")
            try await store.insertSchedule(schedule)
            let reference = Date(timeIntervalSince1970: 1_717_200_000.25)
            var runs = (0..<2500).map { i in
                var run = RunRecord(
                    scheduleID: schedule.id, workflow: "w", trigger: "catchup",
                    nominalTime: reference.addingTimeInterval(Double(i)), dedupeKey: "k\(i)",
                    state: i % 2 == 0 ? .queued : .skipped, queuedAt: reference,
                    notBefore: reference.addingTimeInterval(1.5), inputJSON: #"{"i":\#(i),"s":"\u0000"}"#,
                    payload: Data([0, UInt8(i % 256), 0xff]))
                run.traceID = "tr-\(i)"
                run.error = i % 2 == 0 ? nil : "skipped \(i)"
                return run
            }
            // The key of the 11th run again, in the third statement: left out, the first one stays.
            runs.append(RunRecord(scheduleID: schedule.id, workflow: "w", trigger: "cron", dedupeKey: "k10"))
            let stored = try await store.insertRuns(runs)
            #expect(stored == Set(runs.dropLast().map(\.id)))
            for index in [0, 999, 1000, 1001, 2499] {
                var expected = runs[index]
                if expected.state.isFinal { expected.finishedAt = expected.queuedAt }
                #expect(try await store.run(id: expected.id) == expected)
            }
            #expect(try await store.run(scheduleID: schedule.id, dedupeKey: "k10")?.id == runs[10].id)
        }
    }
}
