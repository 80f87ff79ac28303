import Foundation
import Storage

/// Which runs may start, and when: the global limit on runs going at once, the queue of runs waiting
/// for a slot (first in, first out), the runs held back until the end of their jitter, and each
/// schedule's overlap policy.
///
/// A value-type state machine. Each method is one event — a run arrives, is stored, ends, is
/// cancelled while waiting; time passes — and returns what the ``Scheduler`` has to do about it:
/// start these runs, store that one skipped, cancel those. It reads no clock and does no I/O (the
/// times it needs are arguments), so it is tested on its own and can later keep its state
/// somewhere other than one process's memory.
///
/// A run of a schedule goes through it in two steps around the write that stores it:
///
/// ```swift
/// var admission = RunAdmission(limit: 16)
/// admission.open()
/// switch admission.arrive(run, policy: .skip) {   // before the run is stored
/// case .skip(let reason): run.state = .skipped     // stored skipped, with the reason
/// default: break                                   // stored queued
/// }
/// // … the run is stored …
/// if admission.stored(run, now: now) == .start {   // it has a slot: start it
///     // … later, when it has ended:
///     let next = admission.finish(run, now: now)   // next.start took its slot
/// }
/// ```
///
/// Runs are tracked by id from ``stored(_:now:)`` until ``finish(_:now:)`` or ``withdraw(_:scheduleID:)``.
/// A run's schedule counts it as *in flight* (what overlap policies look at) while it waits for a slot,
/// waits for its jitter, or runs; a run buffered by `buffer-one` is not in flight until its turn comes.
package struct RunAdmission: Sendable {
    /// What a schedule's overlap policy decided for a new run, before the run is stored.
    package enum Overlap: Sendable, Equatable {
        /// The run goes ahead: nothing of its schedule is in flight, or the policy is `allow`. Store
        /// it queued.
        case proceed
        /// `buffer-one`: store the run queued; it waits outside the queue until every run of its
        /// schedule in flight has ended, then takes its turn. It is the schedule's one buffered run.
        case buffer
        /// Store the run `skipped`, with this as its error.
        case skip(String)
        /// `cancel-other`: the run goes ahead, and the schedule's other runs give way. Already done
        /// here: the waiting ones are no longer tracked, and a buffered one among `earlier` is
        /// released.
        /// - Parameters:
        ///   - running: runs that have a slot: cancel them; each frees its slot when it has ended
        ///     (``finish(_:now:)``).
        ///   - waiting: runs that waited for a slot or their jitter: store them cancelled.
        ///   - earlier: the runs passed as `earlier` to ``arrive(_:policy:earlier:)`` that were still
        ///     queued: store them cancelled instead of queued.
        case cancelOthers(running: [String], waiting: [String], earlier: [String])
    }

    /// Where a stored run went.
    package enum Placement: Sendable, Equatable {
        /// It has a slot: start it.
        case start
        /// It waits in the queue for a slot.
        case queued
        /// It waits for the end of its jitter (``nextDelayed`` may have moved earlier).
        case delayed
        /// It is its schedule's buffered run, and waits for the schedule's runs in flight.
        case buffered
        /// It was stored in a final state (skipped, or replaced within its tick): nothing waits.
        case ended
    }

    /// What follows from a run's end: the runs that take the slot it freed.
    package struct Handoff: Sendable, Equatable {
        /// Runs given a slot, in the order they got it: start them.
        package var start: [RunRecord] = []
        /// True when the schedule's buffered run now waits for its jitter, so that ``nextDelayed``
        /// may have moved earlier.
        package var delayed = false
    }

    /// The most runs going at once (at least one).
    package let limit: Int
    /// True from ``open()`` to ``close()``: only then do runs get slots.
    package private(set) var isOpen = false

    /// Runs waiting for a slot, oldest first.
    private var waiting = RunQueue()
    /// Runs waiting for the end of their jitter, by the Unix second it ends (rounded up).
    private var delayed = FireHeap()
    /// The runs `delayed` points at; a run withdrawn meanwhile is gone from here only.
    private var delayedRuns: [String: RunRecord] = [:]
    /// Runs that have a slot.
    private var running: Set<String> = []
    /// Per schedule, its runs waiting for a slot or their jitter, or running.
    private var inFlight: [String: Set<String>] = [:]
    /// Per schedule, the one run buffered by `buffer-one`.
    private var buffered: [String: RunRecord] = [:]

    /// No run has a slot yet, and none will until ``open()``.
    /// - Parameter limit: the most runs going at once; values below one count as one.
    package init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Runs going now, and runs waiting for a slot or for their jitter.
    package var load: (running: Int, queued: Int) { (running.count, waiting.count + delayedRuns.count) }

    /// Slots that no run holds or waits for: how many more runs this instance could take on now.
    package var freeSlots: Int { max(0, limit - running.count - waiting.count - delayedRuns.count) }

    /// The Unix second at which the earliest jittered run may start, if any waits.
    package var nextDelayed: Int64? { delayed.min?.time }

    /// From now on runs get slots. Runs that waited in the queue meanwhile keep waiting until a slot
    /// is freed.
    package mutating func open() {
        isOpen = true
    }

    /// From now on no run gets a slot: new runs, and runs whose slot comes free, wait in the queue.
    package mutating func close() {
        isOpen = false
    }

    // MARK: - Events

    /// A new run of a schedule, not stored yet: the overlap policy decides whether it goes ahead.
    /// A run buffered here becomes the schedule's buffered run at once, so that later arrivals see it.
    /// - Parameters:
    ///   - run: the new run; a run of no schedule always goes ahead.
    ///   - policy: its schedule's overlap policy.
    ///   - earlier: the same schedule's runs decided before this one and not stored yet (several
    ///     fires handled in one tick); those still queued count as in flight.
    package mutating func arrive(_ run: RunRecord, policy: OverlapPolicy, earlier: [RunRecord] = []) -> Overlap {
        guard let scheduleID = run.scheduleID else { return .proceed }
        let others = inFlight[scheduleID] ?? []
        let queuedEarlier = earlier.filter { $0.state == .queued }
        guard !others.isEmpty || !queuedEarlier.isEmpty else { return .proceed }
        switch policy {
        case .allow:
            return .proceed
        case .skip:
            let first = others.min() ?? queuedEarlier[0].id
            return .skip(ScheduleFires.skipReason(running: first))
        case .bufferOne:
            guard buffered[scheduleID] == nil else {
                return .skip("skipped: a run of this schedule was already waiting (overlap: buffer-one)")
            }
            buffered[scheduleID] = run
            return .buffer
        case .cancelOther:
            var stopped: [String] = []
            var dropped: [String] = []
            for id in others.sorted() {
                if running.contains(id) {
                    stopped.append(id)
                } else {
                    dropped.append(id)
                    withdraw(id, scheduleID: scheduleID)
                }
            }
            for run in queuedEarlier where buffered[scheduleID]?.id == run.id {
                buffered.removeValue(forKey: scheduleID)
            }
            return .cancelOthers(running: stopped, waiting: dropped, earlier: queuedEarlier.map(\.id))
        }
    }

    /// The retry of a run that has just ended, not stored yet: whether its schedule's overlap policy
    /// lets it wait for its backoff. With nothing of the schedule in flight, or with `allow`, it may;
    /// `buffer-one` makes it the schedule's buffered run when there is none; with `skip` and
    /// `cancel-other`, or a buffered run already, a newer run of the schedule goes on and the retry
    /// is given up. A retry kept here is stored next, then handed to ``stored(_:now:)`` (or to
    /// ``notStored(_:)``).
    package mutating func retrying(_ run: RunRecord, policy: OverlapPolicy) -> Bool {
        guard let scheduleID = run.scheduleID, inFlight[scheduleID] != nil || buffered[scheduleID] != nil else {
            return true
        }
        switch policy {
        case .allow:
            return true
        case .bufferOne:
            guard buffered[scheduleID] == nil else { return false }
            buffered[scheduleID] = run
            return true
        case .skip, .cancelOther:
            return false
        }
    }

    /// A run that ``arrive(_:policy:earlier:)`` saw was not stored after all (the write failed, or a
    /// run with its dedupe key existed): it no longer holds its schedule's buffer.
    package mutating func notStored(_ run: RunRecord) {
        if isBuffered(run), let scheduleID = run.scheduleID { buffered.removeValue(forKey: scheduleID) }
    }

    /// A run was stored, or found queued in the store at start: it gets a slot, waits in the queue or
    /// for its jitter, or (``arrive(_:policy:earlier:)`` buffered it) waits for its schedule.
    /// - Parameter now: the current time, which a jittered run's `notBefore` is compared to.
    package mutating func stored(_ run: RunRecord, now: Date) -> Placement {
        guard run.state == .queued else { return .ended }
        if isBuffered(run) { return .buffered }
        return enqueue(run, now: now)
    }

    /// Jittered runs whose wait has ended by `now` leave it: each gets a slot or joins the queue.
    /// - Returns: the runs given a slot: start them.
    package mutating func due(now: Date) -> [RunRecord] {
        let nowSeconds = now.unixSeconds()
        var start: [RunRecord] = []
        while let top = delayed.min, top.time <= nowSeconds {
            _ = delayed.pop()
            if let run = delayedRuns.removeValue(forKey: top.key), admit(run) { start.append(run) }
        }
        return start
    }

    /// A run that had a slot has ended. Its schedule's buffered run takes its turn once nothing of
    /// the schedule is in flight (ahead of the queue when a slot is free), then the queue fills the
    /// free slots in order.
    /// - Parameter now: the current time, which the buffered run's `notBefore` is compared to.
    package mutating func finish(_ run: RunRecord, now: Date) -> Handoff {
        running.remove(run.id)
        var handoff = Handoff()
        if let scheduleID = run.scheduleID {
            untrack(run.id, of: scheduleID)
            if inFlight[scheduleID] == nil, let next = buffered.removeValue(forKey: scheduleID) {
                switch enqueue(next, now: now) {
                case .start: handoff.start.append(next)
                case .delayed: handoff.delayed = true
                case .queued, .buffered, .ended: break
                }
            }
        }
        while isOpen, running.count < limit, let next = waiting.removeFirst() {
            running.insert(next.id)
            handoff.start.append(next)
        }
        return handoff
    }

    /// A run that has no slot will not start (cancelled on request, or replaced by a newer fire):
    /// it leaves the queue, its jitter wait or its schedule's buffer, and its schedule no longer
    /// counts it in flight.
    /// - Returns: whether it was waiting here.
    @discardableResult
    package mutating func withdraw(_ id: String, scheduleID: String?) -> Bool {
        var found = waiting.remove(id: id)
        found = delayedRuns.removeValue(forKey: id) != nil || found
        if let scheduleID {
            if buffered[scheduleID]?.id == id {
                buffered.removeValue(forKey: scheduleID)
                found = true
            }
            untrack(id, of: scheduleID)
        }
        return found
    }

    // MARK: - Steps

    /// Counts `run` in flight for its schedule, then holds it for its jitter or admits it.
    private mutating func enqueue(_ run: RunRecord, now: Date) -> Placement {
        if let scheduleID = run.scheduleID { inFlight[scheduleID, default: []].insert(run.id) }
        if let notBefore = run.notBefore, notBefore > now {
            delayedRuns[run.id] = run
            delayed.push(.init(time: notBefore.unixSeconds(.up), key: run.id, generation: 0))
            return .delayed
        }
        return admit(run) ? .start : .queued
    }

    /// Gives `run` a slot if one is free and runs are admitted; otherwise it joins the queue.
    /// - Returns: whether it got a slot.
    private mutating func admit(_ run: RunRecord) -> Bool {
        guard isOpen, running.count < limit else {
            waiting.append(run)
            return false
        }
        running.insert(run.id)
        return true
    }

    /// Its schedule no longer counts run `id` in flight; a schedule with nothing in flight has no entry.
    private mutating func untrack(_ id: String, of scheduleID: String) {
        // Changed in place: a copy of the set would cost its size on every run's end.
        inFlight[scheduleID]?.remove(id)
        if inFlight[scheduleID]?.isEmpty == true { inFlight.removeValue(forKey: scheduleID) }
    }

    /// The ids of every run tracked here: running, waiting for a slot or its jitter, or buffered.
    package var trackedIDs: Set<String> {
        var ids = running.union(delayedRuns.keys).union(buffered.values.map(\.id))
        ids.formUnion(waiting.ids)
        return ids
    }

    /// The runs waiting for a slot, first in first.
    package var waitingRuns: ArraySlice<RunRecord> { waiting.runs }

    /// The run with this id if it waits here (for a slot, its jitter, or its schedule's runs).
    package func waitingRun(_ id: String) -> RunRecord? {
        if let run = delayedRuns[id] ?? waiting.run(id: id) { return run }
        return buffered.values.first { $0.id == id }
    }

    /// Whether `run` is its schedule's buffered run.
    package func isBuffered(_ run: RunRecord) -> Bool {
        guard let scheduleID = run.scheduleID else { return false }
        return buffered[scheduleID]?.id == run.id
    }
}
