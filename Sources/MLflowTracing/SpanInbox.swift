import Synchronization

/// Hands ended spans from the run's path to the exporter: an append under a lock, and a wake-up
/// signal only when the inbox goes from empty to non-empty.
final class SpanInbox: SpanSink, Sendable {
    private struct State {
        var spans: [FinishedSpan] = []
        var dropped = 0
    }

    /// Most spans held in memory while the spool writer is busy; past it the oldest are dropped.
    let capacity: Int
    private let state = Mutex(State())
    let signals: AsyncStream<Void>
    private let signal: AsyncStream<Void>.Continuation

    init(capacity: Int = 200_000) {
        self.capacity = capacity
        (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func submit(_ span: FinishedSpan) {
        let wasEmpty = state.withLock { state in
            let wasEmpty = state.spans.isEmpty
            if state.spans.count >= capacity {
                let cut = max(1, capacity / 10)
                state.spans.removeFirst(cut)
                state.dropped += cut
            }
            state.spans.append(span)
            return wasEmpty
        }
        if wasEmpty { signal.yield() }
    }

    /// Takes everything waiting, and the number of spans dropped for lack of room since last time.
    func drain() -> (spans: [FinishedSpan], dropped: Int) {
        state.withLock { state in
            defer {
                state.spans = []
                state.dropped = 0
            }
            return (state.spans, state.dropped)
        }
    }

    var isEmpty: Bool { state.withLock { $0.spans.isEmpty } }

    func finish() { signal.finish() }
}
