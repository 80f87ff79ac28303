import Foundation
import Scheduling
import Storage
import Testing

/// `RunAdmission` on its own: overlap policies, the global limit, the queue, jitter and cancelled
/// runs, event by event, with times given as values (no clock, no store). Every event is taken into
/// a constant before it is checked: `#expect` cannot call a mutating method.
@Suite("Run admission")
struct AdmissionTests {
    static let t0 = Date(timeIntervalSince1970: 1_704_067_200)  // 2024-01-01T00:00:00Z
    static let skipA = "skipped: run a of this schedule was still going (overlap: skip)"
    static let bufferFull = "skipped: a run of this schedule was already waiting (overlap: buffer-one)"

    typealias Overlap = RunAdmission.Overlap
    typealias Placement = RunAdmission.Placement

    /// A queued run with a readable id.
    func run(_ id: String, of schedule: String? = "s", notBefore: Date? = nil) -> RunRecord {
        RunRecord(id: id, scheduleID: schedule, workflow: "w", trigger: "cron", queuedAt: Self.t0, notBefore: notBefore)
    }

    /// An admission that admits runs.
    func open(limit: Int) -> RunAdmission {
        var admission = RunAdmission(limit: limit)
        admission.open()
        return admission
    }

    /// What the scheduler does with a new run: the overlap decision, then, the run stored skipped or
    /// queued accordingly, where it went.
    func bring(
        _ run: RunRecord, _ policy: OverlapPolicy, into admission: inout RunAdmission, now: Date = t0
    ) -> (overlap: Overlap, placement: Placement) {
        var run = run
        let overlap = admission.arrive(run, policy: policy)
        if case .skip(let reason) = overlap {
            run.state = .skipped
            run.error = reason
        }
        return (overlap, admission.stored(run, now: now))
    }

    /// The ids of the runs a run's end hands its slot to.
    func finish(_ run: RunRecord, in admission: inout RunAdmission) -> [String] {
        admission.finish(run, now: Self.t0).start.map(\.id)
    }

    // MARK: - Overlap policies

    @Test(
        "with nothing of its schedule in flight, a run goes ahead under every policy", arguments: OverlapPolicy.allCases
    )
    func nothingInFlight(policy: OverlapPolicy) {
        var admission = open(limit: 4)
        _ = bring(run("other", of: "t"), .allow, into: &admission)
        let a = bring(run("a"), policy, into: &admission)
        #expect(a == (.proceed, .start))
        #expect(admission.load == (running: 2, queued: 0))
    }

    @Test("allow: runs of one schedule go side by side")
    func allow() {
        var admission = open(limit: 4)
        let a = bring(run("a"), .allow, into: &admission)
        let b = bring(run("b"), .allow, into: &admission)
        #expect(a == (.proceed, .start))
        #expect(b == (.proceed, .start))
        #expect(admission.load == (running: 2, queued: 0))
    }

    @Test("skip: a run whose schedule has a run in flight, running or waiting, is skipped, naming that run")
    func skip() {
        var admission = open(limit: 1)
        let a = bring(run("a"), .skip, into: &admission)
        let b = bring(run("b"), .skip, into: &admission)
        #expect(a == (.proceed, .start))
        #expect(b == (.skip(Self.skipA), .ended))
        // c waits for a slot: it is in flight for its schedule all the same.
        let c = bring(run("c", of: "t"), .skip, into: &admission)
        let d = bring(run("d", of: "t"), .skip, into: &admission)
        #expect(c == (.proceed, .queued))
        #expect(d.overlap == .skip("skipped: run c of this schedule was still going (overlap: skip)"))
        #expect(admission.load == (running: 1, queued: 1))
    }

    @Test("skip also counts the earlier queued runs of the same tick, not stored yet")
    func skipWithinTick() {
        var admission = open(limit: 4)
        let behindQueued = admission.arrive(run("b"), policy: .skip, earlier: [run("a")])
        var skipped = run("a")
        skipped.state = .skipped
        let behindSkipped = admission.arrive(run("b"), policy: .skip, earlier: [skipped])
        #expect(behindQueued == .skip(Self.skipA))
        #expect(behindSkipped == .proceed)
    }

