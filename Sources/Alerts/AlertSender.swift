import CCurl
import Crypto
import Foundation
import HTTPClient
import Scheduling
import Storage
import Workflows

/// Delivers one alert to its target: a signed JSON webhook, a Slack-compatible webhook, or a mail.
/// The secrets and URLs the target names by variable are read from the daemon's environment at
/// each delivery, so that they are never stored.
struct AlertSender: Sendable {
    /// The daemon's environment.
    var environment: [String: String]
    /// The HTTP client webhooks go through.
    var http: HTTPClient
    /// How mail servers' certificates are verified.
    var tls: TLSOptions
    /// The longest one delivery may take.
    var timeout: Duration
    /// The sender of mails whose target gives none.
    var mailFrom: String

    /// How one try went.
    enum Result: Sendable, Equatable {
        /// The receiver took it.
        case delivered
        /// Worth trying again later: the receiver was away, slow, or answered 408, 429 or 5xx.
        case transient(String)
        /// Trying again will not help: the receiver refused it, or the target is not usable.
        case permanent(String)
    }

    /// Tries to deliver `alert` once.
    func deliver(_ alert: AlertRecord, now: Date) async -> Result {
        guard let target = AlertTarget(json: alert.targetJSON) else {
            return .permanent("the alert's target cannot be read (was the database edited by hand?)")
        }
        switch target {
        case .webhook(let template, let secretEnv):
            guard let url = resolve(template) else {
                return .transient("a variable the webhook URL names is not set in the daemon's environment")
            }
            var headers = [("Content-Type", "application/json"), ("User-Agent", "schedulerd")]
            let body = Array(alert.payloadJSON.utf8)
            if let secretEnv {
                guard let secret = environment[secretEnv], !secret.isEmpty else {
                    return .transient("\(secretEnv) is not set in the daemon's environment")
                }
                headers += Self.standardWebhookHeaders(id: alert.id, body: body, secret: secret, at: now)
            }
            return await post(url, headers: headers, body: body)
        case .slack(let given, let urlEnv):
            guard let url = given.flatMap(resolve) ?? urlEnv.flatMap({ environment[$0] }), !url.isEmpty else {
                return .transient("the Slack URL's variable is not set in the daemon's environment")
            }
            return await post(
                url, headers: [("Content-Type", "application/json"), ("User-Agent", "schedulerd")],
                body: AlertMessage(alert).slackJSON)
        case .email(let smtpEnv, let to, let from):
            guard let server = environment[smtpEnv], !server.isEmpty else {
                return .transient("\(smtpEnv) is not set in the daemon's environment")
            }
            let sender = from ?? mailFrom
            let message = AlertMessage(alert).mail(from: sender, to: to, id: alert.id, date: now)
            return await Self.mail(server: server, from: sender, to: to, message: message, timeout: timeout, tls: tls)
        }
    }

    /// `template` with each `${NAME}` replaced by the variable's value; `nil` when one is not set.
    func resolve(_ template: String) -> String? {
        try? EnvironmentReference.substitute(template, from: environment)
    }

    /// The Standard Webhooks headers that sign `body` as message `id` at `at` with `secret`.
    static func standardWebhookHeaders(id: String, body: [UInt8], secret: String, at: Date) -> [(String, String)] {
        let stamp = String(Int64(at.timeIntervalSince1970.rounded(.down)))
        let signed = Array("\(id).\(stamp).".utf8) + body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: WebhookSecret.standardKey(secret))
        return [
            ("webhook-id", id), ("webhook-timestamp", stamp),
            ("webhook-signature", "v1," + Data(mac).base64EncodedString()),
        ]
    }

    /// POSTs `body`; a 2xx delivers it.
    private func post(_ url: String, headers: [(String, String)], body: [UInt8]) async -> Result {
        let host = URL(string: url)?.host ?? "the receiver"
        do {
            let answer = try await http.perform(
                method: "POST", url: url, headers: headers, body: body, timeout: timeout, maxResponseBody: 64 << 10)
            switch answer.status {
            case 200..<300: return .delivered
            case 408, 429, 500...: return .transient("\(host) answered \(answer.status)")
            default: return .permanent("\(host) refused the alert with \(answer.status)")
            }
        } catch {
            return .transient("cannot reach \(host): \(error.message)")
        }
    }

    /// Sends a mail through the SMTP server at `server` on a thread of its own (libcurl blocks).
    static func mail(
        server: String, from: String, to: [String], message: [UInt8], timeout: Duration, tls options: TLSOptions
    ) async -> Result {
        var url = server
        var requireTLS = false
        if var parts = URLComponents(string: server) {
            // `?tls=required` is schedulerd's, not the server's: smtp:// then refuses to go on without STARTTLS.
            requireTLS = parts.queryItems?.contains { $0.name == "tls" && $0.value == "required" } ?? false
            parts.query = nil
            url = parts.string ?? server
        }
        let host = URLComponents(string: server)?.host ?? "the mail server"
        let (address, tls) = (url, requireTLS)
        let milliseconds = Int(timeout.components.seconds * 1000)
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var error = [CChar](repeating: 0, count: 256)
                let cFrom = strdup(from)
                let cCA: UnsafeMutablePointer<CChar>? = options.caPath.flatMap { strdup($0) }
                let cTo = to.map { strdup($0) }
                defer {
                    free(cFrom)
                    free(cCA)
                    cTo.forEach { free($0) }
                }
                let code: Int32 = address.withCString { cURL in
                    cTo.map { UnsafePointer($0) }.withUnsafeBufferPointer { recipients in
                        message.withUnsafeBufferPointer { bytes in
                            var mail = ccurl_mail(
                                url: cURL, from: cFrom, recipients: recipients.baseAddress,
                                recipient_count: recipients.count, message: bytes.baseAddress,
                                message_length: bytes.count, timeout_ms: milliseconds, require_tls: tls ? 1 : 0,
                                insecure: options.insecure ? 1 : 0, ca_path: UnsafePointer(cCA))
                            return ccurl_send_mail(&mail, &error)
                        }
                    }
                }
                let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                continuation.resume(returning: code == 0 ? .delivered : .transient("\(host): \(reason)"))
            }
        }
    }
}
