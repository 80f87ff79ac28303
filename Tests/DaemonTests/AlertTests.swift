import Foundation
import HTTPClient
import SchedulerTesting
import Testing
import Workflows

/// Alerts through a real daemon to real receivers on 127.0.0.1 (Tests/Fixtures/alert_receiver.py):
/// a webhook receiver that checks the Standard Webhooks signature, a Slack-shaped one, and an SMTP
/// server.
@Suite("schedulerd alerts its receivers")
struct AlertTests {
    /// Fails when its input says `fail: true`, succeeds otherwise.
    static let toggle = "name: toggle\nentry: work\nnodes:\n  work:\n    script: scripts/toggle.sh\n"
    static let toggleScript = """
        #!/bin/sh
        if grep -q '"fail": *true'; then echo 'the upstream file is missing' >&2; exit 3; fi
        echo '{}'

        """
    static let secret = "whsec_" + Data("alert-test-secret-32-bytes-long!".utf8).base64EncodedString()

    /// The receivers, and a daemon whose schedule `watched` alerts them.
    static func setUp(notify: String) async throws -> (FixtureProcess, DaemonProcess, Int) {
        let receiver = try await FixtureProcess.start(script: "alert_receiver.py", arguments: [secret])
        let smtpPort = Int(try await Self.json(receiver, "/smtp-port").doubleValue ?? 0)
        let smtpCertificate = try await Self.json(receiver, "/smtp-cert").stringValue ?? ""
        let directory = try schedulesDirectory(
            workflows: ["toggle": Self.toggle], scripts: ["scripts/toggle.sh": Self.toggleScript],
            schedules: ["watched": "manual: true\nworkflow: toggle\nnotify:\n\(notify)"])
        let daemon = try DaemonProcess(
            schedules: directory, mlflow: nil,
            environment: [
                "ALERT_BASE": "http://127.0.0.1:\(receiver.port)", "ALERT_SECRET": secret,
                "SLACK_URL": "http://127.0.0.1:\(receiver.port)/slack/team",
                // STARTTLS is required, and the server's certificate trusted; the login is in the URL.
                "SMTP_URL": "smtp://alerts:s3cret@127.0.0.1:\(smtpPort)?tls=required",
                "SMTP_WRONG_LOGIN": "smtp://alerts:not-the-password@127.0.0.1:\(smtpPort)?tls=required",
                "SCHEDULERD_HTTP_CA_BUNDLE": smtpCertificate,
                "SCHEDULERD_PUBLIC_URL": "https://scheduler.example.com",
            ])
        try await daemon.start()
        return (receiver, daemon, smtpPort)
    }

    static func json(_ receiver: FixtureProcess, _ path: String) async throws -> JSONValue {
        let answer = try await HTTPClient(label: "test").perform(
            method: "GET", url: "http://127.0.0.1:\(receiver.port)\(path)")
        return try JSONValue(json: Data(answer.body))
    }

    static func control(_ receiver: FixtureProcess, _ path: String) async throws {
        _ = try await HTTPClient(label: "test").perform(method: "GET", url: "http://127.0.0.1:\(receiver.port)\(path)")
    }

