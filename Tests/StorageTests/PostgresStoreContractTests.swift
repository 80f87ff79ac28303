import Foundation
import Logging
import PostgresStorage
import Storage
import StorageTesting
import Testing

@Suite("The PostgreSQL store keeps the store contract")
struct PostgresStoreContractTests {
    @Test(
        "keeps the clause", .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage),
        arguments: StoreContract.Clause.allCases)
    func keeps(_ clause: StoreContract.Clause) async throws {
        try await PostgresTestDatabase.withStore(prefix: "contract") { store in
            try await StoreContract { store }.check(clause)
        }
    }

    @Test(
        "several stores migrating one fresh database at once apply each version once",
        .enabled(if: PostgresTestDatabase.runs, PostgresTestDatabase.skipMessage))
    func concurrentMigration() async throws {
        try await PostgresTestDatabase.withDatabase(prefix: "migrate") { configuration in
            let stores = (0..<6).map { i in
                PostgresStore(configuration: configuration, maximumConnections: 2, logger: Logger(label: "test.\(i)"))
            }
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for store in stores {
                    group.addTask {
                        try await store.withRunningClient { try await store.migrate(within: .seconds(60)) }
                    }
                }
                var all: [Int] = []
                for try await versions in group { all += versions }
                return all
            }
            // Every version was applied by exactly one of them, and the schema works for all.
            #expect(applied.sorted() == Array(1...PostgresStore.schemaVersion))
            // A client runs once: a daemon starting later is a new store.
            let store = PostgresStore(configuration: configuration, logger: Logger(label: "test.later"))
            try await store.withRunningClient {
                #expect(try await store.migrate().isEmpty)
                try await store.insertSchedule(ScheduleRecord(name: "after", cron: "* * * * *", workflow: "w"))
                #expect(try await store.schedules().map(\.name) == ["after"])
            }
        }
    }
}
