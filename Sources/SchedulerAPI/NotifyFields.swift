import Foundation

/// One entry of a schedule's `notify` on the wire, as a schedule file writes it: the events, and
/// exactly one target. Secrets appear only as the names of the daemon's variables that hold them.
///
/// ```json
/// {"on": ["failure", "recovered"], "webhook": {"url": "https://alerts.example.com/in", "secret_env": "ALERT_SECRET"}}
/// ```
public struct NotifyFields: Sendable, Hashable {
    /// A JSON `POST` signed as Standard Webhooks do.
    public struct Webhook: Sendable, Hashable, Codable {
        /// The receiver's URL; `${NAME}` reads a variable of the daemon's environment.
        public var url: String?
        /// The variable holding the signing secret.
        public var secretEnv: String?

        /// A webhook target.
        public init(url: String? = nil, secretEnv: String? = nil) {
            self.url = url
            self.secretEnv = secretEnv
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case url
            case secretEnv = "secret_env"
        }

        /// Reads a target, refusing fields it does not know.
        public init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(Set(CodingKeys.allCases.map(\.rawValue)))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            url = try c.decodeIfPresent(String.self, forKey: .url)
            secretEnv = try c.decodeIfPresent(String.self, forKey: .secretEnv)
        }
    }

    /// A Slack-compatible incoming webhook.
    public struct Slack: Sendable, Hashable, Codable {
        /// Its URL as given.
        public var url: String?
        /// The variable holding its URL instead.
        public var urlEnv: String?

        /// A Slack target.
        public init(url: String? = nil, urlEnv: String? = nil) {
            self.url = url
            self.urlEnv = urlEnv
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case url
            case urlEnv = "url_env"
        }

        /// Reads a target, refusing fields it does not know.
        public init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(Set(CodingKeys.allCases.map(\.rawValue)))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            url = try c.decodeIfPresent(String.self, forKey: .url)
            urlEnv = try c.decodeIfPresent(String.self, forKey: .urlEnv)
        }
    }

    /// A mail through an SMTP server.
    public struct Email: Sendable, Hashable, Codable {
        /// The variable holding the server's `smtp://` or `smtps://` URL with its credentials.
        public var smtpEnv: String?
        /// The recipients.
        public var to: [String]?
        /// The sender.
        public var from: String?

        /// A mail target.
        public init(smtpEnv: String? = nil, to: [String]? = nil, from: String? = nil) {
            self.smtpEnv = smtpEnv
            self.to = to
            self.from = from
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case to, from
            case smtpEnv = "smtp_env"
        }

        /// Reads a target, refusing fields it does not know.
        public init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownFields(Set(CodingKeys.allCases.map(\.rawValue)))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            smtpEnv = try c.decodeIfPresent(String.self, forKey: .smtpEnv)
            to = try c.decodeIfPresent([String].self, forKey: .to)
            from = try c.decodeIfPresent(String.self, forKey: .from)
        }
    }

    /// The events: `failure`, `recovered`, `missed`, `overdue`, `success`.
    public var on: [String]?
    /// A webhook target.
    public var webhook: Webhook?
    /// A Slack target.
    public var slack: Slack?
    /// A mail target.
    public var email: Email?

    /// Every field as written in JSON.
    public static let fieldNames = Set(CodingKeys.allCases.map(\.rawValue))

    /// An entry for a request or a response.
    public init(on: [String]? = nil, webhook: Webhook? = nil, slack: Slack? = nil, email: Email? = nil) {
        self.on = on
        self.webhook = webhook
        self.slack = slack
        self.email = email
    }
}

extension NotifyFields: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case on, webhook, slack, email
    }

    /// Reads an entry, refusing any field not in ``fieldNames``.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(Self.fieldNames)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        on = try c.decodeIfPresent([String].self, forKey: .on)
        webhook = try c.decodeIfPresent(Webhook.self, forKey: .webhook)
        slack = try c.decodeIfPresent(Slack.self, forKey: .slack)
        email = try c.decodeIfPresent(Email.self, forKey: .email)
    }
}
