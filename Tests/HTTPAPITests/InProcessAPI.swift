import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SchedulerTesting
import Scheduling
import Storage
import Synchronization
import Testing
import Workflows

/// An executor that ends every run at once: the fuzz tests care about what the HTTP layer accepts.
struct InstantExecutor: RunExecutor {
    func execute(
        _ run: RunRecord, schedule: ScheduleRecord?, started: @escaping @Sendable (RunStart) -> Void,
        progress: @escaping @Sendable ([NodeRecord]) -> Void
    ) async -> RunOutcome {
        started(RunStart(traceID: run.traceID, rootSpanID: run.rootSpanID, startNanos: UInt64(run.rootStartNanos ?? 0)))
        return RunOutcome(state: .succeeded, outputJSON: "{}")
    }

    func closeInterrupted(_ run: RunRecord) async {}
}

/// The daemon's routes in this process, on a real SQLite file and a scheduler on a manual clock, with
/// one webhook schedule per scheme (`gh`, `std`, `tok`).
struct InProcessAPI {
    static let token = "fuzz-admin-token"
    let store: SQLiteStore
    let scheduler: Scheduler
    let task: Task<Void, any Error>
    let app: Application<RouterResponder<DaemonRequestContext>>

    static func start(
        executor: any RunExecutor = InstantExecutor(), workflows: Set<String> = ["tick"], store: SQLiteStore? = nil,
        maxConcurrentRuns: Int = 4
    ) async throws -> InProcessAPI {
        let store =
            try store
            ?? SQLiteStore(
                path: FileManager.default.temporaryDirectory.appendingPathComponent(
                    "api-\(UUID().uuidString.prefix(8)).sqlite"
                ).path)
        var logger = Logger(label: "test.fuzz")
        logger.logLevel = .critical
        let scheduler = Scheduler(
            store: store, clock: ManualClock(Date()), executor: executor,
            configuration: .init(maxConcurrentRuns: maxConcurrentRuns, shutdownGrace: .seconds(1)), logger: logger)
        let task = Task { try await scheduler.run() }
        let api = AdminAPI(
            .init(
                store: store, scheduler: scheduler, workflows: { workflows }, token: token, traceURL: { _ in nil },
                metrics: { "" }, ready: { (true, "ready") }, environment: [:],
                webhooks: .init(ratePerSecond: 1_000_000, burst: 1_000_000)))
        let app = Application(router: api.router(), logger: logger)
        return InProcessAPI(store: store, scheduler: scheduler, task: task, app: app)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    /// Runs `body` against the routes; the scheduler stops afterwards whatever happens.
    func test(_ body: @Sendable @escaping (any TestClientProtocol) async throws -> Void) async throws {
        do {
            try await app.test(.router) { client in try await body(client) }
        } catch {
            await stop()
            throw error
        }
        await stop()
    }
}

extension TestClientProtocol {
    /// Creates a webhook schedule of the `token` scheme running `tick`, and returns its token.
    func tokenHook(_ name: String) async throws -> String {
        let (status, created) = try await admin(
            .post, "/api/v1/schedules",
            #"{"name":"\#(name)","workflow":"tick","webhook":true,"webhook_scheme":"token"}"#)
        try #require(status == .created, "\(created)")
        return try #require(created["webhook_secret"]?.stringValue)
    }

    /// A request with the admin token, a JSON body, and the answer as JSON.
    func admin(_ method: HTTPRequest.Method, _ path: String, _ body: String? = nil) async throws -> (
        HTTPResponse.Status, JSONValue
    ) {
        var headers: HTTPFields = [.authorization: "Bearer \(InProcessAPI.token)"]
        if body != nil { headers[.contentType] = "application/json" }
        let response = try await execute(
            uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        return (response.status, (try? JSONValue(json: Data(response.body.readableBytesView))) ?? .null)
    }
}

/// An executor that holds every run until it is cancelled (or released), to test what happens to a
/// running run.
final class HoldingExecutor: RunExecutor {
    private let gates = Mutex<[String: CheckedContinuation<RunOutcome, Never>]>([:])
    private let started = Mutex<Set<String>>([])

    func isRunning(_ id: String) -> Bool { started.withLock { $0.contains(id) } }

    func execute(
        _ run: RunRecord, schedule: ScheduleRecord?, started: @escaping @Sendable (RunStart) -> Void,
        progress: @escaping @Sendable ([NodeRecord]) -> Void
    ) async -> RunOutcome {
        self.started.withLock { _ = $0.insert(run.id) }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(returning: RunOutcome(state: .cancelled, error: "cancelled"))
                } else {
                    gates.withLock { $0[run.id] = continuation }
                }
            }
        } onCancel: {
            gates.withLock { $0.removeValue(forKey: run.id) }?.resume(
                returning: RunOutcome(state: .cancelled, error: "cancelled"))
        }
    }

    func closeInterrupted(_ run: RunRecord) async {}
}
