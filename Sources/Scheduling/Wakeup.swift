import Synchronization

/// Wakes the scheduler's timer loop when something changed (a schedule added, a run finished), so
/// that it never polls.
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Wakes the waiter, or the next one to wait.
    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at the next signal (at once if one came since the last wait), or when the task is
    /// cancelled.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}

/// Fires once; ``wait()`` returns when it has fired or when the task is cancelled.
final class Signal: Sendable {
    private let wakeup = Wakeup()
    private let fired = Mutex(false)

    func fire() {
        fired.withLock { $0 = true }
        wakeup.signal()
    }

    var hasFired: Bool { fired.withLock { $0 } }

    func wait() async {
        while !hasFired && !Task.isCancelled { await wakeup.wait() }
    }
}
