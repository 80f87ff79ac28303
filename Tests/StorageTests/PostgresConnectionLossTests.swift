import Foundation
import Logging
import PostgresNIO
import PostgresStorage
import SchedulerTesting
import Storage
import StorageTesting
import Synchronization
import Testing

/// The PostgreSQL store when the connection under its calls is cut: every call ends, stored or
/// failed, and the store works again once the server is back. A call that waited for ever would stop
/// a daemon's timer or heartbeat for good.
@Suite("The PostgreSQL store when its connection is cut")
struct PostgresConnectionLossTests {
    /// `direct`'s database as reached through a `tcp_forward.py` the test can stop and start again.
    struct Forwarded {
        let configuration: PostgresConfiguration
        let arguments: [String]

        init(_ direct: PostgresConfiguration) throws {
            let port = try freeTCPPort()
            var through = direct
            through.host = "127.0.0.1"
            through.port = port
            through.connectTimeout = .seconds(1)
            configuration = through
            arguments = [String(port), direct.host, String(direct.port)]
        }

        func start() async throws -> FixtureProcess {
            try await FixtureProcess.start(script: "tcp_forward.py", arguments: arguments)
        }
    }

    @Test(
        "a write waiting on a lock when its connection is cut fails at once; the next one is stored once the server is back",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func cutWhileWaiting() async throws {
        try await PostgresTestDatabase.withStore(prefix: "cut") { direct in
            let (schedule, forwarded, store) = try await Self.forwardedStore(on: direct, label: "test.cut")
            var forwarder = try await forwarded.start()
            try await store.withRunningClient {
                #expect(try await store.schedules().count == 1)
                // Another client locks the run table until the test lets go.
                let (locked, lockHeld) = AsyncStream.makeStream(of: Void.self)
                let (release, releasing) = AsyncStream.makeStream(of: Void.self)
                let holder = Task {
                    try await direct.transaction { connection in
                        _ = try await connection.query(
                            "LOCK TABLE run IN EXCLUSIVE MODE", logger: Logger(label: "lock"))
                        lockHeld.yield()
                        var waiting = release.makeAsyncIterator()
                        _ = await waiting.next()
                    }
                }
                var lockIterator = locked.makeAsyncIterator()
                _ = await lockIterator.next()
                let write = Task {
                    try await store.insertRun(RunRecord(scheduleID: schedule.id, workflow: "w", trigger: "manual"))
                }
                // The write is waiting for the lock when its connection goes.
                try await eventually("the write waits for the lock") {
                    try await direct.lockWaits() == 1
                }
                await forwarder.stop()
                let error = await #expect(throws: StorageError.self) { try await write.value }
                #expect(error?.code == .database)
                releasing.yield()
                try await holder.value
                #expect(try await direct.runs(scheduleID: schedule.id, limit: 10, before: nil).isEmpty)

                forwarder = try await forwarded.start()
                let run = RunRecord(scheduleID: schedule.id, workflow: "w", trigger: "manual")
                try await eventually(timeout: .seconds(60), "a write is stored once the server is back") {
                    (try? await store.insertRun(run)) == true
                }
                _ = forwarder
            }
        }
    }

    @Test(
        "eight callers of four kinds through six cuts of the connection at random moments: every call ends, and every kind works once the server is back",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func cutAgainAndAgain() async throws {
        try await PostgresTestDatabase.withStore(prefix: "cuts") { direct in
            let (schedule, forwarded, store) = try await Self.forwardedStore(on: direct, label: "test.cuts")
            var forwarder = try await forwarded.start()
            let calls = Calls()
            try await store.withRunningClient {
                let callers = (0..<8).map { caller in
                    Task {
                        var round: Int64 = 0
                        while !calls.stopping {
                            round += 1
                            try? await calls.watch(caller) {
                                try await Self.call(kind: caller % 4, round: round, caller: caller, schedule, on: store)
                            }
                            try? await Task.sleep(for: .milliseconds(Int.random(in: 0...50)))
                        }
                    }
                }
                for _ in 0..<6 {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 300...1500)))
                    await forwarder.stop()
                    try await Task.sleep(for: .milliseconds(Int.random(in: 500...3000)))
                    forwarder = try await forwarded.start()
                }
                calls.stop()
                try await eventually(timeout: .seconds(60), "every call has ended") { calls.waiting.isEmpty }
                for caller in callers { await caller.value }
                #expect(calls.waiting.isEmpty, "still waiting: \(calls.waiting)")
                for kind in 0..<4 {
                    try await eventually(timeout: .seconds(60), "call kind \(kind) works again") {
                        (try? await Self.call(kind: kind, round: 1_000_000, caller: kind, schedule, on: store)) != nil
                    }
                }
                _ = forwarder
            }
        }
    }

    /// A schedule stored through `direct`, a forwarder's address for `direct`'s database (not started),
    /// and a store on that address.
    static func forwardedStore(on direct: PostgresStore, label: String) async throws
        -> (ScheduleRecord, Forwarded, PostgresStore)
    {
        let schedule = ScheduleRecord(name: "s", cron: "* * * * * *", workflow: "w")
        try await direct.insertSchedule(schedule)
        let forwarded = try Forwarded(direct.configuration)
        return (
            schedule, forwarded, PostgresStore(configuration: forwarded.configuration, logger: Logger(label: label))
        )
    }

    /// One call of `kind`: a heartbeat, a tick's fires, a new run, or a read.
    static func call(kind: Int, round: Int64, caller: Int, _ schedule: ScheduleRecord, on store: PostgresStore)
        async throws
    {
        switch kind {
        case 0:
            _ = try await store.heartbeat(
                InstanceRecord(id: "ins_\(caller)", host: "h", version: "v", startedAt: Date()))
        case 1:
            let run = RunRecord(
                scheduleID: schedule.id, workflow: "w", trigger: "cron", dedupeKey: "\(caller)-\(round)")
            _ = try await store.recordFires([ScheduleFires(scheduleID: schedule.id, runs: [run], cursor: round)])
        case 2:
            _ = try await store.insertRun(RunRecord(scheduleID: schedule.id, workflow: "w", trigger: "manual"))
        default:
            _ = try await store.schedules()
        }
    }

    /// The calls under way, by caller.
    final class Calls: Sendable {
        private let state = Mutex<(waiting: Set<Int>, stopping: Bool)>(([], false))

        var waiting: Set<Int> { state.withLock { $0.waiting } }
        var stopping: Bool { state.withLock { $0.stopping } }
        func stop() { state.withLock { $0.stopping = true } }

        func watch(_ caller: Int, _ body: () async throws -> Void) async throws {
            state.withLock { _ = $0.waiting.insert(caller) }
            defer { state.withLock { _ = $0.waiting.remove(caller) } }
            try await body()
        }
    }
}

extension PostgresStore {
    /// How many connections to this store's database wait for a lock.
    func lockWaits() async throws -> Int {
        try await transaction { connection in
            var waits = 0
            for try await count in try await connection.query(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
                logger: Logger(label: "test.locks")
            ).decode(Int.self) {
                waits = count
            }
            return waits
        }
    }
}
