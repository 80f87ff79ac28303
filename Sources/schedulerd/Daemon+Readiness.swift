import Storage

extension Daemon {
    /// How long `/readyz` waits for the store: a PostgreSQL server that went away is only given up on by
    /// its connection pool after a minute, and a probe should hear "not ready" before its own timeout.
    static let readinessLimit: Duration = .seconds(5)

    /// Why `store` is not ready: what its cheapest query threw, or that it did not answer within
    /// `limit`; `nil` when it answered.
    static func storeProblem(_ store: any SchedulerStore, within limit: Duration) async -> String? {
        await withTaskGroup(of: String?.self) { group in
            group.addTask {
                do {
                    _ = try await store.runCounts()
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
