import Foundation
import Logging
import RunTracing
import Storage

// Retries (RetryPolicy): a run of a schedule that ends failed, timed out or interrupted gets a new
// run of the same fire, stored queued with its backoff as its earliest start in the same transaction
// as the end (or as the lease expiry that interrupted it), so that a crash loses neither.

extension Scheduler {
    /// Schedules that give no retry policy of their own retry by `policy` from now on (the
    /// `defaults` of `policies.yaml`, read again on SIGHUP).
    public func useDefaultRetry(_ policy: RetryPolicy) {
        defaultRetry = policy
    }

    /// The retry policy of a schedule's runs: its own, or the default; `nil` for a run of no
    /// schedule, or of one no longer loaded.
    func retryPolicy(scheduleID: String?) -> RetryPolicy? {
        guard let id = scheduleID, let schedule = entries[id]?.schedule else { return nil }
        return schedule.retry ?? defaultRetry
    }

    /// The run that tries `run`'s fire again after it ended `state` at `now`, held by `owner`, if
    /// `policy` retries that end: queued, with the backoff as its earliest start, the next attempt
    /// number, the same input, payload and trigger, a trace of its own, and a dedupe key of its
    /// fire's family (``RunRecord/retryKey(fire:attempt:)``), so that it is stored once.
    /// - Parameter jitter: from 0 up to 1, the share of the backoff's second half taken off.
    static func retry(
        of run: RunRecord, ended state: RunState, at now: Date, policy: RetryPolicy, jitter: Double, owner: String?
    ) -> RunRecord? {
        guard run.scheduleID != nil, policy.retries(state, attempt: run.fireAttempt) else { return nil }
        let wait = policy.delay(after: run.fireAttempt, unit: jitter)
        var next = RunRecord(
            scheduleID: run.scheduleID, workflow: run.workflow, trigger: run.trigger, nominalTime: run.nominalTime,
            dedupeKey: RunRecord.retryKey(fire: run.fireKey, attempt: run.fireAttempt + 1), queuedAt: now,
            notBefore: now.addingTimeInterval(wait), inputJSON: run.inputJSON, payload: run.payload)
        next.fireAttempt = run.fireAttempt + 1
        next.retryOf = run.id
        next.retryOfTrace = run.traceID
        next.traceID = TraceID.random().mlflowTraceID
        next.owner = owner
        return next
    }

    /// The retry of a run this instance ran, which ended `state` at `now`, if its schedule's policy
    /// retries it and its overlap policy lets it wait (``RunAdmission/retrying(_:policy:)``). Tracked
    /// in ``storing`` until ``retryStored(_:after:refused:)``.
    func plannedRetry(of run: RunRecord, ended state: RunState, at now: Date) -> RunRecord? {
        guard let policy = retryPolicy(scheduleID: run.scheduleID),
            let retry = Self.retry(
                of: run, ended: state, at: now, policy: policy, jitter: retryJitter(),
                owner: configuration.membership.instanceID)
        else { return nil }
        let overlap = run.scheduleID.flatMap { entries[$0]?.schedule.overlap } ?? .allow
        guard admission.retrying(retry, policy: overlap) else {
            logger.info(
                "not retrying a run: a newer run of its schedule goes on (overlap: \(overlap.rawValue))",
                metadata: ["run_id": .string(run.id), "schedule_id": .string(run.scheduleID ?? "")])
            return nil
        }
        storing.insert(retry.id)
        return retry
    }

    /// The end that carried `retry` was written: the retry waits for its backoff here, or, when the
    /// store refused the end (another instance had taken the run over), it was not stored.
    func retryStored(_ retry: RunRecord, after run: RunRecord, refused: Bool) {
        storing.remove(retry.id)
        guard !refused else {
            admission.notStored(retry)
            return
        }
        logger.info(
            "run will be retried",
            metadata: [
                "run_id": .string(run.id), "retry_run_id": .string(retry.id),
                "schedule_id": .string(run.scheduleID ?? ""), "attempt": .stringConvertible(retry.fireAttempt),
                "not_before": .string(retry.notBefore.map { "\($0)" } ?? ""),
            ])
        enqueue(retry, now: clock.now())
    }

    /// What the store is given to retry the runs a lease expiry makes `interrupted`: each by its
    /// schedule's policy as loaded now, held by no instance (claimed like any free queued run).
    func interruptedRetries() -> @Sendable (RunRecord) -> RunRecord? {
        var policies: [String: RetryPolicy] = [:]
        for (id, entry) in entries {
            let policy = entry.schedule.retry ?? defaultRetry
            if policy.attempts > 1 && policy.on.contains(.interrupted) { policies[id] = policy }
        }
        let now = clock.now()
        let jitter = retryJitter
        return { [policies] run in
            guard let id = run.scheduleID, let policy = policies[id] else { return nil }
            return Self.retry(of: run, ended: .interrupted, at: now, policy: policy, jitter: jitter(), owner: nil)
        }
    }
}

extension RunRecord {
    /// The dedupe key of the fire this run is an attempt at: its own for a fire's first run (or
    /// `run:` and its id when it has none), the first run's for a retry (its own without the
    /// `retry:N:` in front, ``retryKey(fire:attempt:)``).
    public var fireKey: String {
        let prefix = "retry:\(fireAttempt):"
        guard fireAttempt > 1, let key = dedupeKey, key.hasPrefix(prefix) else { return dedupeKey ?? "run:\(id)" }
        return String(key.dropFirst(prefix.count))
    }

    /// The dedupe key of attempt `attempt` (2 or more) at the fire whose key is `fire`:
    /// `retry:N:` and the fire's key. No other key starts with `retry:` (a fire's is a time, a
    /// delivery's `hook:…`, a start's `reboot:…`), so a retry's key never takes one a webhook
    /// sender may still send, whatever characters its delivery id has.
    public static func retryKey(fire: String, attempt: Int) -> String {
        "retry:\(attempt):\(fire)"
    }
}
