import Foundation

/// A helper's failure, with what it waited for.
public struct TestFailure: Error, CustomStringConvertible {
    /// What failed, in a line for the test's report: what was awaited, or which inputs failed.
    public var description: String
    /// A failure reported as `description`.
    public init(description: String) { self.description = description }
}

/// Waits for `condition` with a deadline (no fixed sleeps as synchronisation).
/// - Throws: ``TestFailure`` naming `what` when the deadline passes.
public func eventually(
    timeout: Duration = .seconds(30), _ what: String, _ condition: () async throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure(description: "timed out after \(timeout) waiting for: \(what)")
}
