import Foundation
import Storage

/// What an alert says to people (Slack's text, a mail's subject and body), made from its payload.
struct AlertMessage {
    /// One line: `schedulerd: nightly failed (attempt 3 of its fire): <error>`.
    var subject: String
    /// The subject's facts, one per line, then the links.
    var body: String

    /// The message of `alert`.
    init(_ alert: AlertRecord) {
        let payload =
            (try? JSONSerialization.jsonObject(with: Data(alert.payloadJSON.utf8))) as? [String: Any] ?? [:]
        let schedule = alert.scheduleName
        let what: String =
            switch alert.event {
            case .failure: "failed"
            case .recovered: "succeeded again after failing"
            case .missed: "missed a fire"
            case .overdue: "has a run going past its expected duration"
            case .success: "succeeded"
            }
        var subject = "schedulerd: \(schedule) \(what)"
        if let attempt = payload["attempt"] as? Int, attempt > 1 { subject += " (attempt \(attempt))" }
        self.subject = subject
        var lines: [String] = []
        let facts: [(String, String)] = [
            ("schedule", "schedule"), ("run", "run_id"), ("fire time", "fire_time"), ("state", "state"),
            ("attempt", "attempt"), ("duration", "duration_ms"), ("error", "error"), ("reason", "reason"),
            ("run", "run_url"), ("trace", "trace_url"),
        ]
        for (label, key) in facts {
            guard let value = payload[key] else { continue }
            let text = key == "duration_ms" ? "\(value) ms" : "\(value)"
            lines.append("\(label): \(text)")
        }
        body = lines.joined(separator: "\n")
    }

    /// Slack's incoming-webhook body: `{"text": "*subject*\nbody"}`.
    var slackJSON: [UInt8] {
        let object = ["text": "*\(subject)*\n\(body)"]
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8))
    }

    /// A complete mail: headers, a blank line, the body; lines end in CRLF.
    func mail(from: String, to: [String], id: String, date: Date) -> [UInt8] {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss +0000"
        let headers = [
            "From: \(from)", "To: \(to.joined(separator: ", "))", "Subject: \(Self.headerText(subject))",
            "Date: \(formatter.string(from: date))", "Message-ID: <\(id)@schedulerd>", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
        ]
        let text = body.replacingOccurrences(of: "\r\n", with: "\n").split(
            separator: "\n", omittingEmptySubsequences: false)
        return Array((headers + [""] + text.map(String.init)).joined(separator: "\r\n").utf8) + Array("\r\n".utf8)
    }

    /// `text` safe in a header: line breaks are spaces; anything beyond ASCII is encoded (RFC 2047).
    static func headerText(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        guard flat.utf8.contains(where: { $0 >= 0x80 }) else { return flat }
        return "=?utf-8?B?\(Data(flat.utf8).base64EncodedString())?="
    }
}
