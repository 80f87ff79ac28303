import HTTPTypes

/// The request headers webhooks read, made once. `HTTPField.Name`'s initializer is failable (it
/// checks the characters); these names are constants that pass, and one that did not would read as
/// a header the request does not have rather than stop the process.
enum WebhookHeaders {
    /// GitHub's signature header: `sha256=` and the hex HMAC-SHA256 of the body.
    static let hubSignature = HTTPField.Name("X-Hub-Signature-256")
    /// Standard Webhooks' message id, also the delivery id.
    static let webhookID = HTTPField.Name("webhook-id")
    /// Standard Webhooks' Unix seconds of sending.
    static let webhookTimestamp = HTTPField.Name("webhook-timestamp")
    /// Standard Webhooks' space-separated `v1,<base64>` signatures.
    static let webhookSignature = HTTPField.Name("webhook-signature")
    /// GitLab's shared token.
    static let gitlabToken = HTTPField.Name("X-Gitlab-Token")

    /// Headers a workflow sees as `trigger.headers`, by the name it sees them under; never credentials
    /// or signatures.
    static let forwarded = named([
        "content-type", "user-agent", "x-github-event", "x-github-delivery", "x-github-hook-id", "x-gitlab-event",
        "x-gitlab-event-uuid", "x-gitlab-instance", "webhook-id", "webhook-timestamp", "idempotency-key",
        "x-request-id",
    ])

    /// Where senders put their delivery id, in the order they are looked for.
    static let delivery = named(["webhook-id", "x-github-delivery", "idempotency-key", "x-gitlab-event-uuid"])

    private static func named(_ names: [String]) -> [(text: String, name: HTTPField.Name)] {
        names.compactMap { text in HTTPField.Name(text).map { (text, $0) } }
    }
}

extension HTTPFields {
    /// The value of a header `WebhookHeaders` names (`nil` when the request has none).
    subscript(webhook name: HTTPField.Name?) -> String? {
        name.flatMap { self[$0] }
    }
}
