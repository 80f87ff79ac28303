import Crypto
import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SchedulerTesting
import Scheduling
import Storage
import Testing
import Workflows

/// What every answer must be: not a 5xx, and for a refusal a JSON error with a message.
func checkAnswer(_ response: TestResponse, allowUnavailable: Bool = false) -> String? {
    let code = response.status.code
    if code >= 500 && !(allowUnavailable && code == 503) { return "answered \(code): \(String(buffer: response.body))" }
    if code >= 400 {
        let value = try? JSONValue(json: Data(response.body.readableBytesView))
        guard case .string(let message)? = value?["error"]?["message"], !message.isEmpty else {
            return "\(code) without an error message: \(String(buffer: response.body).prefix(200))"
        }
    }
    return nil
}

@Suite("fuzz: webhooks and the admin API, in process")
struct HTTPFuzzTests {
    /// The requests that stopped the daemon before, kept as regression cases: a Standard Webhooks
    /// timestamp of `Int64.min` (and its neighbours) before any secret is checked, and durations whose
    /// sum overflowed in every place that reads one.
    @Test("regressions: an absurd webhook-timestamp answers 401, an overflowing duration 400")
    func regressions() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let (status, created) = try await client.admin(
                .post, "/api/v1/schedules",
                #"{"name":"automation_builder","workflow":"tick","webhook":true,"webhook_scheme":"standard"}"#)
            #expect(status == .created, "\(created)")
            for stamp in ["-9223372036854775808", "9223372036854775807", "-9223372036854775807", "-1", "0"] {
                let response = try await client.execute(
                    uri: "/hooks/automation_builder", method: .post,
                    headers: [
                        .contentType: "application/json", .standardID: "msg_1", .standardTimestamp: stamp,
                        .standardSignature: "v1,AAAA",
                    ], body: ByteBuffer(string: "{}"))
                #expect(response.status == .unauthorized, "timestamp \(stamp)")
                let message = String(buffer: response.body)
                #expect(message.contains("webhook-timestamp is"), "\(stamp): \(message)")
            }
            let huge = String(repeating: "999999999d", count: 100)
            for field in ["timeout", "jitter", "catchup"] {
                let (status, answer) = try await client.admin(
                    .post, "/api/v1/schedules",
                    #"{"name":"x","workflow":"tick","cron":"0 2 * * *","\#(field)":"\#(huge)"}"#)
                #expect(status == .badRequest, "\(field): \(answer)")
                // Refused for its length before it is parsed (the parser's own overflow is tested in
                // DurationFuzzTests); either way a 400 naming the field.
                #expect(
                    answer["error"]?["message"]?.stringValue?.hasPrefix("\(field): is 1000 characters long") == true,
                    "\(answer)")
            }
            let (applyStatus, applied) = try await client.admin(
                .post, "/api/v1/apply",
                #"{"schedules":[{"source":"a.yaml","schedule":{"name":"a","workflow":"tick","cron":"0 2 * * *","jitter":"\#(huge)"}}]}"#
            )
            #expect(applyStatus == .badRequest, "\(applied)")
            let (rotateStatus, rotated) = try await client.admin(
                .post, "/api/v1/schedules/automation_builder/secret/rotate", #"{"grace":"\#(huge)"}"#)
            #expect(rotateStatus == .badRequest, "\(rotated)")
            #expect(rotated["error"]?["message"]?.stringValue?.contains("up to 30d") == true, "\(rotated)")
            // A payload nested so deep that the run's state (two levels more) could not be read back
            // is refused at the door; one within the limit is accepted.
            let secret = try await client.tokenHook("deep")
            for (depth, expected) in [(505, HTTPResponse.Status.badRequest), (490, .accepted)] {
                let body = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
                let response = try await client.execute(
                    uri: "/hooks/deep", method: .post,
                    headers: [.contentType: "application/json", .authorization: "Bearer \(secret)"],
                    body: ByteBuffer(string: body))
                #expect(response.status == expected, "depth \(depth): \(String(buffer: response.body))")
            }
            // The daemon still answers.
            let (listStatus, list) = try await client.admin(.get, "/api/v1/schedules")
            #expect(listStatus == .ok)
            #expect(list["schedules"]?.arrayValue?.count == 2)
        }
    }

