import Crypto
import Foundation
import HTTPTypes
import Scheduling
import Storage

/// Whether a delivery comes from the sender that knows the schedule's secret, for each scheme.
extension WebhookReceiver {
    /// The secrets a request may be signed with: the current one and, during its grace period, the one
    /// before the last rotation.
    func secrets(_ schedule: ScheduleRecord) throws -> [String] {
        if let variable = schedule.webhookSecretEnv {
            guard let value = deps.schedules.environment[variable], !value.isEmpty else {
                throw APIError(
                    status: .serviceUnavailable,
                    message:
                        "this webhook's secret comes from \(variable), which is not set in the daemon's environment")
            }
            return [value]
        }
        var secrets = schedule.webhookSecret.map { [$0] } ?? []
        if let previous = schedule.webhookPreviousSecret, let until = schedule.webhookPreviousUntil,
            until > deps.clock.now()
        {
            secrets.append(previous)
        }
        return secrets
    }

    func verify(_ schedule: ScheduleRecord, headers: HTTPFields, body: [UInt8]) throws {
        let secrets = try secrets(schedule)
        func refuse(_ message: String) -> APIError { APIError(status: .unauthorized, message: message) }
        switch schedule.webhookScheme ?? .github {
        case .github:
            guard let header = headers[webhook: WebhookHeaders.hubSignature] else {
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
            guard let id = headers[webhook: WebhookHeaders.webhookID],
                let stamp = headers[webhook: WebhookHeaders.webhookTimestamp],
                let signatures = headers[webhook: WebhookHeaders.webhookSignature]
            else {
                throw refuse("missing webhook-id, webhook-timestamp or webhook-signature (Standard Webhooks)")
            }
            guard let seconds = Int64(stamp) else { throw refuse("webhook-timestamp must be whole Unix seconds") }
            switch Self.timestampSkew(seconds, now: deps.clock.now(), tolerance: deps.webhooks.timestampTolerance) {
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
            } else if let gitlab = headers[webhook: WebhookHeaders.gitlabToken] {
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
}
