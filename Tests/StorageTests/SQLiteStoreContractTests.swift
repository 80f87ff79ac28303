import Foundation
import Storage
import StorageTesting
import Testing

@Suite("The SQLite store keeps the store contract")
struct SQLiteStoreContractTests {
    @Test("keeps the clause", arguments: StoreContract.Clause.allCases)
    func keeps(_ clause: StoreContract.Clause) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("contract-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let contract = StoreContract {
            try SQLiteStore(path: directory.appendingPathComponent("\(UUID()).sqlite").path)
        }
        try await contract.check(clause)
    }
}