    @Test("webhooks: random headers, signatures, timestamps, bodies and waits for each scheme")
    func webhooks() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            var secrets: [String: String] = [:]
            for (name, scheme) in [("gh", "github"), ("std", "standard"), ("tok", "token")] {
                let (status, created) = try await client.admin(
                    .post, "/api/v1/schedules",
                    #"{"name":"\#(name)","workflow":"tick","webhook":true,"webhook_scheme":"\#(scheme)","overlap":"allow"}"#
                )
                try #require(status == .created, "\(created)")
                secrets[name] = created["webhook_secret"]?.stringValue
            }
            let bodies = Mutator(
                salt: 8,
                corpus: [#"{"message":"hi"}"#, "a=1&b=2", "plain text", "[1,2]", #"{"n":9223372036854775807}"#, ""],
                dictionary: [
                    "{", "}", "=", "&", "%", "%zz", "+", "\\u0000", "\u{0}", String(repeating: "[", count: 600),
                ])
            var generator = WebhookRequests(bodies: bodies, secrets: secrets)
            try await fuzz("webhook requests", make: { generator.next() }) { encoded in
                let request = WebhookRequests.decode(encoded)
                let response = try await client.execute(
                    uri: request.uri, method: .post, headers: request.headers, body: ByteBuffer(bytes: request.body))
                return checkAnswer(response)
            }
            // Signed requests got through: the fuzz reached the body and the store, not only the checks.
            let runs = try await api.store.runs(scheduleID: nil, limit: 10, before: nil)
            #expect(!runs.isEmpty, "no signed request was accepted")
        }
    }

    @Test("admin API: random schedule bodies, apply, pause, run, rotate and run queries")
    func adminBodies() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let (status, _) = try await client.admin(
                .post, "/api/v1/schedules", #"{"name":"hook","workflow":"tick","webhook":true}"#)
            try #require(status == .created)
            var bodies = Mutator(
                salt: 9,
                corpus: [
                    #"{"name":"a","workflow":"tick","cron":"0 2 * * *","time_zone":"Europe/Berlin","timeout":"20m","jitter":"30s","catchup":"1h","remaining_runs":10}"#,
                    #"{"name":"b","workflow":"tick","webhook":true,"webhook_scheme":"standard","overlap":"buffer-one","input":{"k":[1,2]}}"#,
                    #"{"name":"c","workflow":"tick","cron":"@every 1h30m","day_match":"and","dst_gap":"skip","dst_fold":"both"}"#,
                    #"{"schedules":[{"source":"x.yaml","schedule":{"name":"d","workflow":"tick","cron":"H H * * *"}}],"prune":true,"dry_run":true}"#,
                    #"{"note":"maintenance"}"#, #"{"input":{"message":"hi"}}"#, #"{"grace":"24h"}"#,
                ],
                dictionary: [
                    #""timeout":""#, #""jitter":""#, #""catchup":""#, #""remaining_runs":"#, #""cron":""#, "999999999d",
                    "3651d", "-1", "1e400", "null", "true", "[]", "{}", #"","#, #"":"#, "@every ", "*/0", "L-99999",
                    "H(0-999999999)/7", "9223372036854775808", #""name":""#, #""paused":true"#,
                ])
            let routes = [
                "/api/v1/schedules", "/api/v1/apply", "/api/v1/schedules/hook/pause", "/api/v1/schedules/hook/run",
                "/api/v1/schedules/hook/secret/rotate", "/api/v1/schedules/hook/resume",
            ]
            let queries = [
                "limit=", "limit=-1", "limit=9223372036854775808", "limit=1000", "before=", "before=run_%00",
                "schedule=", "schedule=%zz", "schedule=hook", "limit=5&before=zzzzzzzzzzzzzzzzzzzzzzzzzz",
            ]
            var count = 0
            try await fuzz("admin API bodies", make: { bodies.next() }) { body in
                count += 1
                let route = routes[count % routes.count]
                var headers: HTTPFields = [
                    .authorization: "Bearer \(InProcessAPI.token)", .contentType: "application/json",
                ]
                if count % 17 == 0 { headers[.authorization] = "Bearer \(body.prefix(40))" }
                let response = try await client.execute(
                    uri: route, method: .post, headers: headers, body: ByteBuffer(string: body))
                if let problem = checkAnswer(response) { return "POST \(route): \(problem)" }
                if response.status == .created, let value = try? JSONValue(json: Data(response.body.readableBytesView)),
                    let name = value["name"]?.stringValue
                {
                    // Keep the table small, and check what was stored reads back.
                    let (shown, _) = try await client.admin(.get, "/api/v1/schedules/\(name)")
                    if shown != .ok { return "created \(name) but GET answered \(shown.code)" }
                    _ = try await client.admin(.delete, "/api/v1/schedules/\(name)")
                }
                let query = queries[count % queries.count]
                let list = try await client.execute(
                    uri: "/api/v1/runs?\(query)", method: .get,
                    headers: [.authorization: "Bearer \(InProcessAPI.token)"])
                if let problem = checkAnswer(list) { return "GET runs?\(query): \(problem)" }
                return nil
            }
        }
    }
}