    @Test("buffer-one: one run waits for its schedule, the next is skipped, the buffered one starts at the end")
    func bufferOne() {
        var admission = open(limit: 4)
        let a = bring(run("a"), .bufferOne, into: &admission)
        let b = bring(run("b"), .bufferOne, into: &admission)
        let c = bring(run("c"), .bufferOne, into: &admission)
        #expect(a == (.proceed, .start))
        #expect(b == (.buffer, .buffered))
        #expect(c == (.skip(Self.bufferFull), .ended))
        // The buffered run waits outside the queue.
        #expect(admission.load == (running: 1, queued: 0))
        let afterA = finish(run("a"), in: &admission)
        #expect(afterA == ["b"])
        #expect(admission.load == (running: 1, queued: 0))
        // b had its turn: the schedule's buffer is free again.
        let d = bring(run("d"), .bufferOne, into: &admission)
        #expect(d == (.buffer, .buffered))
    }

    @Test("buffer-one: the buffered run takes the freed slot ahead of the queue")
    func bufferedAheadOfQueue() {
        var admission = open(limit: 1)
        _ = bring(run("a"), .bufferOne, into: &admission)
        let x = bring(run("x", of: "t"), .allow, into: &admission)
        let b = bring(run("b"), .bufferOne, into: &admission)
        #expect(x == (.proceed, .queued))
        #expect(b == (.buffer, .buffered))
        let afterA = finish(run("a"), in: &admission)
        let afterB = finish(run("b"), in: &admission)
        #expect(afterA == ["b"])
        #expect(afterB == ["x"])
    }

    @Test("buffer-one: a buffered run that was not stored gives the buffer back")
    func bufferNotStored() {
        var admission = open(limit: 4)
        _ = bring(run("a"), .bufferOne, into: &admission)
        let b = admission.arrive(run("b"), policy: .bufferOne)
        admission.notStored(run("b"))
        let c = admission.arrive(run("c"), policy: .bufferOne)
        #expect(b == .buffer)
        #expect(c == .buffer)
    }

    @Test("cancel-other: running runs are to be cancelled, waiting ones withdrawn, earlier ones of the tick replaced")
    func cancelOther() {
        var admission = open(limit: 2)
        for id in ["a", "b", "c"] { _ = bring(run(id), .allow, into: &admission) }
        #expect(admission.load == (running: 2, queued: 1))
        var skipped = run("e0")
        skipped.state = .skipped
        let d = admission.arrive(run("d"), policy: .cancelOther, earlier: [skipped, run("e1")])
        #expect(d == .cancelOthers(running: ["a", "b"], waiting: ["c"], earlier: ["e1"]))
        // c no longer waits; a and b keep their slots until they have ended.
        #expect(admission.load == (running: 2, queued: 0))
        let afterA = finish(run("a"), in: &admission)
        let stored = admission.stored(run("d"), now: Self.t0)
        let withdrawnAgain = admission.withdraw("c", scheduleID: "s")
        #expect(afterA == [])
        #expect(stored == .start)
        #expect(!withdrawnAgain)
    }

    // MARK: - The global limit and the queue

    @Test("the global limit: runs beyond it wait, first in first out, and each end admits the oldest waiting")
    func globalLimitFIFO() {
        var admission = open(limit: 2)
        let placements = (1...5).map { bring(run("r\($0)", of: "s\($0)"), .skip, into: &admission).placement }
        #expect(placements == [.start, .start, .queued, .queued, .queued])
        #expect(admission.load == (running: 2, queued: 3))
        let afterR2 = finish(run("r2", of: "s2"), in: &admission)
        let afterR1 = finish(run("r1", of: "s1"), in: &admission)
        let afterR3 = finish(run("r3", of: "s3"), in: &admission)
        let afterR4 = finish(run("r4", of: "s4"), in: &admission)
        #expect([afterR2, afterR1, afterR3, afterR4] == [["r3"], ["r4"], ["r5"], []])
        #expect(admission.load == (running: 1, queued: 0))
    }

