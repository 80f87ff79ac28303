import Foundation

/// Copies everything one store holds into another that is empty: every schedule (with its webhook
/// secrets, cursor, pause and remaining runs) and every run (with its trace ids, input, payload,
/// output and node records), then reads both back and compares them. `schedulerd migrate-store`
/// moves a daemon from its SQLite file to PostgreSQL with it.
///
/// The copy is not one transaction across the two stores: a copy that fails part-way leaves the
/// target partly filled, and a second copy refuses it until it is emptied (or dropped and made
/// again). Stop the daemon first, so that the source does not change meanwhile.
///
/// ```swift
/// let copied = try await StoreCopy.copy(from: sqlite, to: postgres)
/// print("\(copied.schedules) schedules, \(copied.runs) runs")
/// ```
public enum StoreCopy {
    /// What was copied.
    public struct Summary: Sendable, Hashable {
        /// Schedules copied.
        public var schedules: Int
        /// Runs copied.
        public var runs: Int
    }

    /// How many runs are read and written at a time.
    static let page = 1000

    /// Copies `source` into `target` and checks that both hold the same records.
    /// - Throws: ``StorageError`` `.database` when the target holds schedules or runs already (nothing
    ///   is written then), or when a record reads back different from the source's; whatever either
    ///   store throws.
    public static func copy(from source: any SchedulerStore, to target: any SchedulerStore) async throws -> Summary {
        let existing = try await target.schedules().count
        let existingRuns = try await target.runs(scheduleID: nil, limit: 1, before: nil).count
        guard existing == 0 && existingRuns == 0 else {
            throw StorageError(
                code: .database,
                message:
                    "the target is not empty (it holds \(existing) schedule\(existing == 1 ? "" : "s")\(existingRuns > 0 ? " and runs" : "")); migrate-store copies into an empty database only, so that nothing in it is mixed with or overwritten by the copy"
            )
        }
        let schedules = try await source.schedules()
        try await target.applySchedules(insert: schedules, update: [], delete: [])

        var copied = 0
        var before: String?
        while true {
            let runs = try await source.runs(scheduleID: nil, limit: page, before: before)
            guard let last = runs.last else { break }
            before = last.id
            let stored = try await target.insertRuns(runs, update: runs.flatMap(updates))
            guard stored.count == runs.count else {
                let missing = runs.map(\.id).filter { !stored.contains($0) }
                throw StorageError(
                    code: .database,
                    message:
                        "the target did not store \(missing.count) runs (\(missing.prefix(3).joined(separator: ", ")), …): a schedule with the same dedupe key twice?"
                )
            }
            copied += runs.count
        }
        try await compare(source, target, schedules: schedules.count, runs: copied)
        return Summary(schedules: schedules.count, runs: copied)
    }

    /// The changes that bring a freshly inserted run (queued, or in the state it was stored with) to
    /// where the source's run is: started, with its node records, ended.
    static func updates(_ run: RunRecord) -> [RunUpdate] {
        var updates: [RunUpdate] = []
        if let started = run.startedAt {
            updates.append(
                .started(
                    id: run.id, at: started, rootSpanID: run.rootSpanID ?? "", rootStartNanos: run.rootStartNanos ?? 0))
        }
        if run.state.isFinal && (run.startedAt != nil || run.outputJSON != nil || run.nodesJSON != nil) {
            updates.append(
                .finished(
                    id: run.id, state: run.state, at: run.finishedAt ?? run.queuedAt, outputJSON: run.outputJSON,
                    error: run.error, nodesJSON: run.nodesJSON))
        } else if let nodes = run.nodesJSON {
            updates.append(.nodes(id: run.id, json: nodes))
        }
        return updates
    }

    /// Reads both stores back and compares them record by record.
    static func compare(_ source: any SchedulerStore, _ target: any SchedulerStore, schedules: Int, runs: Int)
        async throws
    {
        var differences: [String] = []
        let copiedSchedules = try await target.schedules()
        if copiedSchedules != (try await source.schedules()) {
            differences.append("the schedules (\(copiedSchedules.count) read back of \(schedules))")
        }
        if try await target.runCounts() != (try await source.runCounts()) {
            differences.append("the number of runs in each state")
        }
        // Both list runs by id, newest first: the same pages hold the same runs.
        var before: String?
        while differences.count < 4 {
            let page = try await source.runs(scheduleID: nil, limit: Self.page, before: before)
            let copies = try await target.runs(scheduleID: nil, limit: Self.page, before: before)
            for (run, copy) in zip(page, copies) where run != copy && differences.count < 4 {
                differences.append("run \(run.id)")
            }
            if copies.count != page.count { differences.append("the runs listed after \(before ?? "the newest")") }
            guard let last = page.last else { break }
            before = last.id
        }
        guard differences.isEmpty else {
            throw StorageError(
                code: .database,
                message:
                    "the copy was written but differs from the source in \(differences.joined(separator: ", ")); a text with a NUL byte, which PostgreSQL cannot store, is one reason. Keep using the source, and empty the target before trying again"
            )
        }
    }
}
