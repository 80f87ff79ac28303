import ClockTesting
import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SchedulerAPI
import Scheduling
import Storage
import Testing
import Workflows

/// The schedule routes of the admin API through the router in this process: what a client sends and
/// reads back, and what the store holds afterwards.
@Suite("admin API: schedules, in process")
struct ScheduleRoutesTests {
    static let nightly =
        #"{"name":"nightly","cron":"0 2 * * *","time_zone":"Europe/Berlin","workflow":"tick","input":{"days":7}}"#

    @Test("add answers 201 with the schedule and its next fire; list and show read it back")
    func addListShow() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let created = try await client.admin(
                .post, "/api/v1/schedules", Self.nightly, expect: .created, as: ScheduleWithSecret.self)
            #expect(created.schedule.name == "nightly" && created.schedule.timeZone == "Europe/Berlin")
            #expect(created.schedule.input == ["days": 7])
            #expect(created.schedule.nextFires?.count == 1)
            #expect(created.webhookSecret == nil && created.schedule.webhookTrigger == nil)
            // Stamped by the API's clock, to the millisecond the answer carries.
            #expect(abs(created.schedule.createdAt.timeIntervalSince(api.clock.now())) < 0.001)

            let list = try await client.admin(.get, "/api/v1/schedules", as: ScheduleList.self)
            #expect(list.schedules.map(\.schedule.id) == [created.schedule.id])
            #expect(list.schedules.first?.lastRun == nil && list.schedules.first?.problem == nil)
            let shown = try await client.admin(.get, "/api/v1/schedules/nightly", as: ScheduleDetail.self)
            #expect(shown.schedule.nextFires?.count == 5 && shown.runs.isEmpty)
            let byID = try await client.admin(.get, "/api/v1/schedules/\(created.schedule.id)", as: ScheduleDetail.self)
            #expect(byID.schedule.name == "nightly")

