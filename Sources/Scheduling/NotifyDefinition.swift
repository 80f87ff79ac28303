import Foundation
import Storage
import Support
import Workflows
import Yams

/// One `notify:` entry as people write it, in a schedule or in the daemon's defaults
/// (`policies.yaml`), before it is checked: the events, and exactly one target.
///
/// ```yaml
/// notify:
///   - on: [failure, recovered, missed]
///     webhook: {url: "${ALERT_URL}", secret_env: ALERT_SECRET}
///   - on: [failure]
///     slack: {url_env: SLACK_WEBHOOK_URL}
///   - on: [failure, overdue]
///     email: {smtp_env: SMTP_URL, to: [oncall@example.com], from: schedulerd@example.com}
/// ```
public struct NotifyDefinition: Sendable, Hashable {
    /// The events: `failure`, `recovered`, `missed`, `overdue`, `success`.
    public var on: [String]?
    /// The target keys given (`webhook`, `slack`, `email`): exactly one is allowed.
    public var targets: [String] = []
    /// The webhook's or Slack's URL; `${NAME}` takes a variable of the daemon's environment.
    public var url: String?
    /// The variable holding the webhook's signing secret.
    public var secretEnv: String?
    /// The variable holding Slack's URL (instead of `url`).
    public var urlEnv: String?
    /// The variable holding the SMTP server's URL, `smtp://user:password@host:port` or `smtps://…`.
    public var smtpEnv: String?
    /// The mail's recipients.
    public var to: [String]?
    /// The mail's sender (default `schedulerd@` and the machine's host name).
    public var from: String?

    /// An entry; what it lacks is said when it is checked.
    public init(
        on: [String]? = nil, targets: [String] = [], url: String? = nil, secretEnv: String? = nil,
        urlEnv: String? = nil, smtpEnv: String? = nil, to: [String]? = nil, from: String? = nil
    ) {
        self.on = on
        self.targets = targets
        self.url = url
        self.secretEnv = secretEnv
        self.urlEnv = urlEnv
        self.smtpEnv = smtpEnv
        self.to = to
        self.from = from
    }

    /// An entry's own keys.
    public static let keys = ["on", "webhook", "slack", "email"]
    /// Each target's keys.
    public static let targetKeys = [
        "webhook": ["url", "secret_env"], "slack": ["url", "url_env"], "email": ["smtp_env", "to", "from"],
    ]

    /// Checks the entry.
    /// - Parameters:
    ///   - prefix: the entry's place, as problems name it (`notify[0]`).
    ///   - environment: the daemon's environment, to check that the variables named are set; `nil`
    ///     skips that (files checked away from the daemon).
    ///   - problem: told each problem, with the field as `PREFIX.KEY`.
    /// - Returns: the rule, or `nil` when a problem was found.
    func validate(
        _ prefix: String, environment: [String: String]?, _ problem: (_ field: String, _ message: String) -> Void
    ) -> NotifyRule? {
        var valid = true
        func refuse(_ key: String, _ message: String) {
            problem("\(prefix).\(key)", message)
            valid = false
        }
        let allowed = AlertEvent.allCases.map(\.rawValue)
        var events: Set<AlertEvent> = []
        if let on, !on.isEmpty {
            for name in on {
                if let event = AlertEvent(rawValue: name) {
                    events.insert(event)
                } else {
                    refuse("on", "\"\(name)\" is not an event; use \(allowed.joined(separator: ", "))")
                }
            }
        } else {
            refuse("on", "is missing or empty; name the events to tell: \(allowed.joined(separator: ", "))")
        }
        func variable(_ key: String, _ name: String?) {
            guard let name else { return }
            if !Self.isVariableName(name) {
                refuse(key, "\"\(name)\" is not an environment variable name (letters, digits, _)")
            } else if let environment, (environment[name] ?? "").isEmpty {
                refuse(key, "\(name) is not set in the daemon's environment; set it before starting schedulerd")
            }
        }
        var target: AlertTarget?
        switch targets.count {
        case 0:
            refuse("webhook", "the entry has no target; give one of webhook, slack or email")
        case 1:
            switch targets[0] {
            case "webhook":
                if let url {
                    checkURL("webhook.url", url, schemes: ["http", "https"], environment: environment, refuse)
                } else {
                    refuse("webhook.url", "is missing; give the receiver's http(s) URL (\"${NAME}\" reads a variable)")
                }
                variable("webhook.secret_env", secretEnv)
                target = .webhook(url: url ?? "", secretEnv: secretEnv)
            case "slack":
                if (url == nil) == (urlEnv == nil) {
                    refuse("slack.url", "give the incoming webhook's URL as url or url_env (one of them)")
                }
                if let url { checkURL("slack.url", url, schemes: ["https", "http"], environment: environment, refuse) }
                variable("slack.url_env", urlEnv)
                if let urlEnv, let value = environment?[urlEnv], !value.isEmpty {
                    checkURL(
                        "slack.url_env", value, schemes: ["https", "http"], environment: nil, refuse, secret: true)
                }
                target = .slack(url: url, urlEnv: urlEnv)
            default:
                if smtpEnv == nil {
                    refuse("email.smtp_env", "is missing; name the variable holding smtp://user:password@host:port")
                }
                variable("email.smtp_env", smtpEnv)
                if let smtpEnv, let value = environment?[smtpEnv], !value.isEmpty {
                    checkURL(
                        "email.smtp_env", value, schemes: ["smtp", "smtps"], environment: nil, refuse, secret: true)
                }
                let recipients = to ?? []
                if recipients.isEmpty { refuse("email.to", "is missing or empty; give one address or more") }
                for address in recipients + (from.map { [$0] } ?? []) where !Self.isAddress(address) {
                    refuse(
                        address == from ? "email.from" : "email.to",
                        "\"\(address)\" is not a mail address like oncall@example.com")
                }
                target = .email(smtpEnv: smtpEnv ?? "", to: recipients, from: from)
            }
        default:
            refuse(targets[1], "an entry has one target; \(targets.joined(separator: " and ")) are given")
        }
        guard valid, let target else { return nil }
        return NotifyRule(on: events, target: target)
    }

