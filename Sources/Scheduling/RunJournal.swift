import Logging
import Storage
import Synchronization
import Workflows

/// Writes new runs and run changes with group commit: what arrives while a transaction is being
/// written waits and goes together in the next one, so that a burst of runs (or of webhook
/// deliveries) costs a few transactions instead of one per change. `write` returns once its changes
/// are committed; `note` (node progress) does not wait, and a newer note for the same run replaces an
/// older one still waiting, as does the run's end. Notes are encoded when they are written, so
/// replaced ones cost nothing.
final class RunJournal: Sendable {
    private enum Change {
        case insert(RunRecord)
        case update(RunUpdate)
        case nodes(id: String, [NodeRecord], RunFence?)
        /// A note the run's end made unnecessary.
        case none

        /// The run it changes; `nil` for none.
        var runID: String? {
            switch self {
            case .insert(let run): run.id
            case .update(let update): update.runID
            case .nodes(let id, _, _): id
            case .none: nil
            }
        }
    }

    private struct Pending {
        var change: Change
        /// Resumed with what the transaction stored and refused.
        var waiter: CheckedContinuation<RunWriteResult, any Error>?
    }

    private struct State {
        var pending: [Pending] = []
        /// Where a run's waiting node note is in `pending`.
        var noteIndex: [String: Int] = [:]
        var flushing = false
        /// The runs of the batch being written and of the changes kept from failed ones.
        var writing: Set<String> = []

        /// Appends; true when the caller must start a flush.
        mutating func append(_ item: Pending) -> Bool {
            if case .update(let update) = item.change, case .finished = update,
                let note = noteIndex.removeValue(forKey: update.runID)
            {
                pending[note].change = .none
            }
            pending.append(item)
            return startFlush()
        }

        mutating func startFlush() -> Bool {
            guard !flushing else { return false }
            flushing = true
            return true
        }
    }

    private let store: any SchedulerStore
    private let logger: Logger
    private let state = Mutex(State())

