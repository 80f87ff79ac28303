import Foundation
import SchedulerAPI
import Storage

extension Alert {
    /// A stored alert as the API shows it: its target by kind and destination, no secret.
    init(_ record: AlertRecord) {
        let target = AlertTarget(json: record.targetJSON)
        self.init(
            id: record.id, schedule: record.scheduleName, scheduleID: record.scheduleID, event: record.event.rawValue,
            runID: record.runID, target: target?.kind ?? "unknown", destination: target.map(Self.destination) ?? "",
            state: record.state.rawValue, attempts: record.attempts, createdAt: record.createdAt,
            nextAttemptAt: record.state == .pending ? record.nextAttemptAt : nil, deliveredAt: record.deliveredAt,
            lastError: record.lastError, payload: OpaqueJSON(stored: record.payloadJSON))
    }

    /// Where a target sends, without what may be secret: a URL's host (a `${NAME}` shown as such),
    /// the variable that holds a URL, or the mail's recipients.
    static func destination(_ target: AlertTarget) -> String {
        func host(_ url: String) -> String {
            if url.hasPrefix("${"), let close = url.firstIndex(of: "}") { return String(url[...close]) }
            guard let start = url.range(of: "://")?.upperBound else { return "" }
            let rest = url[start...]
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            return String(authority.split(separator: "@").last ?? authority)
        }
        switch target {
        case .webhook(let url, _): return host(url)
        case .slack(let url, let urlEnv): return url.map(host) ?? "$" + (urlEnv ?? "")
        case .email(_, let to, _): return to.joined(separator: ", ")
        }
    }
}
