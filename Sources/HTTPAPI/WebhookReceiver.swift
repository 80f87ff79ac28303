import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Scheduling
import Storage
import Support
import Synchronization
import Workflows

/// Limits on webhook requests.
public struct WebhookLimits: Sendable {
    /// The largest body accepted; a larger one gets 413 before more of it is read.
    public var maxBody: Int
    /// Requests per second each hook accepts on average (a token bucket), and how many may come at once.
    public var ratePerSecond: Double
    public var burst: Int
    /// The longest `?wait=` a caller may ask for.
    public var maxWait: Duration
    /// How far a Standard Webhooks timestamp may be from the daemon's clock, either way.
    public var timestampTolerance: TimeInterval

    public init(
        maxBody: Int = 1 << 20, ratePerSecond: Double = 50, burst: Int = 100, maxWait: Duration = .seconds(60),
        timestampTolerance: TimeInterval = 300
    ) {
        self.maxBody = max(1, maxBody)
        self.ratePerSecond = max(0.001, ratePerSecond)
        self.burst = max(1, burst)
        self.maxWait = maxWait
        self.timestampTolerance = timestampTolerance
    }
}

/// A token bucket per hook: `burst` requests at once, refilled at `rate` per second.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let rate: Double
    private let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    init(rate: Double, burst: Int) {
        self.rate = rate
        self.burst = Double(burst)
    }

    /// Takes a token for `key` (with `consume: false`, only checks that one is there); when none is
    /// left, the whole seconds until one is.
    func take(_ key: String, consume: Bool = true, now: ContinuousClock.Instant = .now) -> Int? {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + seconds * rate)
            bucket.updated = now
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))) }
            if consume { bucket.tokens -= 1 }
            return nil
        }
    }
}

/// `POST /hooks/{schedule id or name}`: checks the request (size, content type, signature over the raw
/// body, the sender's delivery id), then stores the run and answers 202 `{"run_id", "trace_id"}` once it
/// is committed. A delivery id seen before answers 200 with the first run and `"duplicate": true`.
/// Every refusal stores nothing.
struct WebhookReceiver: Sendable {
    let deps: AdminAPI.Dependencies
    let limiter: RateLimiter

    init(_ deps: AdminAPI.Dependencies) {
        self.deps = deps
        self.limiter = RateLimiter(rate: deps.webhooks.ratePerSecond, burst: deps.webhooks.burst)
    }

    /// Headers a workflow sees as `trigger.headers`; never credentials or signatures.
    static let forwardedHeaders = [
        "content-type", "user-agent", "x-github-event", "x-github-delivery", "x-github-hook-id", "x-gitlab-event",
        "x-gitlab-event-uuid", "x-gitlab-instance", "webhook-id", "webhook-timestamp", "idempotency-key",
        "x-request-id",
    ]

    /// Where senders put their delivery id, in the order they are looked for.
    static let deliveryHeaders = ["webhook-id", "x-github-delivery", "idempotency-key", "x-gitlab-event-uuid"]

    enum Payload {
        case json, form, text
    }

    func receive(_ request: Request, hook: String) async throws -> JSONAnswer {
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
        for name in Self.forwardedHeaders {
            if let field = HTTPField.Name(name), let value = request.headers[field] { headers[name] = .string(value) }
        }
        var input =
            schedule.inputJSON == "{}" ? [:] : (try? JSONValue(json: Data(schedule.inputJSON.utf8)).objectValue) ?? [:]
        input["trigger"] = .object([
            "payload": payload, "headers": .object(headers), "delivery_id": deliveryID.map { .string($0) } ?? .null,
        ])
        let run = RunRecord(
            scheduleID: schedule.id, workflow: schedule.workflow, trigger: "webhook",
            dedupeKey: deliveryID.map { "hook:" + $0 }, inputJSON: JSONValue.object(input).jsonText,
            payload: Data(body))
        guard let stored = try await deps.scheduler.submit(run, overlap: schedule.overlap) else {
            return try await duplicate(schedule, deliveryID: deliveryID ?? "", body: body)
        }
        var value: [String: JSONValue] = [
            "run_id": .string(stored.id), "trace_id": stored.traceID.map { .string($0) } ?? .null,
            "state": .string(stored.state.rawValue),
        ]
        if let reason = stored.error { value["reason"] = .string(reason) }
        if let wait, stored.state == .queued {
            if let finished = try await waitForEnd(stored.id, wait) {
                var answer = Representation.run(finished, traceURL: deps.traceURL, detail: true)
                answer["run_id"] = .string(finished.id)
                return JSONAnswer(.object(answer), status: .ok)
            }
        }
        return JSONAnswer(.object(value), status: .accepted)
    }

