import Foundation

extension WorkflowRunner {
    /// Runs `body`, cancelling it when `limit` passes. Returns its result and whether the limit cut it.
    static func withDeadline<T: Sendable>(
        _ limit: Duration?, _ body: @escaping @Sendable () async throws -> T
    ) async -> (Result<T, any Error>, Bool) {
        guard let limit else {
            do { return (.success(try await body()), false) } catch { return (.failure(error), false) }
        }
        return await withTaskGroup(of: DeadlineEvent<T>.self) { group in
            group.addTask {
                do { return .body(.success(try await body())) } catch { return .body(.failure(error)) }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: limit)
                    return .deadline(reached: true)
                } catch {
                    return .deadline(reached: false)
                }
            }
            var reached = false
            while let finished = await group.next() {
                switch finished {
                case .body(let result):
                    group.cancelAll()
                    return (result, reached)
                case .deadline(let wasReached):
                    if wasReached {
                        reached = true
                        group.cancelAll()
                    }
                }
            }
            return (.failure(CancellationError()), reached)
        }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}

/// What finished first in ``WorkflowRunner/withDeadline(_:_:)``.
enum DeadlineEvent<T: Sendable>: Sendable {
    case body(Result<T, any Error>)
    case deadline(reached: Bool)
}