            // Fields without a value are there as null, not left out.
            let (_, raw) = try await client.admin(.get, "/api/v1/schedules")
            let item = try #require(raw["schedules"]?.arrayValue?.first?.objectValue)
            for key in ["last_run", "timeout", "pause_note", "remaining_runs", "source"] {
                #expect(item[key] == .null, "\(key)")
            }
            #expect(item["webhook_path"] == nil && item["webhook_secret"] == nil)
        }
    }

    @Test("add refuses a taken name (409), an invalid field (400 with problems), unknown fields and wrong types")
    func addRefusals() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            _ = try await client.admin(.post, "/api/v1/schedules", Self.nightly, expect: .created, as: Schedule.self)
            let taken = try await client.refused(.post, "/api/v1/schedules", Self.nightly, status: .conflict)
            #expect(taken.message == #"a schedule named "nightly" exists already; pick another name or rm it first"#)
            let invalid = try await client.refused(
                .post, "/api/v1/schedules", #"{"name":"x","cron":"61 * * * *","workflow":"nope"}"#,
                status: .badRequest)
            #expect(invalid.problems?.map(\.field) == ["cron", "workflow"])
            #expect(invalid.problems?.allSatisfy { $0.source == nil } == true)
            let misspelt = try await client.refused(
                .post, "/api/v1/schedules", #"{"name":"x","cron":"0 2 * * *","workflow":"tick","timezone":"UTC"}"#,
                status: .badRequest)
            #expect(misspelt.message.hasPrefix(#"unknown field "timezone"; the fields here are catchup, "#))
            let mistyped = try await client.refused(
                .post, "/api/v1/schedules", #"{"name":"x","cron":5,"workflow":"tick"}"#, status: .badRequest)
            #expect(
                mistyped.message == "field cron has the wrong type: Expected to decode String but found number instead."
            )
            let empty = try await client.refused(.post, "/api/v1/schedules", "", status: .badRequest)
            #expect(empty.message == "the request body is not valid JSON")
            #expect(try await api.store.schedules().map(\.name) == ["nightly"])
        }
    }

    @Test("a retry policy is taken, shown with every field, and its bad or unknown fields are refused")
    func retryPolicy() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let created = try await client.admin(
                .post, "/api/v1/schedules",
                #"{"name":"flaky","cron":"0 2 * * *","workflow":"tick","retry":{"attempts":3,"on":["failed"]}}"#,
                expect: .created, as: ScheduleWithSecret.self)
            #expect(
                created.schedule.retry
                    == RetryFields(attempts: 3, backoff: "30s", maxBackoff: "10m", on: ["failed"]))
            #expect(try await api.store.schedule(named: "flaky")?.retry?.attempts == 3)
            let unknown = try await client.refused(
                .post, "/api/v1/schedules",
                #"{"name":"x","cron":"0 2 * * *","workflow":"tick","retry":{"attempts":2,"delay":"1m"}}"#,
                status: .badRequest)
            #expect(unknown.message.hasPrefix(#"unknown field "retry.delay"; the fields here are attempts, backoff, "#))
            let invalid = try await client.refused(
                .post, "/api/v1/schedules",
                #"{"name":"x","cron":"0 2 * * *","workflow":"tick","retry":{"attempts":200,"on":["cancelled"]}}"#,
                status: .badRequest)
            #expect(invalid.problems?.map(\.field) == ["retry.attempts", "retry.on"])
            #expect(try await api.store.schedules().map(\.name) == ["flaky"])
            // A schedule without its own policy shows null: the daemon's default applies.
            let plain = try await client.admin(
                .post, "/api/v1/schedules", Self.nightly, expect: .created, as: ScheduleWithSecret.self)
            #expect(plain.schedule.retry == nil)
        }
    }

    @Test("alert targets are taken with their variables set, shown as written, and refused field by field")
    func notifyTargets() async throws {
        let api = try await InProcessAPI.start(
            environment: [
                "ALERT_URL": "https://alerts.example.com/in", "ALERT_KEY": "whsec_c2VjcmV0",
                "SMTP_URL": "smtp://mail:25",
            ])
        try await api.test { client in
            let body = #"""
                {"name":"watched","cron":"0 2 * * *","workflow":"tick","expected_duration":"20m","notify":[
                 {"on":["failure","recovered"],"webhook":{"url":"${ALERT_URL}","secret_env":"ALERT_KEY"}},
                 {"on":["overdue"],"email":{"smtp_env":"SMTP_URL","to":["oncall@example.com"]}}]}
                """#
            let created = try await client.admin(
                .post, "/api/v1/schedules", body, expect: .created, as: ScheduleWithSecret.self)
            #expect(created.schedule.expectedDuration == "20m")
            #expect(
                created.schedule.notify == [
                    NotifyFields(
                        on: ["failure", "recovered"], webhook: .init(url: "${ALERT_URL}", secretEnv: "ALERT_KEY")),
                    NotifyFields(on: ["overdue"], email: .init(smtpEnv: "SMTP_URL", to: ["oncall@example.com"])),
                ])
            let stored = try #require(try await api.store.schedule(named: "watched"))
            #expect(stored.expectedDurationSeconds == 1200 && stored.notify?.count == 2)

            let bad = #"""
                {"name":"x","cron":"0 2 * * *","workflow":"tick","notify":[
                 {"on":["failure","lunch"],"webhook":{"url":"ftp://host/x","secret_env":"MISSING_KEY"}},
                 {"on":["failure"],"slack":{"url_env":"NOT_SET"},"email":{"smtp_env":"SMTP_URL","to":["x"]}},
                 {"on":["failure"],"email":{"smtp_env":"SMTP_URL","to":["not an address"]}},
                 {"on":["failure"],"webhook":{"url":"https://${NOPE}/in"}}]}
                """#
            let refused = try await client.refused(.post, "/api/v1/schedules", bad, status: .badRequest)
            #expect(
                refused.problems?.map(\.field) == [
                    "notify[0].on", "notify[0].webhook.url", "notify[0].webhook.secret_env", "notify[1].email",
                    "notify[2].email.to", "notify[3].webhook.url",
                ], "\(refused.problems ?? [])")
            #expect(refused.problems?.first?.message.contains(#""lunch" is not an event"#) == true)
            #expect(refused.problems?[2].message.contains("MISSING_KEY is not set") == true)
            let unknown = try await client.refused(
                .post, "/api/v1/schedules",
                #"{"name":"x","cron":"0 2 * * *","workflow":"tick","notify":[{"on":["failure"],"pager":{}}]}"#,
                status: .badRequest)
            #expect(unknown.message.hasPrefix(#"unknown field "notify[0].pager""#), "\(unknown.message)")
            #expect(try await api.store.schedules().map(\.name) == ["watched"])
        }
    }

    @Test("add without a name takes the workflow's, then -2; a workflow not loaded is looked for again")
    func addNamesAndWorkflows() async throws {
        let api = try await InProcessAPI.start(reloadWorkflows: { _ in ["tick", "tock"] })
        try await api.test { client in
            for expected in ["tick", "tick-2"] {
                let created = try await client.admin(
                    .post, "/api/v1/schedules", #"{"workflow":"tick","manual":true}"#, expect: .created,
                    as: ScheduleWithSecret.self)
                #expect(created.schedule.name == expected && created.schedule.manual)
            }
            let tock = try await client.admin(
                .post, "/api/v1/schedules", #"{"workflow":"tock","webhook":true}"#, expect: .created,
                as: ScheduleWithSecret.self)
            #expect(tock.schedule.webhookTrigger?.path == "/hooks/tock")
            #expect(tock.schedule.webhookTrigger?.scheme == "github")
            #expect(tock.webhookSecret?.count == 64)
        }
    }

    @Test("pause stores the note and the time; resume fires from now; unknown names get 404 with the closest")
    func pauseResume() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let created = try await client.admin(
                .post, "/api/v1/schedules", Self.nightly, expect: .created, as: Schedule.self)
            api.clock.advance(by: 3600)
            let paused = try await client.admin(
                .post, "/api/v1/schedules/nightly/pause", #"{"note":"maintenance"}"#, as: Schedule.self)
            #expect(paused.paused && paused.pauseNote == "maintenance")
            #expect(paused.nextFires == nil)
            #expect(abs(paused.updatedAt.timeIntervalSince(created.createdAt) - 3600) < 0.001)
            #expect(try await api.store.schedule(named: "nightly")?.paused == true)
            let mistyped = try await client.refused(
                .post, "/api/v1/schedules/nightly/pause", #"{"note":5}"#, status: .badRequest)
            #expect(mistyped.message.hasPrefix("field note has the wrong type"))

            let resumed = try await client.admin(.post, "/api/v1/schedules/nightly/resume", as: ResumedSchedule.self)
            #expect(resumed.resumed && resumed.message == nil && !resumed.schedule.paused)
            #expect(resumed.schedule.nextFires?.count == 1)
            let stored = try #require(try await api.store.schedule(named: "nightly"))
            #expect(stored.lastFireSeconds == Int64(api.clock.now().timeIntervalSince1970.rounded(.down)))

            let unknown = try await client.refused(.post, "/api/v1/schedules/nightli/pause", status: .notFound)
            #expect(unknown.message == #"no schedule with id or name "nightli"; did you mean "nightly"?"#)
        }
    }

    @Test("delete answers the id and name; the schedule is gone from the store and the scheduler")
    func delete() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let created = try await client.admin(
                .post, "/api/v1/schedules", Self.nightly, expect: .created, as: Schedule.self)
            let deleted = try await client.admin(.delete, "/api/v1/schedules/nightly", as: DeletedSchedule.self)
            #expect(deleted == DeletedSchedule(deleted: created.id, name: "nightly"))
            #expect(api.scheduler.schedule("nightly") == nil)
            _ = try await client.refused(.get, "/api/v1/schedules/nightly", status: .notFound)
            _ = try await client.refused(.delete, "/api/v1/schedules/nightly", status: .notFound)
        }
    }

    @Test("rotate: a new secret, the old one accepted until the grace ends on the API's clock")
    func rotate() async throws {
        let api = try await InProcessAPI.start(environment: ["HOOK_KEY": "from-env"])
        try await api.test { client in
            let old = try await client.tokenHook("tok")
            let rotated = try await client.admin(
                .post, "/api/v1/schedules/tok/secret/rotate", #"{"grace":"1h"}"#, as: ScheduleWithSecret.self)
            let new = try #require(rotated.webhookSecret)
            #expect(new != old)
            let until = try #require(rotated.schedule.webhookTrigger?.previousSecretUntil)
            #expect(abs(until.timeIntervalSince(api.clock.now()) - 3600) < 0.001)
            func deliver(_ token: String) async throws -> HTTPResponse.Status {
                try await client.execute(
                    uri: "/hooks/tok", method: .post,
                    headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                    body: ByteBuffer(string: "{}")
                ).status
            }
            #expect(try await deliver(old) == .accepted)
            #expect(try await deliver(new) == .accepted)
            api.clock.advance(to: until.addingTimeInterval(1))
            #expect(try await deliver(old) == .unauthorized)
            #expect(try await deliver(new) == .accepted)

            let long = try await client.refused(
                .post, "/api/v1/schedules/tok/secret/rotate", #"{"grace":"31d"}"#, status: .badRequest)
            #expect(long.message == #"grace "31d" must be a duration up to 30d, like 24h (0s: none)"#)
            _ = try await client.admin(
                .post, "/api/v1/schedules", #"{"name":"cron_only","cron":"0 2 * * *","workflow":"tick"}"#,
                expect: .created, as: Schedule.self)
            let noHook = try await client.refused(
                .post, "/api/v1/schedules/cron_only/secret/rotate", status: .badRequest)
            #expect(noHook.message == "schedule cron_only has no webhook trigger, so no secret")
            _ = try await client.admin(
                .post, "/api/v1/schedules",
                #"{"name":"env","webhook":true,"webhook_secret_env":"HOOK_KEY","workflow":"tick"}"#, expect: .created,
                as: Schedule.self)
            let fromEnv = try await client.refused(.post, "/api/v1/schedules/env/secret/rotate", status: .badRequest)
            #expect(fromEnv.message.hasPrefix("the secret of env comes from HOOK_KEY"))
        }
    }

    @Test("apply: a dry run stores nothing; then create, unchanged, update and prune inside the directory")
    func apply() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            func body(_ schedules: [(String, String)], prune: Bool = false, dryRun: Bool = false) -> String {
                let items = schedules.map { #"{"source":"/files/\#($0.0).yaml","schedule":\#($0.1)}"# }
                return
                    #"{"schedules":[\#(items.joined(separator: ","))],"prune":\#(prune),"dry_run":\#(dryRun),"directory":"/files"}"#
            }
            let one = (#"one"#, #"{"name":"one","cron":"0 1 * * *","workflow":"tick"}"#)
            let hook = (#"hook"#, #"{"name":"hook","webhook":true,"workflow":"tick"}"#)
            let dry = try await client.admin(
                .post, "/api/v1/apply", body([one, hook], dryRun: true), as: ApplyResult.self)
            #expect(dry.create == ["one", "hook"] && !dry.applied && dry.webhookSecrets == nil)
            #expect(try await api.store.schedules().isEmpty)

            let applied = try await client.admin(.post, "/api/v1/apply", body([one, hook]), as: ApplyResult.self)
            #expect(applied.create == ["one", "hook"] && applied.applied)
            #expect(applied.webhookSecrets?.keys.sorted() == ["hook"])
            #expect(api.scheduler.schedule("one") != nil, "the scheduler has read the applied schedules")

            let again = try await client.admin(.post, "/api/v1/apply", body([one, hook]), as: ApplyResult.self)
            #expect(again.unchanged == ["one", "hook"] && again.create.isEmpty && again.webhookSecrets == nil)
            let changed = (#"one"#, #"{"name":"one","cron":"30 1 * * *","workflow":"tick"}"#)
            let update = try await client.admin(
                .post, "/api/v1/apply", body([changed], prune: true), as: ApplyResult.self)
            #expect(update.update == ["one"] && update.delete == ["hook"])
            #expect(try await api.store.schedules().map(\.name) == ["one"])
        }
    }

    @Test("apply refuses all or nothing: problems name their file, unknown fields their place")
    func applyRefusals() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let invalid = try await client.refused(
                .post, "/api/v1/apply",
                #"{"schedules":[{"source":"/f/a.yaml","schedule":{"name":"a","cron":"0 1 * * *","workflow":"tick"}},{"source":"/f/b.yaml","schedule":{"name":"b","cron":"99 * * * *","workflow":"tick"}}]}"#,
                status: .badRequest)
            #expect(invalid.message == "the schedules are not valid; nothing was applied")
            #expect(invalid.problems?.map(\.source) == ["/f/b.yaml"])
            #expect(invalid.problems?.first?.field == "cron")
            let unknown = try await client.refused(
                .post, "/api/v1/apply", #"{"schedules":[{"source":"a.yaml","path":"x","schedule":{}}]}"#,
                status: .badRequest)
            #expect(unknown.message == #"unknown field "schedules[0].path"; the fields here are schedule, source"#)
            let missing = try await client.refused(.post, "/api/v1/apply", #"{"prune":true}"#, status: .badRequest)
            #expect(missing.message == "field schedules is missing")
            #expect(try await api.store.schedules().isEmpty)
        }
    }
}