/// Random webhook requests, each encoded as one string so that the fuzz loop can record it before it
/// is sent (a crash then names it).
struct WebhookRequests {
    var bodies: Mutator
    let secrets: [String: String]

    struct Request {
        var uri: String
        var headers: HTTPFields
        var body: [UInt8]
    }

    static let timestamps = Mutator.numbers + ["", " 1", "1 ", "1.0", "01", "+0", "now"]
    static let waits = [
        "", "?wait=", "?wait=0s", "?wait=1ms", "?wait=999999999d999999999d", "?wait=9223372036854775807",
        "?wait=-1s", "?wait=%00", "?wait=1h", "?wait=30s&wait=1s", "?other=1",
    ]
    static let contentTypes = [
        "application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded",
        "application/xml", "", ";;;", "application/json; charset=latin1", "multipart/form-data; boundary=x",
    ]

    mutating func next() -> String {
        let hook = bodies.pick(["gh", "std", "tok", "nope", "gh%00", String(repeating: "h", count: 300)])
        var body = bodies.next()
        if body.utf8.count > 4096 { body = String(body.prefix(4096)) }
        var headers: [(String, String)] = []
        if bodies.chance(0.9) { headers.append(("Content-Type", bodies.pick(Self.contentTypes))) }
        let signed = bodies.chance(0.5)
        let secret = secrets[hook] ?? "x"
        let now = Int64(Date().timeIntervalSince1970)
        switch hook {
        case "std":
            let id = bodies.pick(["msg_\(bodies.int(0...1_000_000))", "", "a b", String(repeating: "i", count: 300)])
            let stamp = bodies.chance(0.6) ? String(now + Int64(bodies.int(-400...400))) : bodies.pick(Self.timestamps)
            headers += [("webhook-id", id), ("webhook-timestamp", stamp)]
            if signed, let key = Data(base64Encoded: String(secret.dropFirst("whsec_".count))) {
                let mac = HMAC<SHA256>.authenticationCode(
                    for: Data("\(id).\(stamp).\(body)".utf8), using: SymmetricKey(data: key))
                headers.append(("webhook-signature", "v1,\(Data(mac).base64EncodedString()) v1,AAAA"))
            } else {
                headers.append(("webhook-signature", bodies.pick(["v1,AAAA", "v1,", "", "v2,xx", "v1,!!!!"])))
            }
        case "gh":
            if signed {
                let mac = HMAC<SHA256>.authenticationCode(
                    for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8)))
                headers.append(("X-Hub-Signature-256", "sha256=" + mac.map { String(format: "%02x", $0) }.joined()))
            } else {
                headers.append(("X-Hub-Signature-256", bodies.pick(["sha256=", "sha256=zz", "sha1=00", ""])))
            }
            if bodies.chance(0.3) { headers.append(("X-GitHub-Delivery", bodies.pick(Self.timestamps))) }
        default:
            headers.append(
                bodies.chance(0.5)
                    ? ("Authorization", bodies.pick(["Bearer \(secret)", "bearer \(secret)", "Bearer", "Basic x"]))
                    : ("X-Gitlab-Token", bodies.chance(0.5) ? secret : ""))
            if bodies.chance(0.3) { headers.append(("Idempotency-Key", bodies.pick(Self.timestamps))) }
        }
        let uri = "/hooks/\(hook)" + (bodies.chance(0.1) ? bodies.pick(Self.waits) : "")
        // One line per part: the URI, each header as name and value, then the body.
        var lines = [uri]
        for (name, value) in headers { lines.append("\(name)\u{1}\(value)") }
        return lines.joined(separator: "\u{2}") + "\u{3}" + body
    }

    static func decode(_ encoded: String) -> Request {
        let parts = encoded.split(separator: "\u{3}", maxSplits: 1, omittingEmptySubsequences: false)
        let lines = parts[0].split(separator: "\u{2}", omittingEmptySubsequences: false)
        var headers = HTTPFields()
        for line in lines.dropFirst() {
            let pair = line.split(separator: "\u{1}", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, let name = HTTPField.Name(String(pair[0])) else { continue }
            headers.append(HTTPField(name: name, value: String(pair[1])))
        }
        return Request(
            uri: String(lines[0]), headers: headers, body: parts.count > 1 ? Array(parts[1].utf8) : [])
    }
}

extension HTTPField.Name {
    static let standardID = Self("webhook-id")!
    static let standardTimestamp = Self("webhook-timestamp")!
    static let standardSignature = Self("webhook-signature")!
}
