import Foundation
import Hummingbird
import Logging
import Scheduling
import Storage
import Support
import Synchronization
import Workflows

/// The daemon's HTTP interface (the README's "Admin API"): health, readiness and metrics without a token; the admin
/// API under `/api/v1` with `Authorization: Bearer <token>`. Every answer is JSON; every error is
/// `{"error": {"message": …}}` with a status that says what kind of problem it is, and a request
/// that is refused changes nothing.
public struct AdminAPI: Sendable {
    /// What the API needs from the rest of the daemon.
    public struct Dependencies: Sendable {
        public var store: any SchedulerStore
        public var scheduler: Scheduler
        /// The names of the loaded workflows (they change on SIGHUP).
        public var workflows: @Sendable () -> Set<String>
        /// The admin token.
        public var token: String
        /// A link to a trace in the MLflow UI, when tracing is on.
        public var traceURL: @Sendable (String) -> String?
        /// Prometheus text for `/metrics`.
        public var metrics: @Sendable () async -> String
        /// Whether the daemon is ready to fire (the store answers, the scheduler runs).
        public var ready: @Sendable () async -> (Bool, String)
        /// The daemon's environment (webhook secrets named by `webhook_secret_env`).
        public var environment: [String: String]
        /// Webhook limits.
        public var webhooks: WebhookLimits
        /// Reads the workflows directory again when a schedule names a workflow not loaded (one
        /// added since the start, without a SIGHUP). Returns the workflows there, or `nil` when they
        /// do not load or one that is loaded now is gone (SIGHUP checks that against the schedules);
        /// with `swap`, they also replace the loaded ones.
        public var reloadWorkflows: @Sendable (_ swap: Bool) async -> Set<String>?
        /// True while the daemon stops: running runs finish, and meanwhile the API is read-only and
        /// webhooks are asked to come back (503 with `Retry-After`).
        public var stopping: @Sendable () -> Bool

        public init(
            store: any SchedulerStore, scheduler: Scheduler, workflows: @escaping @Sendable () -> Set<String>,
            token: String, traceURL: @escaping @Sendable (String) -> String?,
            metrics: @escaping @Sendable () async -> String, ready: @escaping @Sendable () async -> (Bool, String),
            environment: [String: String] = ProcessInfo.processInfo.environment, webhooks: WebhookLimits = .init(),
            reloadWorkflows: @escaping @Sendable (_ swap: Bool) async -> Set<String>? = { _ in nil },
            stopping: @escaping @Sendable () -> Bool = { false }
        ) {
            self.reloadWorkflows = reloadWorkflows
            self.stopping = stopping
            self.environment = environment
            self.webhooks = webhooks
            self.store = store
            self.scheduler = scheduler
            self.workflows = workflows
            self.token = token
            self.traceURL = traceURL
            self.metrics = metrics
            self.ready = ready
        }
    }

    let deps: Dependencies
    /// The largest request body accepted.
    static let maxBody = 1 << 20

    public init(_ dependencies: Dependencies) {
        self.deps = dependencies
    }

    /// The router with every route.
    public func router() -> Router<DaemonRequestContext> {
        let router = Router(context: DaemonRequestContext.self)
        let routes = RouteTable()
        router.add(middleware: ErrorMiddleware(routes: routes))
        router.get("healthz") { _, _ in JSONAnswer(["status": "ok"]) }
        router.get("readyz") { _, _ in
            let (ready, detail) = await deps.ready()
            return JSONAnswer(
                ["status": .string(ready ? "ready" : "not ready"), "detail": .string(detail)],
                status: ready ? .ok : .serviceUnavailable)
        }
        router.get("metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: await deps.metrics())))
        }
        let hooks = WebhookReceiver(deps)
        router.post("hooks/:hook") { request, context in
            try await hooks.receive(request, hook: try context.parameters.require("hook"))
        }
        let api = router.group("api/v1").add(middleware: BearerAuthMiddleware(token: deps.token))
            .add(middleware: StoppingMiddleware(stopping: deps.stopping))
        api.get("schedules") { _, _ in try await listSchedules() }
        api.post("schedules") { request, _ in try await createSchedule(request) }
        api.get("schedules/:id") { _, context in try await showSchedule(try context.parameters.require("id")) }
        api.delete("schedules/:id") { _, context in try await deleteSchedule(try context.parameters.require("id")) }
        api.post("schedules/:id/pause") { request, context in
            try await pause(try context.parameters.require("id"), request)
        }
        api.post("schedules/:id/resume") { _, context in try await resume(try context.parameters.require("id")) }
        api.post("schedules/:id/run") { request, context in
            try await runNow(try context.parameters.require("id"), request)
        }
        api.post("schedules/:id/secret/rotate") { request, context in
            try await rotateSecret(try context.parameters.require("id"), request)
        }
        api.post("apply") { request, _ in try await apply(request) }
        api.get("runs") { request, _ in try await listRuns(request) }
        api.get("runs/:id") { _, context in try await showRun(try context.parameters.require("id")) }
        api.post("runs/:id/cancel") { request, context in
            try await cancelRun(try context.parameters.require("id"), request)
        }
        routes.load(router.routes.map { ("\($0.path)", $0.method.rawValue) })
        return router
    }

