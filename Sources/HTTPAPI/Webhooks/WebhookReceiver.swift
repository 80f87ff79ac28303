import Foundation
import HTTPTypes
import Hummingbird
import SchedulerAPI
import Scheduling
import Storage
import Support
import Workflows

/// `POST /hooks/{schedule name or id}`: checks the request (size, content type, signature over the
/// raw body, the sender's delivery id), then stores the run and answers 202 ``WebhookReceipt`` once it
/// is committed. A delivery id seen before answers 200 with the first run and `"duplicate": true`.
/// Every refusal stores nothing.
struct WebhookReceiver: Sendable {
    let deps: AdminAPI.Dependencies
    let limiter: RateLimiter

    init(_ deps: AdminAPI.Dependencies) {
        self.deps = deps
        self.limiter = RateLimiter(rate: deps.webhooks.ratePerSecond, burst: deps.webhooks.burst)
    }

    func receive(_ request: Request, hook: String, context: some RequestContext) async throws -> Response {
        let limits = deps.webhooks
        if deps.stopping() {
            throw APIError.stopping(
                "schedulerd is stopping; send the delivery again after Retry-After seconds", closeConnection: true)
        }
        guard let schedule = try await findHook(hook) else {
            throw APIError.notFound("no webhook \"\(hook)\"; schedules with a webhook trigger answer at /hooks/NAME")
        }
        // Over the rate: refused before the body is read. Only requests that pass the signature check
        // take a token, so a stranger's unsigned flood cannot use up the sender's allowance.
        try checkRate(schedule, consume: false)
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limits.maxBody {
            throw APIError(
                status: .contentTooLarge,
                message: "the body is \(length) bytes; webhooks take at most \(limits.maxBody)",
                closeConnection: true)
        }
        let kind = try Self.payloadKind(request.headers[.contentType])
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limits.maxBody)
        } catch {
            // Closing the connection is what stops the rest of the body from being read.
            throw APIError(
                status: .contentTooLarge, message: "the body is over \(limits.maxBody) bytes", closeConnection: true)
        }
        let body = Array(buffer.readableBytesView)
        try verify(schedule, headers: request.headers, body: body)
        try checkRate(schedule, consume: true)
        if schedule.paused {
            throw APIError(
                status: .conflict,
                message:
                    "schedule \(schedule.name) is paused\(schedule.pauseNote.map { " (\($0))" } ?? ""); resume it to accept deliveries"
            )
        }
        if kind == .form, Self.isJSONSentAsCurlForm(body, contentType: request.headers[.contentType]) {
            throw APIError(
                status: .unsupportedMediaType,
                message:
                    "the body is JSON but its content type is application/x-www-form-urlencoded (curl -d sends that "
                    + "unless told otherwise); send Content-Type: application/json")
        }
        let payload = try Self.decodePayload(body, kind: kind)
        let deliveryID = try Self.deliveryID(request.headers)
        let wait = try waitDuration(request)

        var headers: [String: JSONValue] = [:]
        for header in WebhookHeaders.forwarded {
            if let value = request.headers[header.name] { headers[header.text] = .string(value) }
        }
        var input =
            schedule.inputJSON == "{}" ? [:] : (try? JSONValue(json: Data(schedule.inputJSON.utf8)).objectValue) ?? [:]
        input["trigger"] = .object([
            "payload": payload, "headers": .object(headers), "delivery_id": deliveryID.map { .string($0) } ?? .null,
        ])
        let run = RunRecord(
            scheduleID: schedule.id, workflow: schedule.workflow, trigger: "webhook",
            dedupeKey: deliveryID.map { "hook:" + $0 }, queuedAt: deps.clock.now(),
            inputJSON: JSONValue.object(input).jsonText, payload: Data(body))
        guard let stored = try await deps.scheduler.submit(run, overlap: schedule.overlap) else {
            return try await duplicate(schedule, deliveryID: deliveryID ?? "", body: body)
                .response(from: request, context: context)
        }
        if let wait, stored.state == .queued, let finished = try await waitForEnd(stored.id, wait) {
            return try JSONAnswer(WebhookRunResult(run: Run(finished, traceURL: deps.traceURL, detail: true)))
                .response(from: request, context: context)
        }
        return try JSONAnswer(
            WebhookReceipt(
                runID: stored.id, traceID: stored.traceID, state: stored.state.rawValue, reason: stored.error
            ).jsonValue,
            status: .accepted
        ).response(from: request, context: context)
    }

    // MARK: - Checks

    func checkRate(_ schedule: ScheduleRecord, consume: Bool) throws {
        guard let retry = limiter.take(schedule.id, consume: consume) else { return }
        throw APIError(
            status: .tooManyRequests,
            message: "too many requests for this webhook (\(Self.rate(deps.webhooks)) per second); retry in \(retry) s",
            headers: [.retryAfter: String(retry)])
    }

    /// The schedule a hook names, when it has a webhook trigger. The scheduler holds every schedule
    /// once it has loaded them (schedules added later are installed before their 201); until then the
    /// store answers, in the same order (name, then id). An unknown hook then costs no read.
    func findHook(_ key: String) async throws -> ScheduleRecord? {
        var schedule = deps.scheduler.schedule(key)
        if schedule == nil, !deps.scheduler.loaded { schedule = try await deps.schedules.find(key) }
        guard let schedule, schedule.webhook else { return nil }
        return schedule
    }

    static func rate(_ limits: WebhookLimits) -> String {
        limits.ratePerSecond == limits.ratePerSecond.rounded()
            ? String(Int(limits.ratePerSecond)) : String(limits.ratePerSecond)
    }

    func waitDuration(_ request: Request) throws -> Duration? {
        guard let text = request.uri.queryParameters["wait"].map(String.init) else { return nil }
        guard let duration = DurationText.parse(text), duration >= .seconds(1), duration <= deps.webhooks.maxWait else {
            throw APIError.badRequest(
                "wait \"\(text)\" must be a duration from 1s to \(DurationText.format(deps.webhooks.maxWait)), like 30s"
            )
        }
        return duration
    }

    // MARK: - Answers

    /// A delivery id seen before: the first run, or 409 when the id came with a different body.
    func duplicate(_ schedule: ScheduleRecord, deliveryID: String, body: [UInt8]) async throws
        -> JSONAnswer<WebhookReceipt>
    {
        guard let first = try await deps.store.run(scheduleID: schedule.id, dedupeKey: "hook:" + deliveryID) else {
            throw APIError(status: .conflict, message: "delivery \(deliveryID) is being handled; retry later")
        }
        guard first.payload.map(Array.init) ?? [] == body else {
            throw APIError(
                status: .conflict,
                message:
                    "delivery id \(deliveryID) was used before with a different body; each delivery needs its own id")
        }
        return JSONAnswer(
            WebhookReceipt(runID: first.id, traceID: first.traceID, state: first.state.rawValue, duplicate: true))
    }

    /// Polls the run until it ends or `wait` passes.
    func waitForEnd(_ id: String, _ wait: Duration) async throws -> RunRecord? {
        let deadline = ContinuousClock.now + wait
        while ContinuousClock.now < deadline {
            if let run = try await deps.store.run(id: id), run.state.isFinal { return run }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }
}
