import Foundation
import Storage
import Testing

/// The clause of retries: a schedule's policy is kept, and a run's retry is stored with its end, or
/// with the lease expiry that interrupted it, and only when that applies.
extension StoreContract {
    /// A schedule's retry policy reads back as written. A run's end that carries a retry stores it in
    /// the same write, every field as given (attempt, the run and trace it retries, its earliest
    /// start); an end the fence refuses stores none, and neither does the same end written again. A
    /// lease expiry stores the retries its closure makes of the runs it interrupts.
    public func retries() async throws {
        let store = try await makeStore()
        var schedule = Self.schedule("flaky")
        schedule.retry = RetryPolicy(attempts: 3, backoffSeconds: 20, maxBackoffSeconds: 90, on: [.failed, .timedOut])
        try await store.insertSchedule(schedule)
        #expect(try await store.schedule(id: schedule.id)?.retry == schedule.retry)
        var plain = Self.schedule("plain")
        try await store.insertSchedule(plain)
        #expect(try await store.schedule(id: plain.id)?.retry == nil)
        plain.retry = .never
        try await store.updateSchedule(plain)
        #expect(try await store.schedule(id: plain.id)?.retry == .never)

        var first = Self.run(schedule.id, dedupeKey: "2024-06-01T00:00:00Z")
        first.owner = "ins_a"
        first.traceID = "tr-00000000000000000000000000000001"
        _ = try await store.insertRuns([first])
        let fence = RunFence(owner: "ins_a", attempt: 1)
        _ = try await store.writeRuns(
            insert: [],
            update: [
                .started(
                    id: first.id, at: Self.reference, rootSpanID: "00000000000000aa", rootStartNanos: 1, fence: fence)
            ])
        let ended = Self.instant(1_717_200_010_000)
        func retry(of run: RunRecord, serial: Int) -> RunRecord {
            var next = Self.run(
                schedule.id, dedupeKey: "2024-06-01T00:00:00Z#\(run.fireAttempt + 1)",
                id: Self.runID(madeAt: ended, serial: serial))
            next.fireAttempt = run.fireAttempt + 1
            next.retryOf = run.id
            next.retryOfTrace = run.traceID
            next.notBefore = Self.instant(1_717_200_030_000)
            next.owner = "ins_a"
            next.traceID = "tr-00000000000000000000000000000002"
            return next
        }
        let second = retry(of: first, serial: 1)
        let end = { (fence: RunFence, retry: RunRecord) in
            RunUpdate.finished(
                id: first.id, state: .failed, at: ended, outputJSON: nil, error: "boom", nodesJSON: nil, fence: fence,
                retry: retry)
        }
        // Another owner's end is refused, and its retry is not stored.
        var result = try await store.writeRuns(insert: [], update: [end(RunFence(owner: "ins_b", attempt: 1), second)])
        #expect(result.refused == [first.id] && result.stored.isEmpty)
        #expect(try await store.run(id: second.id) == nil)

        result = try await store.writeRuns(insert: [], update: [end(fence, second)])
        #expect(result.refused.isEmpty && result.stored == [second.id])
        let stored = try #require(try await store.run(id: second.id))
        #expect(stored.state == .queued && stored.owner == "ins_a" && stored.attempt == 0)
        #expect(stored.fireAttempt == 2 && stored.retryOf == first.id && stored.retryOfTrace == first.traceID)
        #expect(stored.notBefore == second.notBefore && stored.dedupeKey == second.dedupeKey)
        #expect(try await store.run(id: first.id)?.fireAttempt == 1, "a fire's first run is attempt 1")

        // The same end again is refused; a retry made again with another id is not stored.
        result = try await store.writeRuns(insert: [], update: [end(fence, retry(of: first, serial: 2))])
        #expect(result.refused == [first.id] && result.stored.isEmpty)

        // A lease expiry stores the retries of the runs it interrupts, held by no one.
        var silent = Self.run(schedule.id, dedupeKey: "2024-06-01T00:01:00Z")
        silent.owner = "ins_gone"
        _ = try await store.insertRuns(
            [silent],
            update: [
                .started(
                    id: silent.id, at: Self.reference, rootSpanID: "00000000000000bb", rootStartNanos: 1,
                    fence: RunFence(owner: "ins_gone", attempt: 1))
            ])
        let made = Self.runID(madeAt: ended, serial: 3)
        let interrupted = try await store.expireLeases(silence: .seconds(30), sparing: "ins_a", error: "silent") {
            run in
            var next = Self.run(run.scheduleID, dedupeKey: (run.dedupeKey ?? "") + "#2", id: made)
            next.fireAttempt = 2
            next.retryOf = run.id
            return next
        }
        #expect(interrupted.map(\.id) == [silent.id])
        let taken = try #require(try await store.run(id: made))
        #expect(taken.state == .queued && taken.owner == nil && taken.retryOf == silent.id && taken.fireAttempt == 2)
        #expect(try await store.claimQueued(owner: "ins_a", limit: 10).map(\.id) == [made])
    }
}