    // MARK: - Schedules

    func listSchedules() async throws -> JSONAnswer {
        let schedules = try await deps.store.schedules()
        let latest = try await deps.store.latestRuns()
        let now = Date()
        let workflows = deps.workflows()
        return JSONAnswer([
            "schedules": .array(
                schedules.map { schedule in
                    var value = Representation.schedule(schedule, nextFires: 1, now: now)
                    if let problem = Self.problem(schedule, workflows: workflows) {
                        value["problem"] = .string(problem)
                    }
                    value["last_run"] =
                        latest[schedule.id].map {
                            .object(Representation.run($0, traceURL: deps.traceURL, detail: false))
                        }
                        ?? .null
                    return .object(value)
                })
        ])
    }

    func createSchedule(_ request: Request) async throws -> JSONAnswer {
        var definition: ScheduleDefinition = try await decode(request) {
            try Self.refuseUnknown($0, ScheduleDefinition.fields)
        }
        let workflows = await loadWorkflows(named: [definition.workflow], swap: true)
        // Without a name, the workflow's (also when it is not loaded: then the refusal is about the
        // workflow alone, not a name nobody had to give).
        if definition.name == nil, let workflow = definition.workflow,
            workflow.range(of: ScheduleDefinition.namePattern, options: .regularExpression) != nil
        {
            definition.name = try await freeName(after: workflow)
        }
        if let name = definition.name, try await deps.store.schedule(named: name) != nil {
            throw APIError(
                status: .conflict,
                message: "a schedule named \"\(name)\" exists already; pick another name or rm it first")
        }
        let record: ScheduleRecord
        let secret: String?
        switch definition.validate(workflows: workflows, environment: deps.environment) {
        case .failure(let problems): throw Self.invalid(problems.problems)
        case .success(let valid): (record, secret) = (valid.record, valid.secret)
        }
        do {
            try await deps.store.insertSchedule(record)
        } catch let error as StorageError where error.code == .duplicateName {
            throw APIError(status: .conflict, message: error.message)
        }
        try await deps.scheduler.scheduleChanged(id: record.id)
        var value = Representation.schedule(record, nextFires: 1)
        if let secret { value["webhook_secret"] = .string(secret) }
        return JSONAnswer(.object(value), status: .created)
    }

    func showSchedule(_ key: String) async throws -> JSONAnswer {
        let schedule = try await find(key)
        var value = Representation.schedule(schedule, nextFires: 5)
        if let problem = Self.problem(schedule, workflows: deps.workflows()) { value["problem"] = .string(problem) }
        let runs = try await deps.store.runs(scheduleID: schedule.id, limit: 10, before: nil)
        value["runs"] = .array(runs.map { .object(Representation.run($0, traceURL: deps.traceURL, detail: false)) })
        return JSONAnswer(.object(value))
    }

    func deleteSchedule(_ key: String) async throws -> JSONAnswer {
        let schedule = try await find(key)
        _ = try await deps.store.deleteSchedule(id: schedule.id)
        await deps.scheduler.scheduleRemoved(id: schedule.id)
        return JSONAnswer(["deleted": .string(schedule.id), "name": .string(schedule.name)])
    }

    func pause(_ key: String, _ request: Request) async throws -> JSONAnswer {
        struct Body: Decodable { var note: String? }
        let body: Body? = try await decodeOptional(request) { try Self.refuseUnknown($0, ["note"]) }
        let noteLimit = ScheduleDefinition.textLimits["pause_note"] ?? 1024
        if let note = body?.note, note.count > noteLimit {
            throw APIError.badRequest("note is \(note.count) characters long; at most \(noteLimit) are allowed")
        }
        var schedule = try await find(key)
        schedule.paused = true
        schedule.pauseNote = body?.note
        schedule.updatedAt = Date()
        try await deps.store.updateSchedule(schedule)
        try await deps.scheduler.scheduleChanged(id: schedule.id)
        return JSONAnswer(.object(Representation.schedule(schedule)))
    }

