import Foundation

/// Where an alert goes. Secrets are never kept here: a target names the environment variables of
/// the daemon that hold them, read when an alert is delivered.
public enum AlertTarget: Sendable, Hashable, Codable {
    /// A JSON `POST` signed as Standard Webhooks do (`webhook-id`, `webhook-timestamp`,
    /// `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`), so that the receiver can
    /// tell it comes from this daemon. `url` may name variables as `${NAME}`; `secretEnv` holds the
    /// `whsec_…` (or plain) signing secret; without one the request is not signed.
    case webhook(url: String, secretEnv: String?)
    /// A Slack-compatible incoming webhook (`{"text": …}`): its URL as given, or from a variable.
    case slack(url: String?, urlEnv: String?)
    /// A mail through an SMTP server whose `smtp://` or `smtps://` URL (with the user and password)
    /// is in the variable `smtpEnv`.
    case email(smtpEnv: String, to: [String], from: String?)

    /// The target's kind as configured: `webhook`, `slack` or `email`.
    public var kind: String {
        switch self {
        case .webhook: "webhook"
        case .slack: "slack"
        case .email: "email"
        }
    }
}

/// One `notify:` entry of a schedule (or of the daemon's defaults): the events it is told of, and
/// where they go.
public struct NotifyRule: Sendable, Hashable, Codable {
    /// The events that alert this target.
    public var on: Set<AlertEvent>
    /// Where the alerts go.
    public var target: AlertTarget

    /// A rule.
    public init(on: Set<AlertEvent>, target: AlertTarget) {
        self.on = on
        self.target = target
    }
}

extension AlertTarget {
    /// The target as the store keeps it (in a schedule's rules and in each alert): a JSON object with
    /// the names of the YAML.
    public var json: String {
        var object: [String: Any] = [:]
        switch self {
        case .webhook(let url, let secretEnv):
            var fields: [String: Any] = ["url": url]
            if let secretEnv { fields["secret_env"] = secretEnv }
            object["webhook"] = fields
        case .slack(let url, let urlEnv):
            var fields: [String: Any] = [:]
            if let url { fields["url"] = url }
            if let urlEnv { fields["url_env"] = urlEnv }
            object["slack"] = fields
        case .email(let smtpEnv, let to, let from):
            var fields: [String: Any] = ["smtp_env": smtpEnv, "to": to]
            if let from { fields["from"] = from }
            object["email"] = fields
        }
        return Self.text(object)
    }

    /// Reads ``json``; `nil` for text that is not such an object (a hand-edited row).
    public init?(json: String) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            return nil
        }
        self.init(object: object)
    }

    init?(object: [String: Any]) {
        if let fields = object["webhook"] as? [String: Any], let url = fields["url"] as? String {
            self = .webhook(url: url, secretEnv: fields["secret_env"] as? String)
        } else if let fields = object["slack"] as? [String: Any] {
            self = .slack(url: fields["url"] as? String, urlEnv: fields["url_env"] as? String)
        } else if let fields = object["email"] as? [String: Any], let smtp = fields["smtp_env"] as? String,
            let to = fields["to"] as? [String]
        {
            self = .email(smtpEnv: smtp, to: to, from: fields["from"] as? String)
        } else {
            return nil
        }
    }

    /// `object` as compact JSON with sorted keys (the same target is always the same text).
    static func text(_ object: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}

extension NotifyRule {
    /// Rules as a schedule stores them: a JSON array of `{"on": [...], "<kind>": {...}}`.
    public static func json(_ rules: [NotifyRule]) -> String {
        let objects: [Any] = rules.map { rule in
            var object = (try? JSONSerialization.jsonObject(with: Data(rule.target.json.utf8))) as? [String: Any] ?? [:]
            object["on"] = AlertEvent.allCases.filter(rule.on.contains).map(\.rawValue)
            return object
        }
        return AlertTarget.text(objects)
    }

    /// Reads ``json(_:)``; `nil` for text that is not such an array (a hand-edited row).
    public static func rules(json: String) -> [NotifyRule]? {
        guard let objects = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
            return nil
        }
        var rules: [NotifyRule] = []
        for object in objects {
            guard let target = AlertTarget(object: object), let names = object["on"] as? [String] else { return nil }
            rules.append(NotifyRule(on: Set(names.compactMap(AlertEvent.init(rawValue:))), target: target))
        }
        return rules
    }
}
