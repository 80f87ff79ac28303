import Foundation
import Hummingbird
import Scheduling
import Storage

/// The daemon's HTTP interface (the README's "Admin API"): health, readiness and metrics without a
/// token; webhooks at `/hooks/{name}`; the admin API under `/api/v1` with
/// `Authorization: Bearer <token>`; the status pages at `/` for a browser logged in with the same
/// token (``PageRoutes``). Every API answer is JSON (one of the `SchedulerAPI` wire types);
/// every refusal is `{"error": {"message": …}}` with a status that says what kind of problem it is,
/// and changes nothing.
///
/// ```swift
/// let api = AdminAPI(.init(schedules: service, scheduler: scheduler, workflows: { names }, token: token, …))
/// let app = Application(router: api.router(), configuration: .init(address: .hostname("127.0.0.1", port: 8088)))
/// ```
public struct AdminAPI: Sendable {
    /// What the API needs from the rest of the daemon.
    public struct Dependencies: Sendable {
        /// Where schedules change: every admin route that changes one goes through it.
        public var schedules: ScheduleService
        /// The scheduler runs are submitted to and cancelled in, and webhooks look schedules up in.
        public var scheduler: Scheduler
        /// The names of the loaded workflows (they change on SIGHUP).
        public var workflows: @Sendable () -> Set<String>
        /// The admin token.
        public var token: String
        /// A link to a trace in the MLflow UI, when tracing is on.
        public var traceURL: @Sendable (String) -> String?
        /// Prometheus text for `/metrics`.
        public var metrics: @Sendable () async -> String
        /// Whether the daemon is ready to fire (the store answers, the scheduler runs), and why.
        public var ready: @Sendable () async -> (Bool, String)
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
        /// What "now" is for answers (next fires) and webhooks (timestamps, a rotated secret's grace).
        public var clock: any WallClock
        /// This daemon's id among the instances sharing the store (`GET /api/v1/instances` marks it).
        public var instanceID: String?
        /// The URL users reach the daemon at (`--public-url`), without a trailing slash: the pages
        /// write webhook URLs with it, and mark their cookies Secure when it is https.
        public var publicURL: String?
        /// Where the trace export stands, for the overview page; `nil` when tracing is off.
        public var traceExport: @Sendable () -> TraceExportState?

        /// Where schedules and runs are read.
        var store: any SchedulerStore { schedules.store }

        /// The daemon's parts for the API.
        public init(
            schedules: ScheduleService, scheduler: Scheduler, workflows: @escaping @Sendable () -> Set<String>,
            token: String, traceURL: @escaping @Sendable (String) -> String?,
            metrics: @escaping @Sendable () async -> String, ready: @escaping @Sendable () async -> (Bool, String),
            webhooks: WebhookLimits = .init(),
            reloadWorkflows: @escaping @Sendable (_ swap: Bool) async -> Set<String>? = { _ in nil },
            stopping: @escaping @Sendable () -> Bool = { false }, clock: any WallClock = SystemWallClock(),
            instanceID: String? = nil, publicURL: String? = nil,
            traceExport: @escaping @Sendable () -> TraceExportState? = { nil }
        ) {
            self.instanceID = instanceID
            self.publicURL = publicURL
            self.traceExport = traceExport
            self.schedules = schedules
            self.scheduler = scheduler
            self.workflows = workflows
            self.token = token
            self.traceURL = traceURL
            self.metrics = metrics
            self.ready = ready
            self.webhooks = webhooks
            self.reloadWorkflows = reloadWorkflows
            self.stopping = stopping
            self.clock = clock
        }

        /// The workflow names to check schedules against: the loaded ones, read again from the
        /// directory when one of `names` is not loaded, so a workflow file added beside the others is
        /// found without a SIGHUP.
        /// - Parameter swap: false for a dry run: the names are read, nothing is replaced.
        func loadWorkflows(named names: [String?], swap: Bool) async -> Set<String> {
            let loaded = workflows()
            guard names.contains(where: { $0.map { !$0.isEmpty && !loaded.contains($0) } ?? false }) else {
                return loaded
            }
            return await reloadWorkflows(swap) ?? loaded
        }
    }

    let deps: Dependencies
    /// The time zone the status pages write times in.
    let pageZone: TimeZone

    /// The API over the daemon's parts.
    /// - Parameter pageZone: the zone of the times on the status pages (the daemon's own by default).
    public init(_ dependencies: Dependencies, pageZone: TimeZone = .current) {
        self.deps = dependencies
        self.pageZone = pageZone
    }

    /// The router with every route. Each area answers refusals in its own way: the admin API with
    /// ``APIErrorMiddleware`` (its routes only), webhooks with theirs, and a request no route matches
    /// gets 404, or 405 with `Allow` for a known path.
    public func router() -> Router<DaemonRequestContext> {
        let router = Router(context: DaemonRequestContext.self)
        router.addRoutes(HealthRoutes(deps: deps).collection)
        router.addRoutes(WebhookRoutes(deps).collection, atPath: "hooks")
        router.addRoutes(PageRoutes(deps: deps, zone: pageZone).collection)
        let api = router.group("api/v1")
            .add(middleware: APIErrorMiddleware())
            .add(middleware: BearerAuthMiddleware(token: deps.token))
            .add(middleware: StoppingMiddleware(stopping: deps.stopping))
        api.addRoutes(ScheduleRoutes(deps: deps).collection)
        api.addRoutes(RunRoutes(deps: deps).collection, atPath: "runs")
        api.addRoutes(InstanceRoutes(deps: deps).collection, atPath: "instances")
        api.addRoutes(AlertRoutes(deps: deps).collection, atPath: "alerts")
        // Added last, so that it wraps only the answer to a request no route matched.
        let table = RouteTable(router.routes.map { ("\($0.path)", $0.method.rawValue) })
        router.add(middleware: UnmatchedRouteMiddleware(routes: table))
        return router
    }
}
