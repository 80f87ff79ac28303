import Synchronization

/// Counts the tokens the model calls of one node attempt used, so that its ``NodeRecord`` and the
/// run's record carry them. Each attempt runs with a meter of its own in a task-local, which the
/// `llm` node adds to; the nodes of a sub-workflow count on their own records, not their delegation's.
final class TokenMeter: Sendable {
    @TaskLocal static var current: TokenMeter?

    private let counts = Mutex<(input: Int64, output: Int64, calls: Int)>((0, 0, 0))

    /// Adds one call's usage (a count the provider did not give adds nothing).
    func add(input: Int64?, output: Int64?) {
        counts.withLock {
            $0.input += input ?? 0
            $0.output += output ?? 0
            $0.calls += 1
        }
    }

    /// The counts so far; `nil` before any call.
    var usage: (input: Int64, output: Int64)? {
        counts.withLock { $0.calls == 0 ? nil : ($0.input, $0.output) }
    }
}
