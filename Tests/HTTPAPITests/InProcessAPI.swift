import ClockTesting
import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SchedulerAPI
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

/// The daemon's routes in this process, on a real SQLite file and a scheduler on a manual clock that
/// the API shares.
struct InProcessAPI {
    static let token = "fuzz-admin-token"
    let store: SQLiteStore
    let scheduler: Scheduler
    let clock: ManualClock
    let task: Task<Void, any Error>
    let app: Application<RouterResponder<DaemonRequestContext>>

    static func start(
        executor: any RunExecutor = InstantExecutor(), workflows: Set<String> = ["tick"], store: SQLiteStore? = nil,
        maxConcurrentRuns: Int = 4, environment: [String: String] = [:],
        reloadWorkflows: @escaping @Sendable (Bool) async -> Set<String>? = { _ in nil }, instanceID: String? = nil
    ) async throws -> InProcessAPI {
        let store =
            try store
            ?? SQLiteStore(
                path: FileManager.default.temporaryDirectory.appendingPathComponent(
                    "api-\(UUID().uuidString.prefix(8)).sqlite"
                ).path)
        var logger = Logger(label: "test.fuzz")
        logger.logLevel = .critical
        let clock = ManualClock(Date())
        let scheduler = Scheduler(
            store: store, clock: clock, executor: executor,
            configuration: .init(maxConcurrentRuns: maxConcurrentRuns, shutdownGrace: .seconds(1)), logger: logger)
        let task = Task { try await scheduler.run() }
        let api = AdminAPI(
            .init(
                schedules: ScheduleService(store: store, scheduler: scheduler, environment: environment, clock: clock),
                scheduler: scheduler, workflows: { workflows }, token: token, traceURL: { "http://mlflow/\($0)" },
                metrics: { "" }, ready: { (true, "ready") },
                webhooks: .init(ratePerSecond: 1_000_000, burst: 1_000_000), reloadWorkflows: reloadWorkflows,
                clock: clock, instanceID: instanceID))
        let app = Application(router: api.router(), logger: logger)
        return InProcessAPI(store: store, scheduler: scheduler, clock: clock, task: task, app: app)
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

    /// A request with the admin token and a JSON body; the answer read as the route's wire type.
    /// - Throws: when the status is not `expected` (the message says what came instead) or the answer
    ///   does not read as `Answer`.
    func admin<Answer: Decodable>(
        _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, expect expected: HTTPResponse.Status = .ok,
        as answer: Answer.Type
    ) async throws -> Answer {
        var headers: HTTPFields = [.authorization: "Bearer \(InProcessAPI.token)"]
        if body != nil { headers[.contentType] = "application/json" }
        let response = try await execute(
            uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        let data = Data(response.body.readableBytesView)
        try #require(
            response.status == expected,
            "\(method) \(path): \(response.status.code) \(String(decoding: data, as: UTF8.self))")
        return try WireFormat.decode(answer, from: data)
    }

    /// A request that must be refused with `status`: the refusal as the API writes it.
    func refused(
        _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, status: HTTPResponse.Status
    ) async throws -> ErrorResponse.Body {
        try await admin(method, path, body, expect: status, as: ErrorResponse.self).error
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