    // MARK: - Checks

    func checkRate(_ schedule: ScheduleRecord, consume: Bool) throws {
        guard let retry = limiter.take(schedule.id, consume: consume) else { return }
        throw APIError(
            status: .tooManyRequests,
            message: "too many requests for this webhook (\(Self.rate(deps.webhooks)) per second); retry in \(retry) s",
            headers: [.retryAfter: String(retry)])
    }

    func findHook(_ key: String) async throws -> ScheduleRecord? {
        // The scheduler holds every schedule once it has loaded them (schedules added later are
        // installed before their 201); until then the store answers. An unknown hook costs no read.
        var schedule = deps.scheduler.schedule(key)
        if schedule == nil, !deps.scheduler.loaded {
            schedule = try await deps.store.schedule(named: key)
            if schedule == nil, key.hasPrefix("sch_") { schedule = try await deps.store.schedule(id: key) }
        }
        guard let schedule, schedule.webhook else { return nil }
        return schedule
    }

    static func rate(_ limits: WebhookLimits) -> String {
        limits.ratePerSecond == limits.ratePerSecond.rounded()
            ? String(Int(limits.ratePerSecond)) : String(limits.ratePerSecond)
    }

    static func payloadKind(_ contentType: String?) throws -> Payload {
        // The media type before any parameters, without surrounding spaces, in lowercase (ASCII).
        var media: String?
        if let contentType {
            let bytes = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }
            let trimmed = bytes.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }
                .reversed()
            media = String(decoding: trimmed.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }, as: UTF8.self)
        }
        switch media {
        case "application/json": return .json
        case let type? where type.hasPrefix("application/") && type.hasSuffix("+json"): return .json
        case "application/x-www-form-urlencoded": return .form
        case "text/plain": return .text
        default:
            throw APIError(
                status: .unsupportedMediaType,
                message:
                    "content type \"\(contentType ?? "")\" is not accepted; send application/json, application/x-www-form-urlencoded or text/plain"
            )
        }
    }

    /// The payload as the workflow sees it: JSON as it is, a form as an object of strings (a list
    /// where a field repeats), text as a string.
    static func decodePayload(_ body: [UInt8], kind: Payload) throws -> JSONValue {
        switch kind {
        case .json:
            guard !body.isEmpty else { throw APIError.badRequest("the body is empty; a JSON content type needs JSON") }
            do {
                return try JSONValue(json: Data(body), maxDepth: JSONValue.maximumInputDepth)
            } catch let error as JSONSyntaxError where error.tooDeep {
                throw APIError.badRequest(
                    "the body nests deeper than \(JSONValue.maximumInputDepth) levels; flatten it")
            } catch {
                throw APIError.badRequest("the body is not valid JSON (the content type says it is)")
            }
        case .text:
            guard let text = String(validating: body, as: UTF8.self) else {
                throw APIError.badRequest("the body is not valid UTF-8 text")
            }
            return .string(text)
        case .form:
            guard let text = String(validating: body, as: UTF8.self) else {
                throw APIError.badRequest("the form body is not valid UTF-8")
            }
            var fields: [String: JSONValue] = [:]
            for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let key = formDecode(parts[0]), let value = formDecode(parts.count > 1 ? parts[1] : "") else {
                    throw APIError.badRequest("the form body has a bad %-escape in \"\(pair.prefix(80))\"")
                }
                switch fields[key] {
                case nil: fields[key] = .string(value)
                case .array(let list)?: fields[key] = .array(list + [.string(value)])
                case let first?: fields[key] = .array([first, .string(value)])
                }
            }
            return .object(fields)
        }
    }

    /// True when the content type is exactly `application/x-www-form-urlencoded` (what `curl -d`
    /// sends by default, without parameters) and the body is a JSON object or list that is not a
    /// form: some `&`-separated part has no `=`. Read as a form, `{"message":"hi"}` would become one
    /// key with an empty value and the run would "succeed" on nonsense.
    static func isJSONSentAsCurlForm(_ body: [UInt8], contentType: String?) -> Bool {
        guard contentType == "application/x-www-form-urlencoded",
            let first = body.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }),
            first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
        else { return false }
        let pairs = body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true)
        guard pairs.contains(where: { !$0.contains(UInt8(ascii: "=")) }) else { return false }
        return (try? JSONValue(json: Data(body), maxDepth: JSONValue.maximumInputDepth)) != nil
    }

    static func formDecode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// The sender's delivery id, if it gave one: printable ASCII, at most 200 characters.
    static func deliveryID(_ headers: HTTPFields) throws -> String? {
        for name in deliveryHeaders {
            guard let field = HTTPField.Name(name), let value = headers[field] else { continue }
            guard (1...200).contains(value.utf8.count), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw APIError.badRequest("\(name) must be 1-200 printable characters without spaces")
            }
            return value
        }
        return nil
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

    /// The secrets a request may be signed with: the current one and, during its grace period, the one
    /// before the last rotation.
    func secrets(_ schedule: ScheduleRecord) throws -> [String] {
        if let variable = schedule.webhookSecretEnv {
            guard let value = deps.environment[variable], !value.isEmpty else {
                throw APIError(
                    status: .serviceUnavailable,
                    message:
                        "this webhook's secret comes from \(variable), which is not set in the daemon's environment")
            }
            return [value]
        }
        var secrets = schedule.webhookSecret.map { [$0] } ?? []
        if let previous = schedule.webhookPreviousSecret, let until = schedule.webhookPreviousUntil, until > Date() {
            secrets.append(previous)
        }
        return secrets
    }

    func verify(_ schedule: ScheduleRecord, headers: HTTPFields, body: [UInt8]) throws {
        let secrets = try secrets(schedule)
        func refuse(_ message: String) -> APIError { APIError(status: .unauthorized, message: message) }
        switch schedule.webhookScheme ?? .github {
        case .github:
            guard let header = headers[.hubSignature] else {
                throw refuse("missing X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>")
            }
            guard header.hasPrefix("sha256="), let given = WebhookSecret.unhex(String(header.dropFirst(7))),
                given.count == 32
            else {
                throw refuse("X-Hub-Signature-256 must be sha256= and 64 hex digits")
            }
            let valid = secrets.contains { secret in
                HMAC<SHA256>.isValidAuthenticationCode(
                    given, authenticating: body, using: SymmetricKey(data: Data(secret.utf8)))
            }
            guard valid else { throw refuse("the signature does not match the body") }
        case .standard:
            guard let id = headers[.webhookID],
                let stamp = headers[.webhookTimestamp],
                let signatures = headers[.webhookSignature]
            else {
                throw refuse("missing webhook-id, webhook-timestamp or webhook-signature (Standard Webhooks)")
            }
            guard let seconds = Int64(stamp) else { throw refuse("webhook-timestamp must be whole Unix seconds") }
            switch Self.timestampSkew(seconds, now: Date(), tolerance: deps.webhooks.timestampTolerance) {
            case .within: break
            case .stale(let age, let tolerance):
                throw refuse("webhook-timestamp is \(age) s old; at most \(tolerance) s is accepted")
            case .future(let ahead, let tolerance):
                throw refuse("webhook-timestamp is \(ahead) s in the future; at most \(tolerance) s is accepted")
            }
            let signed = Array("\(id).\(stamp).".utf8) + body
            let given = signatures.split(separator: " ").compactMap { item -> Data? in
                guard item.hasPrefix("v1,") else { return nil }
                return Data(base64Encoded: String(item.dropFirst(3)))
            }
            guard !given.isEmpty else { throw refuse("webhook-signature has no v1,<base64> signature") }
            let valid = secrets.contains { secret in
                let key = WebhookSecret.standardKey(secret)
                return given.contains { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: signed, using: key) }
            }
            guard valid else { throw refuse("no signature in webhook-signature matches id.timestamp.body") }
        case .token:
            var token: String?
            if let authorization = headers[.authorization].flatMap(bearerToken) {
                token = authorization
            } else if let gitlab = headers[.gitlabToken] {
                token = gitlab
            }
            guard let token else { throw refuse("missing Authorization: Bearer <token> or X-Gitlab-Token") }
            let valid = secrets.contains { WebhookSecret.tokenMatches(token, stored: $0) }
            guard valid else { throw refuse("the token is not valid for this webhook") }
        }
    }

    /// Where a Standard Webhooks timestamp lies against the daemon's clock, in whole seconds.
    enum TimestampSkew: Equatable {
        case within
        /// `age` seconds in the past (clamped to `Int64.max`), more than `tolerance`.
        case stale(age: Int64, tolerance: Int64)
        /// `ahead` seconds in the future (clamped), more than `tolerance`.
        case future(ahead: Int64, tolerance: Int64)
    }

    /// Compares a sender's `webhook-timestamp` with `now` in integers with checked arithmetic, so any
    /// timestamp (`Int64.min` included) is an answer and never a trap.
    static func timestampSkew(_ seconds: Int64, now: Date, tolerance: TimeInterval) -> TimestampSkew {
        let nowSeconds = Int64(clamping: Int(now.timeIntervalSince1970.rounded(.down)))
        let allowed = tolerance.isFinite ? Int64(clamping: Int(max(0, min(tolerance, 1e15)))) : 0
        let (skew, overflow) = nowSeconds.subtractingReportingOverflow(seconds)
        if overflow {
            // Only a timestamp near Int64.min or Int64.max gets here: the far past or far future.
            return seconds < 0
                ? .stale(age: .max, tolerance: allowed) : .future(ahead: .max, tolerance: allowed)
        }
        if skew > allowed { return .stale(age: skew, tolerance: allowed) }
        if skew < -allowed { return .future(ahead: skew == .min ? .max : -skew, tolerance: allowed) }
        return .within
    }

    // MARK: - Answers

    /// A delivery id seen before: the first run, or 409 when the id came with a different body.
    func duplicate(_ schedule: ScheduleRecord, deliveryID: String, body: [UInt8]) async throws -> JSONAnswer {
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
            [
                "run_id": .string(first.id), "trace_id": first.traceID.map { .string($0) } ?? .null,
                "state": .string(first.state.rawValue), "duplicate": true,
            ], status: .ok)
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

extension HTTPField.Name {
    /// GitHub's signature header: `sha256=` and the hex HMAC-SHA256 of the body.
    static let hubSignature = Self("X-Hub-Signature-256")!
    /// Standard Webhooks' message id, also the delivery id.
    static let webhookID = Self("webhook-id")!
    /// Standard Webhooks' Unix seconds of sending.
    static let webhookTimestamp = Self("webhook-timestamp")!
    /// Standard Webhooks' space-separated `v1,<base64>` signatures.
    static let webhookSignature = Self("webhook-signature")!
    /// GitLab's shared token.
    static let gitlabToken = Self("X-Gitlab-Token")!
}
