import Foundation
import Synchronization

/// What the nodes of one run share: the step counter, the node records, the latest state.
final class Execution: Sendable {
    let runID: String
    let payload: Data?
    let observe: (@Sendable (RunEvent) -> Void)?
    private let shared = Mutex<(step: Int, records: [NodeRecord], state: [String: JSONValue])>((0, [], [:]))

    init(runID: String, payload: Data?, observe: (@Sendable (RunEvent) -> Void)?) {
        self.runID = runID
        self.payload = payload
        self.observe = observe
    }

    func nextStep() -> Int {
        shared.withLock {
            $0.step += 1
            return $0.step
        }
    }

    /// Reports that a node attempt began (the record is not kept: its end is).
    func began(_ record: NodeRecord) {
        observe?(.nodeStarted(record))
    }

    func finished(_ record: NodeRecord) {
        shared.withLock { $0.records.append(record) }
        observe?(.nodeFinished(record))
    }

    func setState(_ state: [String: JSONValue]) {
        shared.withLock { $0.state = state }
    }

    var state: [String: JSONValue] { shared.withLock { $0.state } }
    var records: [NodeRecord] { shared.withLock { $0.records } }
}

/// A workflow invocation's node executions left before `max_steps`.
final class StepBudget: Sendable {
    private let remaining: Mutex<Int>

    init(limit: Int) {
        remaining = Mutex(limit)
    }

    /// Takes one step; false when none is left.
    func take() -> Bool {
        remaining.withLock {
            guard $0 > 0 else { return false }
            $0 -= 1
            return true
        }
    }
}