    /// Runs `watched` once, failing or not, and waits for its end.
    static func run(_ daemon: DaemonProcess, failing: Bool) async throws -> String {
        let started = try await daemon.request(
            "POST", "/api/v1/schedules/watched/run", body: #"{"input": {"fail": \#(failing)}}"#)
        let id = try #require(started.json["run_id"]?.stringValue, "\(started.json)")
        do {
            try await eventually(timeout: .seconds(90), "run \(id) ended") {
                let state = try await daemon.request("GET", "/api/v1/runs/\(id)").json["state"]?.stringValue
                return state == (failing ? "failed" : "succeeded")
            }
        } catch {
            let run = try? await daemon.request("GET", "/api/v1/runs/\(id)").json
            throw TestFailure(
                description: "\(error); the run: \(run.map { "\($0)" } ?? "?"); the daemon's log:\n"
                    + daemon.logText().split(separator: "\n").suffix(40).joined(separator: "\n"))
        }
        return id
    }

    @Test("a failure streak alerts each target once, signed, and its end alerts recovered; schedule alerts lists them")
    func streak() async throws {
        let (receiver, daemon, _) = try await Self.setUp(
            notify: """
                  - {on: [failure, recovered], webhook: {url: "${ALERT_BASE}/hook/ops", secret_env: ALERT_SECRET}}
                  - {on: [failure], slack: {url_env: SLACK_URL}}
                  - {on: [failure], email: {smtp_env: SMTP_URL, to: [oncall@example.com]}}

                """)
        let failed = try await Self.run(daemon, failing: true)
        try await eventually(timeout: .seconds(30), "the failure reached the three receivers") {
            let hooks = try await Self.json(receiver, "/received/ops").arrayValue ?? []
            let slack = try await Self.json(receiver, "/received/team").arrayValue ?? []
            let mails = try await Self.json(receiver, "/mail").arrayValue ?? []
            return hooks.count == 1 && slack.count == 1 && mails.count == 1
        }
        _ = try await Self.run(daemon, failing: true)
        let recovered = try await Self.run(daemon, failing: false)
        try await eventually(timeout: .seconds(30), "the recovery reached the webhook") {
            (try await Self.json(receiver, "/received/ops").arrayValue ?? []).count == 2
        }
        let hooks = try await Self.json(receiver, "/received/ops").arrayValue ?? []
        #expect(hooks.allSatisfy { $0["valid"] == true }, "signed with the secret: \(hooks)")
        let failure = try #require(hooks.first?["body"])
        #expect(failure["event"] == "failure" && failure["type"] == "run.failure")
        #expect(failure["schedule"] == "watched" && failure["run_id"]?.stringValue == failed)
        #expect(failure["state"] == "failed" && failure["attempt"] == 1)
        #expect(failure["error"]?.stringValue?.contains("exit") == true, "\(failure)")
        #expect(failure["run_url"]?.stringValue == "https://scheduler.example.com/runs/\(failed)")
        #expect(failure["duration_ms"]?.doubleValue != nil)
        #expect(
            hooks.last?["body"]?["event"] == "recovered" && hooks.last?["body"]?["run_id"]?.stringValue == recovered)

        let slack = try await Self.json(receiver, "/received/team").arrayValue ?? []
        #expect(slack.first?["text"]?.stringValue?.hasPrefix("*schedulerd: watched failed*") == true, "\(slack)")
        let mail = try #require((try await Self.json(receiver, "/mail").arrayValue ?? []).first)
        #expect(mail["to"] == ["oncall@example.com"] && mail["subject"] == "schedulerd: watched failed")
        #expect(mail["body"]?.stringValue?.contains("run: \(failed)") == true, "\(mail)")

        // Four alerts, delivered: three of the streak's start, one of its end; none of the second failure.
        let listed = try await daemon.request("GET", "/api/v1/alerts?schedule=watched").json["alerts"]?.arrayValue ?? []
        #expect(listed.count == 4, "\(listed)")
        #expect(listed.allSatisfy { $0["state"] == "delivered" && $0["attempts"] == 1 })
        #expect(listed.contains { $0["destination"]?.stringValue == "oncall@example.com" })
        #expect(!"\(listed)".contains(Self.secret), "no secret shown")
        let cli = try ScheduleCLIDaemonTests.schedule(["alerts", "watched"], daemon: daemon)
        #expect(
            cli.status == 0 && cli.stdout.contains("recovered") && cli.stdout.contains("delivered"), "\(cli.stdout)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("a receiver that is down: the alert waits in the outbox across a SIGKILL and arrives once it is back")
    func outboxSurvivesKill() async throws {
        let (receiver, daemon, _) = try await Self.setUp(
            notify: "  - {on: [failure], webhook: {url: \"${ALERT_BASE}/hook/ops\", secret_env: ALERT_SECRET}}\n")
        try await Self.control(receiver, "/answer?box=ops&status=503")
        let failed = try await Self.run(daemon, failing: true)
        var alert: JSONValue = .null
        try await eventually(timeout: .seconds(30), "a delivery tried and failed") {
            alert = (try await daemon.request("GET", "/api/v1/alerts").json["alerts"]?.arrayValue ?? []).first ?? .null
            return alert["attempts"] == 1
        }
        #expect(alert["state"] == "pending" && alert["run_id"]?.stringValue == failed)
        #expect(alert["last_error"]?.stringValue == "127.0.0.1 answered 503", "\(alert)")
        #expect(alert["destination"]?.stringValue == "${ALERT_BASE}", "the variable, not its value")
        #expect(try await daemon.stop(signal: SIGKILL) == SIGKILL)

        try await Self.control(receiver, "/answer?box=ops&status=200")
        try await daemon.start()
        try await eventually(timeout: .seconds(60), "the alert delivered after the restart") {
            (try await Self.json(receiver, "/received/ops").arrayValue ?? []).count >= 1
        }
        let hooks = try await Self.json(receiver, "/received/ops").arrayValue ?? []
        #expect(hooks.first?["valid"] == true && hooks.first?["body"]?["run_id"]?.stringValue == failed)
        #expect(hooks.first?["id"] == alert["id"], "webhook-id is the alert's id")
        try await eventually(timeout: .seconds(30), "stored as delivered") {
            (try await daemon.request("GET", "/api/v1/alerts").json["alerts"]?.arrayValue ?? []).first?["state"]
                == "delivered"
        }
        #expect(try await daemon.stop() == 0)
    }

    @Test("a receiver that hangs holds up no run: later runs end while its delivery still waits")
    func hangingReceiver() async throws {
        let (receiver, daemon, _) = try await Self.setUp(
            notify: "  - {on: [failure, recovered], webhook: {url: \"${ALERT_BASE}/hook/slow\"}}\n")
        try await Self.control(receiver, "/hang?box=slow&seconds=60")
        _ = try await Self.run(daemon, failing: true)
        for _ in 0..<3 { _ = try await Self.run(daemon, failing: false) }
        let alerts = try await daemon.request("GET", "/api/v1/alerts").json["alerts"]?.arrayValue ?? []
        #expect(alerts.count == 2, "the failure and the recovery: \(alerts)")
        #expect(
            alerts.allSatisfy { $0["state"] == "pending" && $0["delivered_at"] == .null },
            "runs went on while the receiver held the delivery")
        #expect((try await Self.json(receiver, "/received/slow").arrayValue ?? []).isEmpty)
        #expect(try await daemon.stop() == 0)
    }

