/// Something a test starts and must stop whether the test passes, fails or throws: a running
/// exporter, a scheduler harness, a daemon.
public protocol Stoppable: Sendable {
    /// Stops it and waits until it has stopped.
    func stop() async
}

/// Runs `body` with `resource`, then stops the resource, also when `body` throws: the one teardown
/// for tests, in place of a `defer` that can only start the asynchronous stop and not wait for it.
///
/// ```swift
/// try await stopping(try RunningExporter.start(uri: server.uri)) { running in
///     running.tracer.withSpan("root") { _ in }
///     try await running.flush()
/// }
/// ```
public func stopping<Resource: Stoppable, Result>(
    _ resource: Resource, _ body: (Resource) async throws -> Result
) async rethrows -> Result {
    do {
        let result = try await body(resource)
        await resource.stop()
        return result
    } catch {
        await resource.stop()
        throw error
    }
}
