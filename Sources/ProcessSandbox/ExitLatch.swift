import Dispatch
import Synchronization

/// Opens once, when a script has exited. The timeout path waits on it for at most the grace period,
/// and that wait is not cut short by task cancellation: a cancelled run still gives its script the
/// grace period before SIGKILL.
final class ExitLatch: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    var isOpen: Bool { state.withLock { $0.isOpen } }

    /// Runs `signal` unless the latch is open, holding the latch's lock while it runs. The watch opens
    /// the latch before it reaps the script, so a signal sent through here reaches the script or its
    /// group while its pid is still taken, never a newer process that reused the number.
    func unlessOpen(_ signal: () -> Void) {
        state.withLock { state in
            if !state.isOpen { signal() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.isOpen = true
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Waits until the latch opens or `limit` passes. Returns whether it opened.
    func wait(upTo limit: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            let token: Int? = state.withLock { state in
                if state.isOpen { return nil }
                state.nextWaiter += 1
                state.waiters[state.nextWaiter] = continuation
                return state.nextWaiter
            }
            guard let token else {
                continuation.resume(returning: true)
                return
            }
            let (seconds, attoseconds) = limit.components
            // Saturating: a limit too long to count in nanoseconds (centuries) waits as long as dispatch
            // can; a negative one not at all.
            let (whole, overflow) = Int(clamping: max(0, seconds)).multipliedReportingOverflow(by: 1_000_000_000)
            let nanoseconds = overflow ? Int.max / 2 : whole &+ Int(max(0, attoseconds) / 1_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) {
                let waiter = self.state.withLock { $0.waiters.removeValue(forKey: token) }
                waiter?.resume(returning: false)
            }
        }
    }
}
