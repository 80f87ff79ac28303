import Storage

extension Daemon {
    /// How long `/readyz` waits for the store: a PostgreSQL server that went away is only given up on by
    /// its connection pool after a minute, and a probe should hear "not ready" before its own timeout.
    static let readinessLimit: Duration = .seconds(5)

    /// Why `store` is not ready: what its ping threw, or that it did not answer within `limit`;
    /// `nil` when it answered. The ping reads no table: a probe costs the same with a million runs
    /// stored (counting the runs here made the first `/readyz` after a start wait for a full scan).
    static func storeProblem(_ store: any SchedulerStore, within limit: Duration) async -> String? {
        await withTaskGroup(of: String?.self) { group in
            group.addTask {
                do {
                    try await store.ping()
                    return nil
                } catch {
                    return "the store does not answer: \(error)"
                }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return Task.isCancelled ? nil : "the store did not answer within \(limit)"
            }
            defer { group.cancelAll() }
            return await group.next() ?? nil
        }
    }
}