    @Test(
        "a target naming a variable the daemon's environment lacks: the start is refused with the file, line and field")
    func unsetVariable() async throws {
        let directory = try schedulesDirectory(
            workflows: ["toggle": Self.toggle], scripts: ["scripts/toggle.sh": Self.toggleScript],
            schedules: [
                "watched":
                    "manual: true\nworkflow: toggle\nnotify:\n  - on: [failure]\n    webhook: {url: \"https://alerts.example.com/in\", secret_env: NOT_SET_ANYWHERE}\n"
            ])
        let daemon = try DaemonProcess(schedules: directory, mlflow: nil)
        await #expect(throws: (any Error).self) { try await daemon.start() }
        let log = daemon.logText()
        #expect(
            log.contains(
                "watched.yaml:5:65: notify[0].webhook.secret_env: NOT_SET_ANYWHERE is not set in the daemon's environment"
            ),
            "\(log)")
    }

    @Test(
        "a mail server that refuses the login: the alert waits, its error says why, and no password is shown or logged")
    func refusedLogin() async throws {
        let (receiver, daemon, _) = try await Self.setUp(
            notify: "  - {on: [failure], email: {smtp_env: SMTP_WRONG_LOGIN, to: [oncall@example.com]}}\n")
        // Kept to the end: a fixture stops when it is released.
        defer { withExtendedLifetime(receiver) {} }
        _ = try await Self.run(daemon, failing: true)
        var alert: JSONValue = .null
        try await eventually(timeout: .seconds(30), "a delivery tried and refused") {
            alert = (try await daemon.request("GET", "/api/v1/alerts").json["alerts"]?.arrayValue ?? []).first ?? .null
            return alert["attempts"] == 1
        }
        #expect(alert["state"] == "pending" && alert["target"] == "email")
        let error = alert["last_error"]?.stringValue ?? ""
        #expect(error.hasPrefix("127.0.0.1: ") && error.lowercased().contains("login"), "\(error)")
        #expect(!"\(alert)".contains("not-the-password"))
        #expect(try await daemon.stop() == 0)
        #expect(!daemon.logText().contains("not-the-password"), "the log never shows the password")
    }
}