    func resume(_ key: String) async throws -> JSONAnswer {
        var schedule = try await find(key)
        guard schedule.paused else {
            // Nothing to do, and the answer says so: `"resumed": false`.
            var value = Representation.schedule(schedule, nextFires: 1)
            value["resumed"] = false
            value["message"] = .string("schedule \(schedule.name) was not paused")
            return JSONAnswer(.object(value))
        }
        schedule.paused = false
        schedule.pauseNote = nil
        // Fires while paused are not caught up: the schedule starts again from now.
        schedule.lastFireSeconds = Int64(Date().timeIntervalSince1970.rounded(.down))
        if schedule.remainingRuns == 0 { schedule.remainingRuns = nil }
        schedule.updatedAt = Date()
        try await deps.store.updateSchedule(schedule)
        try await deps.scheduler.scheduleChanged(id: schedule.id)
        var value = Representation.schedule(schedule, nextFires: 1)
        value["resumed"] = true
        return JSONAnswer(.object(value))
    }

    func runNow(_ key: String, _ request: Request) async throws -> JSONAnswer {
        struct Body: Decodable { var input: JSONValue? }
        let body: Body? = try await decodeOptional(request) { try Self.refuseUnknown($0, ["input"]) }
        let schedule = try await find(key)
        var input = (try? JSONValue(json: Data(schedule.inputJSON.utf8)).objectValue) ?? [:]
        if let extra = body?.input {
            guard let members = extra.objectValue else {
                throw APIError.badRequest("input must be a JSON object, not \(extra.typeName)")
            }
            for (key, value) in members { input[key] = value }
        }
        let run = RunRecord(
            scheduleID: schedule.id, workflow: schedule.workflow, trigger: "manual",
            inputJSON: JSONValue.object(input).jsonText)
        guard let stored = try await deps.scheduler.submit(run) else {
            throw APIError(status: .conflict, message: "the run was already submitted")
        }
        var value: [String: JSONValue] = [
            "run_id": .string(stored.id), "trace_id": stored.traceID.map { .string($0) } ?? .null,
            "state": .string(stored.state.rawValue),
        ]
        if let trace = stored.traceID, let url = deps.traceURL(trace) { value["trace_url"] = .string(url) }
        return JSONAnswer(.object(value), status: .accepted)
    }

    /// A new webhook secret, shown once; the old one keeps working for the grace period (default 24h)
    /// so that the sender can be switched over without lost deliveries.
    func rotateSecret(_ key: String, _ request: Request) async throws -> JSONAnswer {
        struct Body: Decodable { var grace: String? }
        let body: Body? = try await decodeOptional(request) { try Self.refuseUnknown($0, ["grace"]) }
        var schedule = try await find(key)
        guard schedule.webhook, let scheme = schedule.webhookScheme else {
            throw APIError.badRequest("schedule \(schedule.name) has no webhook trigger, so no secret")
        }
        if let variable = schedule.webhookSecretEnv {
            throw APIError.badRequest(
                "the secret of \(schedule.name) comes from \(variable) in the daemon's environment; change it there")
        }
        let graceText = body?.grace ?? "24h"
        guard let grace = DurationText.parse(graceText), grace <= .seconds(30 * 86_400) else {
            throw APIError.badRequest("grace \"\(graceText)\" must be a duration up to 30d, like 24h (0s: none)")
        }
        let secret = WebhookSecret.make(scheme)
        let now = Date()
        let graceSeconds = Double(grace.components.seconds)
        schedule.webhookPreviousSecret = graceSeconds > 0 ? schedule.webhookSecret : nil
        schedule.webhookPreviousUntil = graceSeconds > 0 ? now.addingTimeInterval(graceSeconds) : nil
        schedule.webhookSecret = WebhookSecret.stored(secret, scheme: scheme)
        schedule.updatedAt = now
        try await deps.store.updateSchedule(schedule)
        try await deps.scheduler.scheduleChanged(id: schedule.id)
        var value = Representation.schedule(schedule)
        value["webhook_secret"] = .string(secret)
        return JSONAnswer(.object(value))
    }

