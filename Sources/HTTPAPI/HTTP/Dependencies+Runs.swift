import Foundation
import HTTPTypes
import Scheduling
import Storage
import Workflows

// What the admin API and the status pages both do with runs: start one by hand, and find every
// attempt at a run's fire.

extension AdminAPI.Dependencies {
    /// Starts a run of the schedule named or identified by `key` now (trigger `manual`), with
    /// `input`'s members over the schedule's input.
    /// - Returns: the stored run.
    /// - Throws: ``SchedulingError`` `notFound` for an unknown schedule; ``APIError`` 409 when the
    ///   run was submitted already.
    func startRun(_ key: String, input extra: [String: JSONValue]?) async throws -> RunRecord {
        let schedule = try await schedules.schedule(key)
        var input = (try? JSONValue(json: Data(schedule.inputJSON.utf8)).objectValue) ?? [:]
        for (key, value) in extra ?? [:] { input[key] = value }
        let run = RunRecord(
            scheduleID: schedule.id, workflow: schedule.workflow, trigger: "manual", queuedAt: clock.now(),
            inputJSON: JSONValue.object(input).jsonText)
        guard let stored = try await scheduler.submit(run) else {
            throw APIError(status: .conflict, message: "the run was already submitted")
        }
        return stored
    }

    /// Every attempt at `run`'s fire, first to last: the earlier ones through their `retry_of`
    /// links, the later ones through their dedupe keys (``RunRecord/fireKey``), one lookup each.
    func attempts(of run: RunRecord) async throws -> [RunRecord] {
        var earlier: [RunRecord] = []
        var current = run
        while let previous = current.retryOf, earlier.count < RetryPolicy.mostAttempts,
            let found = try await store.run(id: previous)
        {
            earlier.insert(found, at: 0)
            current = found
        }
        var later: [RunRecord] = []
        if let scheduleID = run.scheduleID {
            var attempt = run.fireAttempt + 1
            while attempt <= RetryPolicy.mostAttempts,
                let next = try await store.run(
                    scheduleID: scheduleID, dedupeKey: RunRecord.retryKey(fire: run.fireKey, attempt: attempt))
            {
                later.append(next)
                attempt += 1
            }
        }
        return earlier + [run] + later
    }
}