    /// Refuses `text` unless it is an absolute URL of one of `schemes` with a host, once the
    /// `${NAME}` in it are read from `environment` (without one, a URL naming variables is only
    /// checked for their names). A URL from a variable is not quoted back: it may hold a password or
    /// a token.
    func checkURL(
        _ field: String, _ text: String, schemes: [String], environment: [String: String]?,
        _ refuse: (String, String) -> Void, secret: Bool = false
    ) {
        let shown = secret ? "the URL in it" : "\"\(text)\""
        var resolved = text
        for name in EnvironmentReference.names(in: text) {
            guard Self.isVariableName(name) else {
                refuse(field, "${\(name)} is not an environment variable name (letters, digits, _)")
                return
            }
            // Away from the daemon a variable's value is not known, and may be the scheme and host.
            guard let environment else { return }
            guard let value = environment[name], !value.isEmpty else {
                refuse(field, "${\(name)} is not set in the daemon's environment; set it before starting schedulerd")
                return
            }
            resolved = resolved.replacingOccurrences(of: "${\(name)}", with: value)
        }
        guard let url = URL(string: resolved), let scheme = url.scheme?.lowercased(), schemes.contains(scheme),
            let host = url.host, !host.isEmpty
        else {
            refuse(
                field,
                "\(shown) is not a URL like \(schemes[0])://host/path; allowed schemes: \(schemes.joined(separator: ", "))"
            )
            return
        }
    }

    /// Whether `name` can be an environment variable's name.
    static func isVariableName(_ name: String) -> Bool {
        name.range(of: ScheduleDefinition.environmentNamePattern, options: .regularExpression) != nil
    }

    /// Whether `text` looks like a mail address: something, `@`, a host with a dot; no spaces or
    /// line breaks (which would make headers).
    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && text.count <= 254
            && !text.contains { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," }
    }

    /// Reads a `notify:` list of a YAML file.
    /// - Parameters:
    ///   - node: the value of the `notify` key.
    ///   - field: its name in problems (`notify`, `defaults.notify`).
    ///   - problem: told each problem with the node it is at.
    ///   - mark: told where each value is, as `notify[i].KEY`, for the problems found later.
    /// - Returns: the entries as far as they could be read; `nil` when the value is no list.
    static func read(
        _ node: Yams.Node, field: String = "notify", problem: (Yams.Node, String) -> Void,
        mark: (String, Yams.Node) -> Void = { _, _ in }
    ) -> [NotifyDefinition]? {
        guard let entries = node.sequence else {
            problem(node, "\(field) must be a list of entries like - {on: [failure], webhook: {url: …}}")
            return nil
        }
        var definitions: [NotifyDefinition] = []
        for (index, entry) in entries.enumerated() {
            let prefix = "notify[\(index)]"
            for key in keys { mark("\(prefix).\(key)", entry) }
            guard let fields = entry.mapping else {
                problem(entry, "\(field)[\(index)] must be a mapping with on and one target")
                continue
            }
            var definition = NotifyDefinition()
            for (keyNode, value) in fields {
                let key = keyNode.string ?? ""
                mark("\(prefix).\(key)", value)
                switch key {
                case "on":
                    guard let events = value.texts else {
                        problem(value, "\(field)[\(index)].on must be a list like [failure, recovered]")
                        continue
                    }
                    definition.on = events
                case "webhook", "slack", "email":
                    definition.targets.append(key)
                    // A key left out is told at the target's mapping.
                    for field in targetKeys[key] ?? [] { mark("\(prefix).\(key).\(field)", value) }
                    readTarget(key, value, into: &definition, prefix: "\(field)[\(index)]", problem: problem) {
                        mark("\(prefix).\(key).\($0)", $1)
                    }
                default:
                    problem(
                        keyNode, "unknown key \"\(field)[\(index)].\(key)\"; allowed: \(keys.joined(separator: ", "))")
                }
            }
            definitions.append(definition)
        }
        return definitions
    }

    /// Reads one target's mapping into `definition`.
    private static func readTarget(
        _ kind: String, _ node: Yams.Node, into definition: inout NotifyDefinition, prefix: String,
        problem: (Yams.Node, String) -> Void, mark: (String, Yams.Node) -> Void
    ) {
        let allowed = targetKeys[kind] ?? []
        guard let fields = node.mapping else {
            problem(node, "\(prefix).\(kind) must be a mapping with \(allowed.joined(separator: ", "))")
            return
        }
        for (keyNode, value) in fields {
            let key = keyNode.string ?? ""
            mark(key, value)
            guard allowed.contains(key) else {
                problem(
                    keyNode, "unknown key \"\(prefix).\(kind).\(key)\"; allowed: \(allowed.joined(separator: ", "))")
                continue
            }
            if key == "to" {
                if let addresses = value.texts {
                    definition.to = addresses
                } else {
                    problem(value, "\(prefix).email.to must be a list of addresses")
                }
                continue
            }
            guard let text = value.scalar?.string else {
                problem(value, "\(prefix).\(kind).\(key) must be a single value")
                continue
            }
            switch key {
            case "url": definition.url = text
            case "secret_env": definition.secretEnv = text
            case "url_env": definition.urlEnv = text
            case "smtp_env": definition.smtpEnv = text
            default: definition.from = text
            }
        }
    }
}