    func apply(_ request: Request) async throws -> JSONAnswer {
        struct Item: Decodable {
            var source: String
            var schedule: ScheduleDefinition
        }
        struct Body: Decodable {
            var schedules: [Item]
            var prune: Bool?
            var dryRun: Bool?
            /// The directory the files are in; pruning stays inside it.
            var directory: String?
            enum CodingKeys: String, CodingKey {
                case schedules, prune, directory
                case dryRun = "dry_run"
            }
        }
        let body: Body = try await decode(request) { value in
            try Self.refuseUnknown(value, ["schedules", "prune", "dry_run", "directory"])
            for (index, item) in (value["schedules"]?.arrayValue ?? []).enumerated() {
                try Self.refuseUnknown(item, ["source", "schedule"], at: "schedules[\(index)].")
                try Self.refuseUnknown(item["schedule"], ScheduleDefinition.fields, at: "schedules[\(index)].schedule.")
            }
        }
        let workflows = await loadWorkflows(
            named: body.schedules.map(\.schedule.workflow), swap: !(body.dryRun ?? false))
        let existing = try await deps.store.schedules()
        let plan: SchedulePlan
        switch SchedulePlan.make(
            desired: body.schedules.map { .init(definition: $0.schedule, source: $0.source) }, existing: existing,
            workflows: workflows, prune: body.prune ?? false, directory: body.directory,
            environment: deps.environment)
        {
        case .failure(let problems):
            throw APIError.badRequest(
                "the schedules are not valid; nothing was applied",
                problems: problems.problems.map {
                    [
                        "source": .string($0.source), "field": .string($0.problem.field),
                        "message": .string($0.problem.message),
                    ]
                })
        case .success(let valid): plan = valid
        }
        let dryRun = body.dryRun ?? false
        if !dryRun && !plan.isEmpty {
            try await deps.store.applySchedules(
                insert: plan.creates, update: plan.updates, delete: plan.deletes.map(\.id))
            try await deps.scheduler.reload()
        }
        func names(_ records: [ScheduleRecord]) -> JSONValue { .array(records.map { .string($0.name) }) }
        var value: [String: JSONValue] = [
            "create": names(plan.creates), "update": names(plan.updates), "delete": names(plan.deletes),
            "unchanged": names(plan.unchanged), "applied": .bool(!dryRun),
        ]
        if !dryRun && !plan.secrets.isEmpty {
            value["webhook_secrets"] = .object(plan.secrets.mapValues { .string($0) })
        }
        return JSONAnswer(.object(value))
    }

    // MARK: - Runs

    /// Loads the workflows again when one of these names is not loaded, so a workflow file added
    /// beside the others is found without a SIGHUP.
    /// - Parameter swap: false for a dry run: the names are read, nothing is replaced.
    /// - Returns: the workflow names to check the schedules against.
    func loadWorkflows(named names: [String?], swap: Bool) async -> Set<String> {
        let loaded = deps.workflows()
        guard names.contains(where: { $0.map { !$0.isEmpty && !loaded.contains($0) } ?? false }) else {
            return loaded
        }
        return await deps.reloadWorkflows(swap) ?? loaded
    }

    /// A name for a schedule added without one: the workflow's, or with `-2`, `-3`, … when taken.
    func freeName(after workflow: String) async throws -> String {
        let base = String(workflow.prefix(56))
        var n = 1
        while true {
            let name = n == 1 ? base : "\(base)-\(n)"
            if try await deps.store.schedule(named: name) == nil { return name }
            n += 1
        }
    }

    func listRuns(_ request: Request) async throws -> JSONAnswer {
        let query = request.uri.queryParameters
        var scheduleID: String?
        if let key = query["schedule"].map(String.init) { scheduleID = try await find(key).id }
        let limitText = query["limit"].map(String.init) ?? "20"
        guard let limit = Int(limitText), (1...1000).contains(limit) else {
            throw APIError.badRequest("limit \"\(limitText)\" must be a whole number from 1 to 1000")
        }
        let runs = try await deps.store.runs(
            scheduleID: scheduleID, limit: limit, before: query["before"].map(String.init))
        return JSONAnswer([
            "runs": .array(runs.map { .object(Representation.run($0, traceURL: deps.traceURL, detail: false)) })
        ])
    }

