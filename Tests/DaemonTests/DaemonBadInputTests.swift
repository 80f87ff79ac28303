import Foundation
import SchedulerTesting
import Storage
import Testing
import Workflows

/// Bad input through the API: a clear message, the right status, and the database unchanged.
@Suite("schedulerd refuses bad input and stores nothing")
struct DaemonBadInputTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var method: String
        var path: String
        var body: String?
        var token: String??
        var status: Int
        var message: String
    }

    static let cases: [Case] = [
        Case(
            description: "invalid cron", method: "POST", path: "/api/v1/schedules",
            body: #"{"name":"x","cron":"61 * * * *","workflow":"tick"}"#, status: 400,
            message: #"cron: invalid cron expression "61 * * * *": minute field "61" is out of range 0-59"#),
        Case(
            description: "unknown zone", method: "POST", path: "/api/v1/schedules",
            body: #"{"name":"x","cron":"0 2 * * *","time_zone":"Mars/Olympus","workflow":"tick"}"#, status: 400,
            message:
                #"time_zone: unknown time zone "Mars/Olympus"; use an IANA name like America/New_York, Europe/Berlin or UTC"#
        ),
        Case(
            description: "unknown workflow", method: "POST", path: "/api/v1/schedules",
            body: #"{"name":"x","cron":"0 2 * * *","workflow":"nope"}"#, status: 400,
            message: #"workflow: "nope" is not loaded; known: tick"#),
        Case(
            description: "duplicate name", method: "POST", path: "/api/v1/schedules",
            body: #"{"name":"existing","cron":"0 3 * * *","workflow":"tick"}"#, status: 409,
            message: #"a schedule named "existing" exists already; pick another name or rm it first"#),
        Case(
            description: "neither cron, webhook nor manual", method: "POST", path: "/api/v1/schedules",
            body: #"{"name":"x","workflow":"tick"}"#, status: 400,
            message: "cron: is missing; give a cron expression, webhook: true, or both (or manual: true)"),
        Case(
            description: "manual with cron", method: "POST", path: "/api/v1/schedules",
            body: #"{"name":"x","cron":"0 2 * * *","manual":true,"workflow":"tick"}"#, status: 400,
            message: "manual: cannot be combined with cron; a manual schedule runs only with `schedule run`"),
        Case(
            description: "negative duration", method: "POST", path: "/api/v1/schedules",
            body: #"{"name":"x","cron":"0 2 * * *","workflow":"tick","jitter":"-5s"}"#, status: 400,
            message: #"jitter: "-5s" is not a duration from 0s to 1d; use 30s, 5m, 1h30m (no sign)"#),
        Case(
            description: "a duration whose parts would overflow a 64-bit sum: refused for its length", method: "POST",
            path: "/api/v1/schedules",
            body:
                #"{"name":"x","cron":"0 2 * * *","workflow":"tick","timeout":"\#(String(repeating: "999999999d", count: 100))"}"#,
            status: 400, message: "timeout: is 1000 characters long; at most 64 are allowed"),
        Case(
            description: "a 100 KB cron expression", method: "POST", path: "/api/v1/schedules",
            body: #"{"name":"x","cron":"\#(String(repeating: "1,", count: 50_000))1 * * * *","workflow":"tick"}"#,
            status: 400, message: "cron: is 100009 characters long; at most 1024 are allowed"),
        Case(
            description: "a duration past the limit", method: "POST", path: "/api/v1/schedules",
            body: #"{"name":"x","cron":"0 2 * * *","workflow":"tick","catchup":"31d"}"#, status: 400,
            message: #"catchup: "31d" is longer than the limit; allowed: 0s to 30d"#),
        Case(
            description: "malformed JSON", method: "POST", path: "/api/v1/schedules", body: #"{"name": "x", "cron": "#,
            status: 400, message: "the request body is not valid JSON"),
        Case(
            description: "wrong type", method: "POST", path: "/api/v1/schedules",
            body: #"{"name":"x","cron":5,"workflow":"tick"}"#, status: 400,
            message: "field cron has the wrong type: Expected to decode String but found number instead."),
        Case(
            description: "missing token", method: "GET", path: "/api/v1/schedules", token: .some(nil), status: 401,
            message:
                "missing Authorization: Bearer <token>; the token is in <data-dir>/admin.token or SCHEDULERD_TOKEN"),
        Case(
            description: "wrong token", method: "POST", path: "/api/v1/schedules",
            body: #"{"name":"x","cron":"0 2 * * *","workflow":"tick"}"#, token: .some("wrong"), status: 401,
            message: "the bearer token is not valid"),
        Case(
            description: "unknown schedule", method: "POST", path: "/api/v1/schedules/nope/run", body: "{}",
            status: 404, message: #"no schedule with id or name "nope""#),
        Case(
            description: "unknown schedule to delete", method: "DELETE", path: "/api/v1/schedules/sch_nope",
            status: 404, message: #"no schedule with id or name "sch_nope""#),
        Case(
            description: "unknown run", method: "GET", path: "/api/v1/runs/run_nope", status: 404,
            message: "no run with id run_nope"),
        Case(
            description: "misspelt field", method: "POST", path: "/api/v1/schedules",
            body: #"{"name":"x","cron":"0 2 * * *","timezone":"Europe/Berlin","workflow":"tick"}"#, status: 400,
            message: #"unknown field "timezone"; the fields here are "#
                + "catchup, catchup_mode, cron, day_match, dst_fold, dst_gap, expected_duration, input, jitter, manual, "
                + "name, notify, overlap, pause_note, paused, "
                + "remaining_runs, retry, time_zone, timeout, webhook, webhook_scheme, webhook_secret_env, workflow"),
        Case(
            description: "unknown field in an applied schedule", method: "POST", path: "/api/v1/apply",
            body:
                #"{"schedules":[{"source":"x.yaml","schedule":{"name":"x","cron":"0 2 * * *","workflow":"tick","retries":3,"owner":"me"}}]}"#,
            status: 400,
            message: #"unknown field "schedules[0].schedule.owner" (and 1 more); the fields here are "#
                + "catchup, catchup_mode, cron, day_match, dst_fold, dst_gap, expected_duration, input, jitter, manual, "
                + "name, notify, overlap, pause_note, paused, "
                + "remaining_runs, retry, time_zone, timeout, webhook, webhook_scheme, webhook_secret_env, workflow"),
        Case(
            description: "unknown field in a run request", method: "POST", path: "/api/v1/schedules/existing/run",
            body: #"{"inputs": {"a": 1}}"#, status: 400,
            message: #"unknown field "inputs"; the fields here are input"#),
        Case(
            description: "input not an object", method: "POST", path: "/api/v1/schedules/existing/run",
            body: #"{"input": [1, 2]}"#, status: 400, message: "input must be a JSON object, not array"),
    ]

    /// Everything the database holds that a request could change.
    static func snapshot(_ store: any SchedulerStore) async throws -> String {
        let schedules = try await store.schedules().map { "\($0)" }
        let runs = try await store.runs(scheduleID: nil, limit: 10_000, before: nil).map { "\($0)" }
        return (schedules + runs).joined(separator: "\n")
    }

    @Test("each bad request gets its status and message, and the database stays as it was")
    func refused() async throws {
        let daemon = try DaemonProcess(
            schedules: try schedulesDirectory(workflows: ["tick": DaemonTests.tick]), mlflow: nil)
        try await daemon.start()
        let created = try await daemon.request(
            "POST", "/api/v1/schedules", body: #"{"name":"existing","cron":"0 0 1 1 *","workflow":"tick"}"#)
        #expect(created.status == 201)
        let before = try await daemon.withStore(Self.snapshot)
        for c in Self.cases {
            let answer: DaemonProcess.Answer
            switch c.token {
            case .none: answer = try await daemon.request(c.method, c.path, body: c.body)
            case .some(.none): answer = try await daemon.request(c.method, c.path, body: c.body, authorized: false)
            case .some(.some(let token)):
                answer = try await daemon.request(c.method, c.path, body: c.body, token: token)
            }
            #expect(answer.status == c.status, "\(c): \(answer.json)")
            #expect(answer.json["error"]?["message"]?.stringValue == c.message, "\(c)")
        }
        #expect(try await daemon.withStore(Self.snapshot) == before)
        #expect(try await daemon.stop() == 0)
    }
}

/// Settings the daemon refuses before it starts anything.
@Suite("schedulerd refuses bad settings")
struct DaemonSettingsTests {
    @Test(
        "a bad setting exits 2 with one line that says what is allowed",
        arguments: [
            (["--retention", "24h"], [:], "retention \"24h\" must be a duration from 72h"),
            ([], ["SCHEDULERD_RETENTION": "soon"], "retention \"soon\" must be a duration from 72h"),
            (
                ["--http-ca-bundle", "/nonexistent/ca.pem"], [:],
                "the CA bundle for http nodes \"/nonexistent/ca.pem\" is not a readable file"
            ),
            ([], ["SCHEDULERD_HTTP_CA_BUNDLE": "/etc"], "the CA bundle for http nodes \"/etc\" is not a readable file"),
            (["--max-runs", "0"], [:], "max runs 0 must be from 1 to 10000"),
            (["--listen", "8088"], [:], "listen address \"8088\" must be HOST:PORT"),
            (
                ["--database", "mysql://u@h/db"], [:],
                "database URL: the database URL's scheme \"mysql\" is not postgres:// or postgresql://"
            ),
            (
                [], ["SCHEDULERD_DATABASE_URL": "postgres://u@h:5432"],
                "database URL: the database URL names no database"
            ),
            (["--durability", "sometimes"], [:], "durability \"sometimes\" must be full (new runs and schedule"),
            ([], ["SCHEDULERD_DURABILITY": "fast"], "durability \"fast\" must be full"),
            (
                ["--heartbeat-url", "ftp://watch.example/abc"], [:],
                "heartbeat URL \"watch.example\" must be an http:// or https:// URL with a host"
            ),
            (
                [], ["SCHEDULERD_HEARTBEAT_URL": "hc-ping.com/secret-check-id"],
                "heartbeat URL \"(not a URL)\" must be an http:// or https:// URL"
            ),
            (["--heartbeat-every", "0s"], [:], "heartbeat interval \"0s\" must be a duration from 1s to 1h"),
            (
                ["--script-users", "500-600"], [:],
                "script users \"500-600\" must be a range of user ids FIRST-LAST, from 1000"
            ),
            ([], ["SCHEDULERD_SCRIPT_USERS": "61999-61000"], "script users \"61999-61000\" must be a range"),
            (["--public-url", "ftp://x"], [:], "public URL \"ftp://x\" must be an http:// or https:// URL"),
        ])
    func refused(arguments: [String], environment: [String: String], message: String) throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent(
            "settings-\(UUID().uuidString.prefix(8))")
        let result = try runProcess(
            DaemonProcess.productsDirectory.appendingPathComponent("schedulerd"),
            ["--data-dir", data.path, "--schedules", data.path] + arguments,
            environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()].merging(environment) { _, new in new
            })
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("schedulerd: ") && result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: data.path), "nothing is created")
    }

    @Test("as root, a data directory below a folder the scripts' user cannot pass: refused at start, naming it")
    func unreachableWorkFolder() throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent(
            "closed-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: parent.path)
        let schedules = try schedulesDirectory(workflows: ["tick": DaemonTests.tick])
        let result = try runProcess(
            DaemonProcess.productsDirectory.appendingPathComponent("schedulerd"),
            ["--data-dir", parent.appendingPathComponent("data").path, "--schedules", schedules.path],
            environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "SCHEDULERD_LISTEN": "127.0.0.1:1"])
        if geteuid() == 0 {
            #expect(result.status != 0, "\(result.stderr)")
            #expect(
                result.stderr.contains("which cannot pass \(parent.path) (mode 700)")
                    && result.stderr.contains("chmod o+x \(parent.path)"), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        } else {
            // Scripts run as the daemon's own user, who can pass its own folder: no refusal for this.
            #expect(!result.stderr.contains("cannot pass"), "\(result.stderr)")
        }
    }
}
