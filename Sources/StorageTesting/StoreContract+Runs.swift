import Foundation
import Storage
import Testing

/// The run clauses: what a run keeps, how changes apply, and the queries.
extension StoreContract {
    /// A new run reads back with everything it was stored with (a binary payload too); its start,
    /// nodes and end, written as ``RunUpdate``s, read back as given. A run stored already final without
    /// an end time (a skipped fire) ends when it was queued.
    public func runRoundTrip() async throws {
        let store = try await makeStore()
        let schedule = Self.schedule("s")
        try await store.insertSchedule(schedule)
        var run = RunRecord(
            scheduleID: schedule.id, workflow: "backup", trigger: "catchup",
            nominalTime: Self.instant(1_717_199_940_000),
            dedupeKey: "2024-05-31T23:59:00Z", state: .queued, queuedAt: Self.instant(1_717_200_000_250),
            notBefore: Self.instant(1_717_200_012_500), inputJSON: #"{"n":1}"#, payload: Data([0, 1, 0xfe, 0xff]))
        run.traceID = "tr-0123456789abcdef0123456789abcdef"
        #expect(try await store.insertRun(run))
        #expect(try await store.run(id: run.id) == run)

        let started = Self.instant(1_717_200_013_001)
        let ended = Self.instant(1_717_200_042_999)
        try await store.updateRuns([
            .started(
                id: run.id, at: started, rootSpanID: "00f067aa0ba902b7", rootStartNanos: 1_717_200_013_001_000_123),
            .nodes(id: run.id, json: #"[{"node":"a"}]"#),
        ])
        run.state = .running
        run.startedAt = started
        run.rootSpanID = "00f067aa0ba902b7"
        run.rootStartNanos = 1_717_200_013_001_000_123
        run.nodesJSON = #"[{"node":"a"}]"#
        #expect(try await store.run(id: run.id) == run)

        try await store.updateRuns([
            .finished(
                id: run.id, state: .timedOut, at: ended, outputJSON: #"{"ok":false}"#, error: "timed out",
                nodesJSON: nil)
        ])
        run.state = .timedOut
        run.finishedAt = ended
        run.outputJSON = #"{"ok":false}"#
        run.error = "timed out"
        // Nodes given as nil keep the ones written while the run went on.
        #expect(try await store.run(id: run.id) == run)

        var skipped = Self.run(schedule.id, dedupeKey: "k", state: .skipped)
        skipped.error = "skipped: the previous run was still going"
        #expect(try await store.insertRun(skipped))
        skipped.finishedAt = skipped.queuedAt
        #expect(try await store.run(id: skipped.id) == skipped)
        #expect(try await store.run(id: "run_none") == nil)
    }

    /// `writeRuns` stores the new runs (leaving out a dedupe key taken before) and then applies the
    /// changes in their order, so a change may follow its run's insert in the same batch; a later change
    /// to the same field wins. An empty batch stores nothing.
    public func writeRunsOrder() async throws {
        let store = try await makeStore()
        let schedule = Self.schedule("s")
        try await store.insertSchedule(schedule)
        let earlier = Self.run(schedule.id, dedupeKey: "k1")
        #expect(try await store.insertRun(earlier))
        #expect(try await store.writeRuns(insert: [], update: []) == RunWriteResult())

        let repeated = Self.run(schedule.id, dedupeKey: "k1")
        let fired = Self.run(schedule.id, dedupeKey: "k2")
        let manual = Self.run(nil)
        let at = Self.instant(1_717_200_001_000)
        let stored = try await store.writeRuns(
            insert: [repeated, fired, manual],
            update: [
                .started(id: fired.id, at: at, rootSpanID: "0000000000000001", rootStartNanos: 1),
                .nodes(id: fired.id, json: "[1]"),
                .nodes(id: fired.id, json: "[1,2]"),
                .finished(
                    id: fired.id, state: .succeeded, at: at.addingTimeInterval(1), outputJSON: "{}", error: nil,
                    nodesJSON: nil),
                .started(id: manual.id, at: at, rootSpanID: "0000000000000002", rootStartNanos: 2),
            ])
        #expect(stored == RunWriteResult(stored: [fired.id, manual.id]))
        #expect(try await store.run(id: repeated.id) == nil)
        #expect(try await store.run(id: earlier.id) == earlier)
        let done = try #require(try await store.run(id: fired.id))
        #expect(done.state == .succeeded && done.startedAt == at && done.finishedAt == at.addingTimeInterval(1))
        #expect(done.nodesJSON == "[1,2]" && done.outputJSON == "{}" && done.error == nil)
        let running = try #require(try await store.run(id: manual.id))
        #expect(running.state == .running && running.rootSpanID == "0000000000000002" && running.finishedAt == nil)
    }

    /// `writeRuns` is one transaction: when a new run cannot be stored (its id is taken), neither the
    /// other new runs nor any change of the batch is kept.
    public func writeRunsAllOrNothing() async throws {
        let store = try await makeStore()
        let existing = Self.run(nil)
        #expect(try await store.insertRun(existing))
        let fresh = Self.run(nil)
        let clash = Self.run(nil, id: existing.id)
        await #expect(throws: StorageError.self) {
            try await store.writeRuns(
                insert: [fresh, clash],
                update: [
                    .finished(
                        id: existing.id, state: .cancelled, at: Self.reference, outputJSON: nil, error: "stop",
                        nodesJSON: nil)
                ])
        }
        #expect(try await store.run(id: fresh.id) == nil)
        #expect(try await store.run(id: existing.id) == existing)
    }

    /// `runs(scheduleID:limit:before:)` lists newest first (by id, which sorts by creation); paging with
    /// the last id of each page as `before` walks every run exactly once, for all runs and for one
    /// schedule's.
    public func runsPaging() async throws {
        let store = try await makeStore()
        let a = Self.schedule("a")
        let b = Self.schedule("b")
        try await store.applySchedules(insert: [a, b], update: [], delete: [])
        // Ids made in a row increase; a third are a's, the rest b's or no schedule's.
        let runs = (0..<250).map { i in Self.run(i % 3 == 0 ? a.id : (i % 3 == 1 ? b.id : nil)) }
        #expect(try await store.insertRuns(runs).count == 250)

        func walk(_ scheduleID: String?, pageSize: Int) async throws -> [String] {
            var seen: [String] = []
            var before: String?
            while true {
                let page = try await store.runs(scheduleID: scheduleID, limit: pageSize, before: before)
                #expect(page.count <= pageSize)
                guard let last = page.last else { return seen }
                seen += page.map(\.id)
                before = last.id
            }
        }
        let newestFirst = Array(runs.map(\.id).reversed())
        #expect(try await walk(nil, pageSize: 40) == newestFirst)
        #expect(try await walk(nil, pageSize: 1000) == newestFirst)
        #expect(try await walk(a.id, pageSize: 7) == Array(runs.filter { $0.scheduleID == a.id }.map(\.id).reversed()))
        #expect(try await store.runs(scheduleID: nil, limit: 3, before: nil).map(\.id) == Array(newestFirst.prefix(3)))
        #expect(try await store.runs(scheduleID: nil, limit: 5, before: runs[0].id).isEmpty)
        #expect(try await store.runs(scheduleID: "sch_none", limit: 5, before: nil).isEmpty)
    }

    /// `runs(in:)` lists the runs in any of the states, oldest first, as a restart needs them; an empty
    /// set lists none.
    public func runsInStates() async throws {
        let store = try await makeStore()
        let states: [RunState] = [.queued, .succeeded, .running, .skipped, .queued, .failed, .running]
        let runs = states.map { Self.run(nil, state: $0) }
        #expect(try await store.insertRuns(runs).count == runs.count)
        let unfinished = runs.filter { !$0.state.isFinal }.map(\.id)
        #expect(try await store.runs(in: [.queued, .running]).map(\.id) == unfinished)
        #expect(try await store.runs(in: [.failed]).map(\.id) == [runs[5].id])
        #expect(try await store.runs(in: [.interrupted]).isEmpty)
        #expect(try await store.runs(in: []).isEmpty)
        // A run that starts is found by its new state.
        try await store.updateRuns([.started(id: runs[0].id, at: Self.reference, rootSpanID: "01", rootStartNanos: 1)])
        #expect(try await store.runs(in: [.queued]).map(\.id) == [runs[4].id])
    }

    /// `ping` answers on an empty store and on one holding schedules and runs, and changes nothing.
    public func ping() async throws {
        let store = try await makeStore()
        try await store.ping()
        let schedule = Self.schedule("pinged")
        try await store.insertSchedule(schedule)
        #expect(try await store.insertRun(Self.run(schedule.id, dedupeKey: "k1")))
        try await store.ping()
        #expect(try await store.schedules().map(\.name) == ["pinged"])
        #expect(try await store.runs(scheduleID: nil, limit: 10, before: nil).count == 1)
    }

    /// `runCounts` counts the runs in each state; a state without runs has no entry.
    public func runCounts() async throws {
        let store = try await makeStore()
        #expect(try await store.runCounts().isEmpty)
        let states: [RunState] = [.succeeded, .succeeded, .failed, .queued, .succeeded, .skipped, .queued]
        _ = try await store.writeRuns(insert: states.map { Self.run(nil, state: $0) }, update: [])
        #expect(try await store.runCounts() == [.succeeded: 3, .failed: 1, .queued: 2, .skipped: 1])
    }

    /// `runTally` counts, by schedule and state, the runs that ended at or after its time and every
    /// run going now (a run queued yesterday and still waiting counts; one ended yesterday does not).
    public func runTally() async throws {
        let store = try await makeStore()
        try await store.insertSchedule(Self.schedule("a"))
        try await store.insertSchedule(Self.schedule("b"))
        let a = try #require(try await store.schedule(named: "a")).id
        let b = try #require(try await store.schedule(named: "b")).id
        let yesterday = Self.reference.addingTimeInterval(-86_400)
        let today = Self.reference
        var runs: [RunRecord] = []
        for (serial, (schedule, state, ended)) in [
            (a, RunState.failed, yesterday), (a, .failed, today), (a, .failed, today), (a, .succeeded, today),
            (b, .succeeded, yesterday), (b, .running, nil), (b, .queued, nil), (nil, .succeeded, today),
        ].enumerated() {
            var run = Self.run(schedule, state: state, id: Self.runID(madeAt: yesterday, serial: serial))
            run.finishedAt = ended
            runs.append(run)
        }
        _ = try await store.writeRuns(insert: runs, update: [])
        let tally = try await store.runTally(since: today.addingTimeInterval(-1))
        #expect(
            Set(tally) == [
                RunTally(scheduleID: a, state: .failed, count: 2), RunTally(scheduleID: a, state: .succeeded, count: 1),
                RunTally(scheduleID: b, state: .running, count: 1), RunTally(scheduleID: b, state: .queued, count: 1),
                RunTally(scheduleID: nil, state: .succeeded, count: 1),
            ])
        #expect(
            Set(try await store.runTally(since: today.addingTimeInterval(1))) == [
                RunTally(scheduleID: b, state: .running, count: 1), RunTally(scheduleID: b, state: .queued, count: 1),
            ])
        #expect(try await store.runTally(since: yesterday.addingTimeInterval(-1)).map(\.count).reduce(0, +) == 8)
    }

    /// `runSummaries` gives each schedule's newest runs, newest first, at most `limit` each, older
    /// than `before` when given; a schedule without runs has no entry; a summary says what the record
    /// says.
    public func runSummaries() async throws {
        let store = try await makeStore()
        try await store.insertSchedule(Self.schedule("a"))
        try await store.insertSchedule(Self.schedule("b"))
        try await store.insertSchedule(Self.schedule("c"))
        let a = try #require(try await store.schedule(named: "a")).id
        let b = try #require(try await store.schedule(named: "b")).id
        let c = try #require(try await store.schedule(named: "c")).id
        var runs: [RunRecord] = []
        for serial in 0..<5 {
            var run = Self.run(a, state: .succeeded, id: Self.runID(madeAt: Self.reference, serial: serial))
            run.finishedAt = Self.reference.addingTimeInterval(2)
            run.error = serial == 4 ? "boom" : nil
            run.fireAttempt = serial == 4 ? 2 : 1
            run.owner = "ins_x"
            runs.append(run)
        }
        runs.append(Self.run(b, state: .queued, id: Self.runID(madeAt: Self.reference, serial: 10)))
        _ = try await store.writeRuns(insert: runs, update: [])
        let found = try await store.runSummaries(scheduleIDs: [a, b, c], limit: 3, before: nil)
        #expect(Set(found.keys) == [a, b])
        #expect(found[a]?.map(\.id) == runs[2..<5].reversed().map(\.id))
        #expect(found[b]?.map(\.id) == [runs[5].id])
        #expect(found[a]?.first == RunSummary(runs[4]).withoutNodes)
        let older = try await store.runSummaries(scheduleIDs: [a], limit: 10, before: runs[2].id)
        #expect(older[a]?.map(\.id) == [runs[1].id, runs[0].id])
        #expect(try await store.runSummaries(scheduleIDs: [], limit: 3, before: nil).isEmpty)
    }

    /// `activeRuns` lists the running runs, then the queued ones, each oldest first, up to `limit`,
    /// with their node records, and counts them all.
    public func activeRuns() async throws {
        let store = try await makeStore()
        let states: [RunState] = [.queued, .running, .succeeded, .queued, .running, .failed]
        var runs: [RunRecord] = []
        for (serial, state) in states.enumerated() {
            runs.append(Self.run(nil, state: state, id: Self.runID(madeAt: Self.reference, serial: serial)))
        }
        _ = try await store.writeRuns(
            insert: runs, update: [.nodes(id: runs[1].id, json: #"[{"node":"n1"}]"#)])
        let active = try await store.activeRuns(limit: 3)
        #expect(active.total == 4)
        #expect(active.runs.map(\.id) == [runs[1].id, runs[4].id, runs[0].id])
        #expect(active.runs.first?.nodesJSON == #"[{"node":"n1"}]"#)
        #expect(try await store.activeRuns(limit: 10).runs.count == 4)
    }

    /// `latestRuns` gives, for each schedule with a run that was not skipped, its newest such run; runs
    /// of no schedule (manual runs, runs of deleted schedules) are left out.
    public func latestRuns() async throws {
        let store = try await makeStore()
        let a = Self.schedule("a")
        let b = Self.schedule("b")
        let c = Self.schedule("c")
        let gone = Self.schedule("gone")
        try await store.applySchedules(insert: [a, b, c, gone], update: [], delete: [])
        #expect(try await store.latestRuns().isEmpty)
        let runs = [
            Self.run(a.id, state: .succeeded), Self.run(a.id, state: .failed), Self.run(a.id, state: .skipped),
            Self.run(b.id, state: .skipped), Self.run(c.id, state: .running), Self.run(nil, state: .succeeded),
            Self.run(gone.id, state: .succeeded),
        ]
        _ = try await store.writeRuns(insert: runs, update: [])
        #expect(try await store.deleteSchedule(id: gone.id))
        let latest = try await store.latestRuns()
        #expect(Set(latest.keys) == [a.id, c.id])
        #expect(latest[a.id]?.id == runs[1].id && latest[a.id]?.state == .failed)
        #expect(latest[c.id]?.id == runs[4].id)
    }
}

extension RunSummary {
    /// The summary as the list of one schedule's runs gives it: without node records.
    var withoutNodes: RunSummary {
        var summary = self
        summary.nodesJSON = nil
        return summary
    }
}