    /// Cancels a running or queued run: 202 while a running one is being stopped, 200 for a queued
    /// one (stored `cancelled` at once), 409 for a run that ended already.
    func cancelRun(_ id: String, _ request: Request) async throws -> JSONAnswer {
        struct Body: Decodable { var reason: String? }
        let body: Body? = try await decodeOptional(request) { try Self.refuseUnknown($0, ["reason"]) }
        if let reason = body?.reason, reason.count > 1024 {
            throw APIError.badRequest("reason is \(reason.count) characters long; at most 1024 are allowed")
        }
        let reason = "cancelled through the API" + (body?.reason.map { ": \($0)" } ?? "")
        switch try await deps.scheduler.cancel(runID: id, reason: reason) {
        case .cancelling:
            return JSONAnswer(["run_id": .string(id), "state": "cancelling"], status: .accepted)
        case .cancelledBeforeStart:
            return JSONAnswer(["run_id": .string(id), "state": "cancelled"])
        case .alreadyFinished(let state):
            throw APIError(
                status: .conflict, message: "run \(id) already ended (\(state.rawValue)); there is nothing to cancel")
        case .notFound:
            throw APIError.notFound("no run with id \(id.prefix(200))")
        }
    }

    func showRun(_ id: String) async throws -> JSONAnswer {
        guard let run = try await deps.store.run(id: id) else {
            throw APIError.notFound("no run with id \(id)")
        }
        return JSONAnswer(.object(Representation.run(run, traceURL: deps.traceURL, detail: true)))
    }

    // MARK: - Helpers

    /// What keeps a stored schedule from running, as `list`, `show` and the API say it: its workflow
    /// is not loaded (its file was deleted or broke, and SIGHUP read the directory without it).
    public static func problem(_ schedule: ScheduleRecord, workflows: Set<String>) -> String? {
        workflows.contains(schedule.workflow) ? nil : "workflow \"\(schedule.workflow)\" is not loaded"
    }

    /// A schedule by id or by name.
    func find(_ key: String) async throws -> ScheduleRecord {
        if let schedule = try await deps.store.schedule(id: key) { return schedule }
        if let schedule = try await deps.store.schedule(named: key) { return schedule }
        let names = try await deps.store.schedules().map(\.name)
        let hint = Suggestion.phrase(key, among: names).map { "; " + $0 } ?? ""
        throw APIError.notFound("no schedule with id or name \"\(key.prefix(200))\"\(hint)")
    }

    /// The request body, up to ``maxBody`` bytes.
    func body(_ request: Request) async throws -> ByteBuffer {
        var request = request
        do {
            return try await request.collectBody(upTo: Self.maxBody)
        } catch {
            throw APIError(status: .contentTooLarge, message: "the request body is over \(Self.maxBody) bytes")
        }
    }

    /// The body as `T`; `check` sees it first as JSON (to refuse fields `T` would drop).
    func decode<T: Decodable>(_ request: Request, check: (JSONValue) throws -> Void = { _ in }) async throws -> T {
        let buffer = try await body(request)
        if let value = try? JSONValue(json: Data(buffer.readableBytesView)) { try check(value) }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw APIError.badRequest(
                "field \(Self.path(context.codingPath)) has the wrong type: \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, context) {
            throw APIError.badRequest("field \(Self.path(context.codingPath + [key])) is missing")
        } catch {
            throw APIError.badRequest("the request body is not valid JSON")
        }
    }

    func decodeOptional<T: Decodable>(_ request: Request, check: (JSONValue) throws -> Void = { _ in }) async throws
        -> T?
    {
        let buffer = try await body(request)
        guard buffer.readableBytes > 0 else { return nil }
        if let value = try? JSONValue(json: Data(buffer.readableBytesView)) { try check(value) }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest("the request body is not valid JSON for this route")
        }
    }

    /// Refuses an object field outside `known`: a misspelt one (`timezone`) would otherwise be dropped
    /// and its default stored without a word.
    static func refuseUnknown(_ value: JSONValue?, _ known: Set<String>, at prefix: String = "") throws {
        guard let object = value?.objectValue else { return }
        let unknown = object.keys.filter { !known.contains($0) }.sorted()
        guard let first = unknown.first else { return }
        throw APIError.badRequest(
            "unknown field \"\(prefix)\(first)\"\(unknown.count > 1 ? " (and \(unknown.count - 1) more)" : ""); "
                + "the fields here are \(known.sorted().joined(separator: ", "))")
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "(body)" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    static func invalid(_ problems: [ScheduleDefinition.Problem]) -> APIError {
        APIError.badRequest(
            problems.map(\.description).joined(separator: "; "),
            problems: problems.map { ["field": .string($0.field), "message": .string($0.message)] })
    }
}