    init(store: any SchedulerStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// The runs with a change (or their insert) not known to be stored yet: waiting, being written,
    /// or kept from a failed transaction. The store may not show such a run as this journal will
    /// leave it.
    var unsettledRunIDs: Set<String> {
        state.withLock { state in state.writing.union(state.pending.compactMap(\.change.runID)) }
    }

    /// Stores a new run together with whatever else is waiting; returns once it is committed: true,
    /// or false when its schedule has a run with the same dedupe key (nothing was stored).
    func insert(_ run: RunRecord) async throws -> Bool {
        let result = try await withCheckedThrowingContinuation {
            (waiter: CheckedContinuation<RunWriteResult, any Error>) in
            let flush = state.withLock { $0.append(Pending(change: .insert(run), waiter: waiter)) }
            if flush { startFlushing() }
        }
        return result.stored.contains(run.id)
    }

    /// Writes `updates`, in order and in one transaction together with whatever else is waiting;
    /// returns once they are committed.
    /// - Returns: the ids of the runs among `updates` whose fenced changes were refused (another
    ///   instance holds the run now).
    @discardableResult
    func write(_ updates: [RunUpdate]) async throws -> Set<String> {
        guard !updates.isEmpty else { return [] }
        let result = try await withCheckedThrowingContinuation {
            (waiter: CheckedContinuation<RunWriteResult, any Error>) in
            let flush = state.withLock { state in
                var flush = false
                for (index, update) in updates.enumerated() {
                    let last = index == updates.count - 1
                    flush = state.append(Pending(change: .update(update), waiter: last ? waiter : nil)) || flush
                }
                return flush
            }
            if flush { startFlushing() }
        }
        return result.refused.intersection(updates.map(\.runID))
    }

    /// Stores a run's finished node attempts soon, without waiting; a later note for the same run, or
    /// its end, replaces it if it has not been written yet.
    /// A note under a `fence` that is refused (another instance holds the run now) is dropped.
    func note(id: String, nodes: [NodeRecord], fence: RunFence?) {
        let flush = state.withLock { state in
            if let index = state.noteIndex[id] {
                state.pending[index].change = .nodes(id: id, nodes, fence)
                return false
            }
            state.noteIndex[id] = state.pending.count
            state.pending.append(Pending(change: .nodes(id: id, nodes, fence), waiter: nil))
            return state.startFlush()
        }
        if flush { startFlushing() }
    }

    /// Writes what waits from a task of its own, which ends once nothing waits. It cannot be the
    /// caller's task: `note` is called from a run's progress callback, which must return at once, and
    /// the callers of `insert` and `write` are suspended on their continuations until the flush
    /// resumes them. Nor is it a child of the scheduler's task group: the ends of the runs a cancelled
    /// scheduler stops are still committed.
    private func startFlushing() {
        Task { await self.flush() }
    }

    /// A run change from a failed transaction, kept to be written again.
    private struct Kept {
        var update: RunUpdate
        /// How many times the store refused it alone while it took other writes.
        var refusals = 0
    }

    /// Writes batches until nothing waits. When a transaction fails, its changes to runs (starts, node
    /// notes, ends) are kept and written first in the next one, after a pause that grows while the
    /// store keeps failing (up to ``longestRetryPause``): a run that ends while the store is away has its
    /// end written when the store is back. Its new runs are not kept: their callers learn of the
    /// failure and store them again (a fire is planned again, a webhook is asked to retry).
    ///
    /// After ``attemptsTogether`` failures in a row the kept changes are written one at a time
    /// instead, and the new ones without them (``writeAlone(_:storeAnswers:)``): a change the store
    /// refuses for itself must not hold back every change after it.
    private func flush() async {
        var carried: [Kept] = []
        var failures = 0
        var storeAnswers = false
        while true {
            let batch = state.withLock { state -> [Pending]? in
                guard !state.pending.isEmpty || !carried.isEmpty else {
                    state.flushing = false
                    return nil
                }
                defer {
                    state.writing = Set(carried.map(\.update.runID)).union(state.pending.compactMap(\.change.runID))
                    state.pending = []
                    state.noteIndex = [:]
                }
                return state.pending
            }
            guard let batch else { return }
            let apart = failures >= Self.attemptsTogether
            var wrote = false
            if apart {
                (carried, wrote) = await writeAlone(carried, storeAnswers: storeAnswers)
            }
            var inserts: [RunRecord] = []
            var updates = apart ? [] : carried.map(\.update)
            for item in batch {
                switch item.change {
                case .insert(let run): inserts.append(run)
                case .update(let update): updates.append(update)
                case .nodes(let id, let nodes, let fence):
                    updates.append(.nodes(id: id, json: NodeRecord.json(nodes), fence: fence))
                case .none: break
                }
            }
            var outcome: Result<RunWriteResult, any Error> = .success(RunWriteResult())
            if wrote { storeAnswers = true }
            if !inserts.isEmpty || !updates.isEmpty {
                do {
                    // New runs go first: a change in the same batch is always to a run stored before.
                    outcome = .success(try await store.writeRuns(insert: inserts, update: updates))
                    wrote = true
                    storeAnswers = true
                    if !apart { carried = [] }
                } catch {
                    storeAnswers = false
                    if failures == 0 {
                        logger.error(
                            "cannot store run changes; they are kept and written when the store answers again",
                            metadata: ["changes": .stringConvertible(updates.count), "error": .string("\(error)")])
                    }
                    outcome = .failure(error)
                    carried = (apart ? carried : []) + updates.map { Kept(update: $0) }
                }
            }
            state.withLock { $0.writing = Set(carried.map(\.update.runID)) }
            for item in batch { item.waiter?.resume(with: outcome) }
            if carried.isEmpty {
                if failures > 0 { logger.info("run changes are stored again") }
                failures = 0
            } else {
                failures += 1
            }
            if !wrote && failures > 0 {
                let pause = min(Self.longestRetryPause, .milliseconds(250) * (1 << min(failures - 1, 7)))
                try? await Task.sleep(for: pause)
            }
        }
    }

    /// Writes kept changes one at a time, in order. One the store refuses alone while it takes other
    /// writes (it answers; the change itself cannot be written) counts a refusal, and after
    /// ``refusalsToDrop`` it is dropped with an error in the log; when nothing goes through, the
    /// store is away and every change is kept as it was.
    /// - Parameter storeAnswers: whether the store took the last write that was not a kept change alone.
    /// - Returns: the changes still kept, and whether any was written.
    private func writeAlone(_ kept: [Kept], storeAnswers: Bool) async -> ([Kept], Bool) {
        var refused: [Kept] = []
        var wrote = false
        for item in kept {
            do {
                _ = try await store.writeRuns(insert: [], update: [item.update])
                wrote = true
            } catch {
                refused.append(item)
            }
        }
        guard wrote || storeAnswers else { return (refused, wrote) }
        var left: [Kept] = []
        for var item in refused {
            item.refusals += 1
            if item.refusals < Self.refusalsToDrop {
                left.append(item)
                continue
            }
            logger.error(
                "dropped a run change the store refuses while it takes others; the run keeps its stored state",
                metadata: ["run_id": .string(item.update.runID), "change": .string(item.update.kindName)])
        }
        return (left, wrote)
    }

    /// Failed transactions in a row after which kept changes are written one at a time.
    static let attemptsTogether = 3

    /// How many times the store may refuse a kept change alone, while it takes others, before the
    /// change is dropped.
    static let refusalsToDrop = 3

    /// The longest pause between two attempts to write kept changes while the store fails.
    static let longestRetryPause: Duration = .seconds(10)
}

extension RunUpdate {
    /// The kind of change, for the log: `started`, `nodes` or `finished`.
    fileprivate var kindName: String {
        switch self {
        case .started: "started"
        case .nodes: "nodes"
        case .finished: "finished"
        }
    }
}
