import Crypto
import Foundation
import MLflowTesting
import SchedulerTesting
import Storage
import Testing
import Workflows

/// Webhooks against the running daemon binary: each scheme, every refusal (and nothing stored),
/// duplicates, limits, a fuzz run, and a SIGKILL right after the 202.
// One at a time: each test starts its own daemon, and the fuzz run alone keeps both cores busy.
@Suite("webhooks", .serialized)
struct WebhookTests {
    /// A daemon with one webhook schedule per scheme, a cron-only one and a paused one.
    struct Hooks {
        let daemon: DaemonProcess
        let secrets: [String: String]
        let ids: [String: String]

        static func start(mlflow: URL?, experiment: String? = nil, arguments: [String] = []) async throws -> Hooks {
            let daemon = try DaemonProcess(
                schedules: try schedulesDirectory(workflows: ["tick": DaemonTests.tick]), mlflow: mlflow,
                experiment: experiment)
            try await daemon.start(extraArguments: arguments)
            var secrets: [String: String] = [:]
            var ids: [String: String] = [:]
            for (name, extra) in [
                ("gh", #","webhook":true,"overlap":"allow""#),
                ("std", #","webhook":true,"webhook_scheme":"standard","overlap":"allow""#),
                ("tok", #","webhook":true,"webhook_scheme":"token","overlap":"allow""#),
                ("paused", #","webhook":true,"paused":true"#),
                ("cron_only", #","cron":"0 0 1 1 *""#),
            ] {
                let created = try await daemon.request(
                    "POST", "/api/v1/schedules", body: #"{"name":"\#(name)","workflow":"tick"\#(extra)}"#)
                #expect(created.status == 201, "\(name): \(created.json)")
                ids[name] = created.json["id"]?.stringValue
                secrets[name] = created.json["webhook_secret"]?.stringValue
            }
            return Hooks(daemon: daemon, secrets: secrets, ids: ids)
        }

        func post(
            _ hook: String, body: String, headers: [String: String], contentType: String? = "application/json",
            query: String = ""
        ) async throws -> DaemonProcess.Answer {
            var headers = headers
            if let contentType { headers["Content-Type"] = contentType }
            return try await daemon.send("POST", "/hooks/\(hook)\(query)", body: Data(body.utf8), headers: headers)
        }
    }

    static func github(_ secret: String, _ body: String) -> [String: String] {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return ["X-Hub-Signature-256": "sha256=" + mac.map { String(format: "%02x", $0) }.joined()]
    }

    static func standard(
        _ secret: String, _ body: String, id: String = "msg_\(UUID().uuidString)",
        timestamp: Int = Int(Date().timeIntervalSince1970)
    ) -> [String: String] {
        let key = SymmetricKey(data: Data(base64Encoded: String(secret.dropFirst("whsec_".count)))!)
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(id).\(timestamp).\(body)".utf8), using: key)
        return [
            "webhook-id": id, "webhook-timestamp": String(timestamp),
            "webhook-signature": "v1,\(Data(mac).base64EncodedString())",
        ]
    }

    /// Everything the daemon's database holds that a request could change.
    static func snapshot(_ hooks: Hooks) async throws -> String {
        try await hooks.daemon.withStore(DaemonBadInputTests.snapshot)
    }

    @Test("each scheme: a signed request gets 202 and a trace in MLflow tagged trigger=webhook and its delivery id")
    func eachScheme() async throws {
        let server = try await MLflowTestServer.shared()
        let hooks = try await Hooks.start(mlflow: server.uri)
        let body = #"{"action":"opened","number":7}"#
        let gh = try await hooks.post(
            "gh", body: body,
            headers: Self.github(hooks.secrets["gh"]!, body).merging(["X-GitHub-Delivery": "gh-1"]) { a, _ in a })
        let std = try await hooks.post(
            "std", body: body, headers: Self.standard(hooks.secrets["std"]!, body, id: "msg_std_1"))
        let tok = try await hooks.post(
            "tok", body: "x=1&y=two+words&x=3", headers: ["Authorization": "Bearer \(hooks.secrets["tok"]!)"],
            contentType: "application/x-www-form-urlencoded")
        let reader = MLflowReader(uri: server.uri)
        for (answer, hook, delivery) in [(gh, "gh", "gh-1"), (std, "std", "msg_std_1"), (tok, "tok", nil)] {
            #expect(answer.status == 202, "\(hook): \(answer.json)")
            let runID = try #require(answer.json["run_id"]?.stringValue)
            let traceID = try #require(answer.json["trace_id"]?.stringValue)
            var trace: MLflowReader.Trace?
            try await eventually(timeout: .seconds(60), "trace \(traceID) of \(hook) in MLflow") {
                trace = try await reader.trace(traceID)
                return trace?.state == "OK"
            }
            #expect(trace?.tags["trigger"] == "webhook")
            // The trace list's Request column starts with what the sender posted.
            let preview = trace?.requestPreview ?? ""
            #expect(preview.hasPrefix(#"{"trigger":{"#), "\(preview)")
            #expect(preview.contains(hook == "tok" ? #""y":"two words""# : #""action":"opened""#), "\(preview)")
            #expect(trace?.tags["schedule_id"] == hooks.ids[hook])
            #expect(trace?.tags["run_id"] == runID)
            #expect(trace?.tags["delivery_id"] == (delivery ?? runID))
            let run = try await hooks.daemon.request("GET", "/api/v1/runs/\(runID)").json
            let trigger = run["input"]?["trigger"]
            let headers = trigger?["headers"]?.objectValue ?? [:]
            #expect(headers["content-type"] != nil)
            #expect(
                headers.keys.allSatisfy { !["authorization", "x-hub-signature-256", "webhook-signature"].contains($0) })
            if hook == "tok" {
                #expect(trigger?["payload"] == ["x": ["1", "3"], "y": "two words"])
            } else {
                #expect(trigger?["payload"] == ["action": "opened", "number": 7])
                #expect(trigger?["delivery_id"]?.stringValue == delivery)
            }
        }
        // ?wait= answers with the run's end.
        let waited = try await hooks.post(
            "gh", body: "{}", headers: Self.github(hooks.secrets["gh"]!, "{}"), query: "?wait=30s")
        #expect(waited.status == 200, "\(waited.json)")
        #expect(waited.json["state"] == "succeeded")
        #expect(try await hooks.daemon.stop() == 0)
    }

    @Test("refusals: each bad request gets its status and message, and nothing is stored")
    func refusals() async throws {
        let hooks = try await Hooks.start(mlflow: nil)
        let gh = hooks.secrets["gh"]!
        let std = hooks.secrets["std"]!
        let body = #"{"ok":true}"#
        // A delivery accepted before the snapshot, to replay.
        let first = try await hooks.post("std", body: body, headers: Self.standard(std, body, id: "msg_replay"))
        #expect(first.status == 202, "\(first.json)")
        try await eventually(timeout: .seconds(30), "the first delivery's run ends") {
            let runs = try await hooks.daemon.withStore { try await $0.runs(scheduleID: nil, limit: 10, before: nil) }
            return runs.allSatisfy(\.state.isFinal)
        }
        let before = try await Self.snapshot(hooks)
        let now = Int(Date().timeIntervalSince1970)
        struct Case {
            var description: String
            var hook: String
            var body: String
            var headers: [String: String]
            var contentType: String? = "application/json"
            var query = ""
            var status: Int
            var message: String
            /// The end of the message only (it names a measured number of seconds first).
            var suffix = false
        }
        let cases = [
            Case(
                description: "github: wrong signature", hook: "gh", body: body,
                headers: Self.github("not-the-secret", body), status: 401,
                message: "the signature does not match the body"),
            Case(
                description: "github: missing signature", hook: "gh", body: body, headers: [:], status: 401,
                message: "missing X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>"),
            Case(
                description: "github: body modified after signing", hook: "gh", body: #"{"ok":false}"#,
                headers: Self.github(gh, body), status: 401, message: "the signature does not match the body"),
            Case(
                description: "github: malformed signature", hook: "gh", body: body,
                headers: ["X-Hub-Signature-256": "sha1=abc"], status: 401,
                message: "X-Hub-Signature-256 must be sha256= and 64 hex digits"),
            Case(
                description: "standard: wrong secret", hook: "std", body: body,
                headers: Self.standard("whsec_" + Data(repeating: 7, count: 32).base64EncodedString(), body),
                status: 401, message: "no signature in webhook-signature matches id.timestamp.body"),
            Case(
                description: "standard: body modified after signing", hook: "std", body: #"{"ok":1}"#,
                headers: Self.standard(std, body), status: 401,
                message: "no signature in webhook-signature matches id.timestamp.body"),
            Case(
                description: "standard: stale timestamp", hook: "std", body: body,
                headers: Self.standard(std, body, timestamp: now - 600), status: 401,
                message: " s old; at most 300 s is accepted", suffix: true),
            Case(
                description: "standard: future timestamp", hook: "std", body: body,
                headers: Self.standard(std, body, timestamp: now + 600), status: 401,
                message: " s in the future; at most 300 s is accepted", suffix: true),
            Case(
                description: "standard: a timestamp of Int64.min, before any secret is checked", hook: "std",
                body: "{}",
                headers: [
                    "webhook-id": "msg_1", "webhook-timestamp": "-9223372036854775808", "webhook-signature": "v1,AAAA",
                ], status: 401,
                message: "webhook-timestamp is 9223372036854775807 s old; at most 300 s is accepted"),
            Case(
                description: "standard: a timestamp of Int64.max", hook: "std", body: "{}",
                headers: [
                    "webhook-id": "msg_1", "webhook-timestamp": "9223372036854775807", "webhook-signature": "v1,AAAA",
                ], status: 401, message: " s in the future; at most 300 s is accepted", suffix: true),
            Case(
                description: "standard: missing headers", hook: "std", body: body, headers: [:], status: 401,
                message: "missing webhook-id, webhook-timestamp or webhook-signature (Standard Webhooks)"),
            Case(
                description: "standard: a replayed id with another body", hook: "std", body: #"{"ok":"again"}"#,
                headers: Self.standard(std, #"{"ok":"again"}"#, id: "msg_replay"), status: 409,
                message: "delivery id msg_replay was used before with a different body; each delivery needs its own id"),
            Case(
                description: "token: wrong token", hook: "tok", body: body, headers: ["Authorization": "Bearer nope"],
                status: 401, message: "the token is not valid for this webhook"),
            Case(
                description: "token: missing", hook: "tok", body: body, headers: [:], status: 401,
                message: "missing Authorization: Bearer <token> or X-Gitlab-Token"),
            Case(
                description: "unknown hook", hook: "nope", body: body, headers: Self.github(gh, body), status: 404,
                message: #"no webhook "nope"; schedules with a webhook trigger answer at /hooks/NAME"#),
            Case(
                description: "schedule without a webhook trigger", hook: "cron_only", body: body, headers: [:],
                status: 404, message: #"no webhook "cron_only"; schedules with a webhook trigger answer at /hooks/NAME"#
            ),
            Case(
                description: "paused schedule", hook: "paused", body: body,
                headers: Self.github(hooks.secrets["paused"]!, body), status: 409,
                message: "schedule paused is paused; resume it to accept deliveries"),
            Case(
                description: "invalid JSON with a JSON content type", hook: "gh", body: #"{"ok":"#,
                headers: Self.github(gh, #"{"ok":"#), status: 400,
                message: "the body is not valid JSON (the content type says it is)"),
            Case(
                description: "a content type not accepted", hook: "gh", body: body, headers: Self.github(gh, body),
                contentType: "application/xml", status: 415,
                message:
                    #"content type "application/xml" is not accepted; send application/json, application/x-www-form-urlencoded or text/plain"#
            ),
            Case(
                description: "a signed ?wait= whose parts overflow a 64-bit sum", hook: "gh", body: body,
                headers: Self.github(gh, body), query: "?wait=" + String(repeating: "999999999d", count: 100),
                status: 400,
                message:
                    "wait \"\(String(repeating: "999999999d", count: 100))\" must be a duration from 1s to 1m, like 30s"
            ),
            Case(
                description: "a delivery id with a space", hook: "gh", body: body,
                headers: Self.github(gh, body).merging(["X-GitHub-Delivery": "a b"]) { a, _ in a }, status: 400,
                message: "x-github-delivery must be 1-200 printable characters without spaces"),
        ]
        for c in cases {
            let answer = try await hooks.post(
                c.hook, body: c.body, headers: c.headers, contentType: c.contentType, query: c.query)
            #expect(answer.status == c.status, "\(c.description): \(answer.json)")
            let message = answer.json["error"]?["message"]?.stringValue ?? ""
            #expect(c.suffix ? message.hasSuffix(c.message) : message == c.message, "\(c.description): \(message)")
        }
        // A body over the limit: the daemon answers 413 and closes without reading the rest, so a
        // client still sending may find the connection reset. Sent over a plain socket, which stops
        // writing at the first refusal and reads the answer all the same.
        let oversized = [UInt8](repeating: 120, count: (1 << 20) + 1)
        let head = Array(
            "POST /hooks/gh HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Length: \(oversized.count)\r\n\r\n"
                .utf8)
        let chunks = stride(from: 0, to: oversized.count, by: 65_536).map {
            Array(oversized[$0..<min($0 + 65_536, oversized.count)])
        }
        let port = hooks.daemon.port
        let outcome = try await Task.detached { try RawHTTP.exchange(port: port, head: head, chunks: chunks) }.value
        #expect(outcome.status == 413, "\(outcome.response.prefix(300))")
        #expect(outcome.response.contains("the body is 1048577 bytes; webhooks take at most 1048576"))
        // The same delivery again: the first run, no second one.
        let again = try await hooks.post("std", body: body, headers: Self.standard(std, body, id: "msg_replay"))
        #expect(again.status == 200)
        #expect(again.json["duplicate"] == true)
        #expect(again.json["run_id"] == first.json["run_id"])
        #expect(try await Self.snapshot(hooks) == before)
        #expect(try await hooks.daemon.stop() == 0)
    }

    @Test("a body streamed past the limit gets 413 and the daemon stops reading it")
    func streamedBody() async throws {
        let hooks = try await Hooks.start(mlflow: nil)
        let head = Array(
            "POST /hooks/gh HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                .utf8)
        let chunk = Array("10000\r\n".utf8) + [UInt8](repeating: 120, count: 65_536) + Array("\r\n".utf8)
        let port = hooks.daemon.port
        // 64 MiB offered; a daemon that read it all would take every chunk.
        let outcome = try await Task.detached {
            try RawHTTP.exchange(port: port, head: head, chunks: Array(repeating: chunk, count: 1024))
        }.value
        #expect(outcome.status == 413, "\(outcome.response.prefix(300))")
        #expect(outcome.sent < 16 << 20, "the daemon took \(outcome.sent) bytes")
        #expect(try await hooks.daemon.withStore { try await $0.runs(scheduleID: nil, limit: 10, before: nil) }.isEmpty)
        #expect(try await hooks.daemon.stop() == 0)
    }

    @Test(
        "over the rate: 429 with Retry-After, nothing stored for the refused requests, and bad signatures take no token"
    )
    func rateLimit() async throws {
        // One request per ten seconds, in bursts of one.
        let hooks = try await Hooks.start(mlflow: nil, arguments: ["--hook-rate", "0.1/s"])
        let secret = hooks.secrets["gh"]!
        // Requests with a wrong signature take no token: they cannot use up the sender's allowance.
        for i in 0..<5 {
            let body = #"{"stranger":\#(i)}"#
            let answer = try await hooks.post("gh", body: body, headers: Self.github("not-the-secret", body))
            #expect(answer.status == 401, "\(answer.json)")
        }
        var statuses: [Int] = []
        var retryAfter: String?
        for i in 0..<6 {
            let body = #"{"i":\#(i)}"#
            let answer = try await hooks.post("gh", body: body, headers: Self.github(secret, body))
            statuses.append(answer.status)
            if answer.status == 429 {
                retryAfter = answer.retryAfter
                #expect(
                    answer.json["error"]?["message"]?.stringValue?.hasPrefix("too many requests for this webhook")
                        == true)
            }
        }
        // The first goes through; the rest come long before the bucket refills.
        #expect(statuses.first == 202, "\(statuses)")
        #expect(statuses.filter { $0 == 429 }.count >= 4, "\(statuses)")
        #expect(retryAfter.flatMap(Int.init).map { $0 >= 1 } == true)
        let runs = try await hooks.daemon.withStore { try await $0.runs(scheduleID: nil, limit: 100, before: nil) }
        #expect(runs.count == statuses.filter { $0 == 202 }.count)
        #expect(try await hooks.daemon.stop() == 0)
    }

    @Test("the same delivery id 20 times at once: exactly one run, every answer names it")
    func concurrentDuplicates() async throws {
        let hooks = try await Hooks.start(mlflow: nil)
        let body = #"{"push":1}"#
        let headers = Self.github(hooks.secrets["gh"]!, body).merging(["X-GitHub-Delivery": "same-id"]) { a, _ in a }
        let answers = try await withThrowingTaskGroup(of: DaemonProcess.Answer.self) { group in
            for _ in 0..<20 { group.addTask { try await hooks.post("gh", body: body, headers: headers) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.filter { $0.status == 202 }.count == 1, "\(answers.map(\.status))")
        #expect(answers.filter { $0.status == 200 && $0.json["duplicate"] == true }.count == 19)
        #expect(Set(answers.compactMap { $0.json["run_id"]?.stringValue }).count == 1)
        let runs = try await hooks.daemon.withStore {
            try await $0.runs(scheduleID: hooks.ids["gh"], limit: 100, before: nil)
        }
        #expect(runs.count == 1)
        #expect(try await hooks.daemon.stop() == 0)
    }

    @Test("secret rotation: both secrets work during the grace period, only the new one after a rotation without grace")
    func rotation() async throws {
        let hooks = try await Hooks.start(mlflow: nil)
        let old = hooks.secrets["gh"]!
        let rotated = try await hooks.daemon.request(
            "POST", "/api/v1/schedules/gh/secret/rotate", body: #"{"grace":"1h"}"#)
        let new = try #require(rotated.json["webhook_secret"]?.stringValue)
        #expect(new != old)
        #expect(rotated.json["webhook_previous_secret_until"]?.stringValue != nil)
        for secret in [old, new] {
            let answer = try await hooks.post("gh", body: "{}", headers: Self.github(secret, "{}"))
            #expect(answer.status == 202, "\(answer.json)")
        }
        let again = try await hooks.daemon.request(
            "POST", "/api/v1/schedules/gh/secret/rotate", body: #"{"grace":"0s"}"#)
        let newest = try #require(again.json["webhook_secret"]?.stringValue)
        #expect(try await hooks.post("gh", body: "{}", headers: Self.github(new, "{}")).status == 401)
        #expect(try await hooks.post("gh", body: "{}", headers: Self.github(newest, "{}")).status == 202)
        // Standard Webhooks: several signatures in one header (a sender rotating its key); one match is enough.
        var signed = Self.standard(hooks.secrets["std"]!, "{}")
        let wrong = "v1," + Data(repeating: 1, count: 32).base64EncodedString()
        signed["webhook-signature"] = "\(wrong) \(signed["webhook-signature"]!)"
        #expect(try await hooks.post("std", body: "{}", headers: signed).status == 202)
        signed["webhook-id"] = "msg_other"
        signed["webhook-signature"] = wrong
        #expect(try await hooks.post("std", body: "{}", headers: signed).status == 401)
        // GitLab sends its token in X-Gitlab-Token.
        let gitlab = try await hooks.post("tok", body: "{}", headers: ["X-Gitlab-Token": hooks.secrets["tok"]!])
        #expect(gitlab.status == 202, "\(gitlab.json)")
        // Token secrets are stored only as a hash.
        let stored = try #require(try await hooks.daemon.withStore { try await $0.schedule(named: "tok") })
        #expect(stored.webhookSecret?.hasPrefix("sha256:") == true)
        #expect(stored.webhookSecret?.contains(hooks.secrets["tok"]!) == false)
        #expect(try await hooks.daemon.stop() == 0)
    }

    @Test("fuzz: 3,000 malformed requests (methods, paths, headers, bodies): no 5xx, no crash, no run")
    func fuzz() async throws {
        let hooks = try await Hooks.start(mlflow: nil, arguments: ["--hook-rate", "100000/s"])
        var generator = SplitMix64(
            seed: UInt64(ProcessInfo.processInfo.environment["WEBHOOK_FUZZ_SEED"] ?? "") ?? 20_261_125)
        let seed = generator.state
        let methods = ["POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "P0ST", "", "POST POST"]
        let paths = [
            "/hooks/gh", "/hooks/std", "/hooks/tok", "/hooks/", "/hooks/gh/extra", "/hooks/%00",
            "/hooks/" + String(repeating: "a", count: 3000),
            "/hooks/paused", "/hooks/cron_only", "/api/v1/schedules", "/", "*", "/hooks/gh?wait=abc",
            "/hooks/gh?wait=999h",
        ]
        let headerNames = [
            "Content-Type", "X-Hub-Signature-256", "webhook-id", "webhook-timestamp", "webhook-signature",
            "Authorization",
            "X-Gitlab-Token", "Content-Length", "Transfer-Encoding", "X-GitHub-Delivery", "Idempotency-Key", "Expect",
        ]
        let values = [
            "application/json", "text/plain", "application/x-www-form-urlencoded", "sha256=", "sha256=zz", "v1,",
            "v1,AAAA", "Bearer ", "Bearer x", "-1", "99999999999999999999", "chunked", "100-continue", "\u{7f}",
            String(repeating: "v", count: 5000), "ünï", "1700000000",
        ]
        let bodies: [[UInt8]] = [
            [], Array("{".utf8), Array("{\"a\":1}".utf8), Array("a=%zz".utf8), [0xff, 0xfe, 0x00],
            Array(repeating: 0x41, count: 70_000), Array("null".utf8), Array("[]".utf8),
        ]
        func pick<T>(_ items: [T]) -> T { generator.pick(items) }
        var requests: [[UInt8]] = []
        for _ in 0..<3000 {
            let body =
                generator.next() % 8 == 0
                ? (0..<Int(generator.next() % 300)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                : pick(bodies)
            var head = "\(pick(methods)) \(pick(paths)) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            for _ in 0..<Int(generator.next() % 6) { head += "\(pick(headerNames)): \(pick(values))\r\n" }
            if generator.next() % 4 != 0 { head += "Content-Length: \(body.count)\r\n" }
            head += "Connection: close\r\n\r\n"
            requests.append(Array(head.utf8) + body)
        }
        let port = hooks.daemon.port
        let statuses = try await withThrowingTaskGroup(of: [Int?].self) { group in
            for worker in 0..<8 {
                let mine = stride(from: worker, to: requests.count, by: 8).map { requests[$0] }
                group.addTask {
                    try mine.map { try RawHTTP.exchange(port: port, head: $0, readTimeout: 5).status }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let errors = statuses.compactMap { $0 }.filter { $0 >= 500 }
        #expect(errors.isEmpty, "5xx answers: \(errors.count) (seed \(seed))")
        #expect(statuses.compactMap { $0 }.count > 2000, "answers: \(statuses.compactMap { $0 }.count) of 3000")
        #expect((try await hooks.daemon.request("GET", "/healthz", authorized: false)).status == 200)
        #expect(
            try await hooks.daemon.withStore { try await $0.runs(scheduleID: nil, limit: 10, before: nil) }.isEmpty,
            "seed \(seed)")
        #expect(try await hooks.daemon.stop() == 0)
    }

    @Test("SIGKILL right after a 202: after a restart the accepted run starts")
    func killAfterAccept() async throws {
        let directory = try schedulesDirectory(
            workflows: ["tick": DaemonTests.tick, "slow": DaemonTests.slow],
            // Longer than any delay before the kill, so the delivery's run is surely still queued then.
            scripts: ["scripts/slow.sh": "#!/bin/sh\ncat > /dev/null\nsleep 120\n"])
        let daemon = try DaemonProcess(schedules: directory, mlflow: nil)
        try await daemon.start(extraArguments: ["--max-runs", "1"])
        for body in [
            #"{"name":"blocker","workflow":"slow","cron":"0 0 1 1 *"}"#,
            #"{"name":"gh","workflow":"tick","webhook":true}"#,
        ] {
            #expect(try await daemon.request("POST", "/api/v1/schedules", body: body).status == 201)
        }
        let secret = try #require(
            try await daemon.request("POST", "/api/v1/schedules/gh/secret/rotate", body: #"{"grace":"0s"}"#)
                .json["webhook_secret"]?.stringValue)
        // The only slot is taken, so the delivery's run waits queued when the daemon dies.
        #expect(try await daemon.request("POST", "/api/v1/schedules/blocker/run", body: "{}").status == 202)
        let accepted = try await daemon.send(
            "POST", "/hooks/gh", body: Data("{}".utf8),
            headers: Self.github(secret, "{}").merging(["Content-Type": "application/json"]) { a, _ in a })
        #expect(accepted.status == 202, "\(accepted.json)")
        #expect(try await daemon.stop(signal: SIGKILL) == SIGKILL)
        let runID = try #require(accepted.json["run_id"]?.stringValue)
        #expect(
            try await daemon.withStore { try await $0.run(id: runID)?.state } == .queued,
            "the accepted run is stored, and had not run yet")
        try await daemon.start()
        try await eventually(timeout: .seconds(60), "the accepted run ran after the restart") {
            try await daemon.request("GET", "/api/v1/runs/\(runID)").json["state"] == "succeeded"
        }
        #expect(try await daemon.stop() == 0)
    }
}
