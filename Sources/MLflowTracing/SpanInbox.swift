import Synchronization

/// Hands ended spans from the run's path to the exporter: an append of one reference under a lock,
/// and a wake-up signal only when the inbox goes from empty to non-empty.
///
/// The exporter drains it at most once per ``MLflowTracingConfiguration/spoolInterval``, so a
/// steady stream of spans costs one wake-up per interval, not one per span; the buffer it drained
/// comes back with ``recycle(_:)`` and is filled again without growing from empty.
final class SpanInbox: SpanSink, Sendable {
    private struct State {
        var spans: [MLflowSpan] = []
        /// The buffer drained last, emptied, kept for its capacity.
        var spare: [MLflowSpan] = []
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

    func submit(_ span: MLflowSpan) {
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
    func drain() -> (spans: [MLflowSpan], dropped: Int) {
        state.withLock { state in
            var taken = state.spare
            swap(&taken, &state.spans)
            state.spare = []
            defer { state.dropped = 0 }
            return (taken, state.dropped)
        }
    }

    /// Gives back a drained buffer once its spans are written, so its capacity serves the next ones.
    func recycle(_ buffer: [MLflowSpan]) {
        var buffer = buffer
        buffer.removeAll(keepingCapacity: true)
        state.withLock { state in
            if buffer.capacity > state.spare.capacity { state.spare = buffer }
        }
    }

    var isEmpty: Bool { state.withLock { $0.spans.isEmpty } }

    func finish() { signal.finish() }
}