    @Test("a limit below one admits one run at a time")
    func limitAtLeastOne() {
        var admission = open(limit: 0)
        let a = bring(run("a", of: nil), .allow, into: &admission)
        let b = bring(run("b", of: nil), .allow, into: &admission)
        #expect(admission.limit == 1)
        #expect(a.placement == .start)
        #expect(b.placement == .queued)
    }

    @Test("a queued run that is cancelled never starts, the next in line takes the slot, and its schedule is free")
    func withdrawQueued() {
        var admission = open(limit: 1)
        for (id, schedule) in [("a", "s"), ("b", "t"), ("c", "u")] {
            _ = bring(run(id, of: schedule), .skip, into: &admission)
        }
        #expect(admission.load == (running: 1, queued: 2))
        let first = admission.withdraw("b", scheduleID: "t")
        let second = admission.withdraw("b", scheduleID: "t")
        #expect(first)
        #expect(!second)
        #expect(admission.load == (running: 1, queued: 1))
        let nextOfT = admission.arrive(run("b2", of: "t"), policy: .skip)
        #expect(nextOfT == .proceed)
        let afterA = finish(run("a", of: "s"), in: &admission)
        #expect(afterA == ["c"])
    }

    @Test("nothing gets a slot while admission is closed: before it opens, and once it has closed")
    func closed() {
        var admission = RunAdmission(limit: 2)
        let early = admission.stored(run("early", of: nil), now: Self.t0)
        #expect(!admission.isOpen)
        #expect(early == .queued)
        admission.open()
        let a = bring(run("a", of: nil), .allow, into: &admission)
        admission.close()
        let b = bring(run("b", of: nil), .allow, into: &admission)
        let afterA = finish(run("a", of: nil), in: &admission)
        #expect(a.placement == .start)
        #expect(b.placement == .queued)
        #expect(afterA == [])
        #expect(admission.load == (running: 0, queued: 2))
    }

    // MARK: - Jitter

    @Test("a jittered run waits until its notBefore, in flight for its schedule, then takes a slot")
    func jitter() {
        var admission = open(limit: 1)
        let a = bring(run("a", notBefore: Self.t0.addingTimeInterval(29.5)), .skip, into: &admission)
        #expect(a == (.proceed, .delayed))
        // Held to the whole second after its notBefore.
        #expect(admission.nextDelayed == Int64(Self.t0.timeIntervalSince1970) + 30)
        #expect(admission.load == (running: 0, queued: 1))
        let b = admission.arrive(run("b"), policy: .skip)
        #expect(b == .skip(Self.skipA))
        let early = admission.due(now: Self.t0.addingTimeInterval(29))
        let onTime = admission.due(now: Self.t0.addingTimeInterval(30))
        #expect(early.isEmpty)
        #expect(onTime.map(\.id) == ["a"])
        #expect(admission.nextDelayed == nil)
        #expect(admission.load == (running: 1, queued: 0))
    }

    @Test("a run whose notBefore has come is not held back")
    func jitterPassed() {
        var admission = open(limit: 1)
        let a = bring(run("a", notBefore: Self.t0), .allow, into: &admission, now: Self.t0)
        #expect(a.placement == .start)
    }

    @Test("a jittered run that is cancelled does not start when its wait ends")
    func withdrawDelayed() {
        var admission = open(limit: 1)
        _ = bring(run("a", notBefore: Self.t0.addingTimeInterval(10)), .allow, into: &admission)
        let withdrawn = admission.withdraw("a", scheduleID: "s")
        let due = admission.due(now: Self.t0.addingTimeInterval(10))
        #expect(withdrawn)
        #expect(due.isEmpty)
        #expect(admission.load == (running: 0, queued: 0))
    }

    @Test("a buffered run with jitter left waits for it once its schedule's run has ended")
    func bufferedThenDelayed() {
        var admission = open(limit: 2)
        _ = bring(run("a"), .bufferOne, into: &admission)
        let later = Self.t0.addingTimeInterval(60)
        let b = bring(run("b", notBefore: later), .bufferOne, into: &admission)
        let handoff = admission.finish(run("a"), now: Self.t0)
        let due = admission.due(now: later)
        #expect(b == (.buffer, .buffered))
        #expect(handoff.start.isEmpty && handoff.delayed)
        #expect(due.map(\.id) == ["b"])
    }
}
