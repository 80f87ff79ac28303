import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SchedulerTesting
import Scheduling
import Storage
import Support
import Testing
import Workflows

/// What a new user tripped over in the API, each through the routes in process.
@Suite("API manners")
struct APIMannersTests {
    static func message(_ response: TestResponse) -> String {
        let value = try? JSONValue(json: Data(response.body.readableBytesView))
        return value?["error"]?["message"]?.stringValue ?? ""
    }

    @Test("the Authorization scheme is case-insensitive: bearer and BEARER work, Basic does not")
    func bearerCase() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
                let response = try await client.execute(
                    uri: "/api/v1/schedules", method: .get,
                    headers: [.authorization: "\(scheme) \(InProcessAPI.token)"])
                #expect(response.status == .ok, "\(scheme)")
            }
            let basic = try await client.execute(
                uri: "/api/v1/schedules", method: .get, headers: [.authorization: "Basic \(InProcessAPI.token)"])
            #expect(basic.status == .unauthorized)
            // The token scheme of a webhook, too.
            let secret = try await client.tokenHook("tok")
            let hook = try await client.execute(
                uri: "/hooks/tok", method: .post,
                headers: [.authorization: "bearer \(secret)", .contentType: "application/json"],
                body: ByteBuffer(string: "{}"))
            #expect(hook.status == .accepted, "\(Self.message(hook))")
        }
    }

    @Test("a known path with the wrong method: 405 with Allow; an unknown path: 404")
    func methodNotAllowed() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let hook = try await client.execute(uri: "/hooks/x", method: .get)
            #expect(hook.status == .methodNotAllowed)
            #expect(hook.headers[.allow] == "POST")
            #expect(Self.message(hook) == "GET is not allowed on /hooks/x; use POST")
            let schedule = try await client.execute(uri: "/api/v1/schedules/abc", method: .put)
            #expect(schedule.status == .methodNotAllowed)
            #expect(schedule.headers[.allow] == "DELETE, GET")
            let health = try await client.execute(uri: "/healthz", method: .post)
            #expect(health.status == .methodNotAllowed)
            #expect(health.headers[.allow] == "GET")
            let unknown = try await client.execute(uri: "/nothing/here", method: .get)
            #expect(unknown.status == .notFound)
        }
    }

    @Test("JSON sent with curl -d's default form content type: 415 saying what to send; a real form works")
    func curlForm() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let secret = try await client.tokenHook("tok")
            func post(_ body: String, _ type: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/hooks/tok", method: .post,
                    headers: [.authorization: "Bearer \(secret)", .contentType: type],
                    body: ByteBuffer(string: body))
            }
            let json = try await post(#"{"message":"hi"}"#, "application/x-www-form-urlencoded")
            #expect(json.status == .unsupportedMediaType)
            #expect(Self.message(json).hasSuffix("send Content-Type: application/json"), "\(Self.message(json))")
            let form = try await post("message=hi&x=1", "application/x-www-form-urlencoded")
            #expect(form.status == .accepted)
            // With a charset the sender chose the type on purpose: read as the form it says it is.
            let chosen = try await post(#"{"message":"hi"}"#, "application/x-www-form-urlencoded; charset=utf-8")
            #expect(chosen.status == .accepted)
            #expect(try await api.store.runs(scheduleID: nil, limit: 10, before: nil).count == 2)
        }
    }

    @Test("?wait= below a second is refused with the range its message names")
    func waitRange() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let secret = try await client.tokenHook("tok")
            let response = try await client.execute(
                uri: "/hooks/tok?wait=500ms", method: .post,
                headers: [.authorization: "Bearer \(secret)", .contentType: "application/json"],
                body: ByteBuffer(string: "{}"))
            #expect(response.status == .badRequest)
            #expect(Self.message(response) == #"wait "500ms" must be a duration from 1s to 1m, like 30s"#)
            #expect(try await api.store.runs(scheduleID: nil, limit: 10, before: nil).isEmpty)
        }
    }

    @Test("resume on a schedule that is not paused says so; on a paused one it resumes")
    func resumeNotPaused() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            _ = try await client.admin(
                .post, "/api/v1/schedules", #"{"name":"n","workflow":"tick","cron":"0 2 * * *"}"#)
            let (_, first) = try await client.admin(.post, "/api/v1/schedules/n/resume", "{}")
            #expect(first["resumed"] == false)
            #expect(first["message"] == "schedule n was not paused")
            _ = try await client.admin(.post, "/api/v1/schedules/n/pause", "{}")
            let (_, second) = try await client.admin(.post, "/api/v1/schedules/n/resume", "{}")
            #expect(second["resumed"] == true)
            #expect(second["paused"] == false)
        }
    }

    @Test("text fields are bounded: a 100 KB cron, a long note or name get 400 with the limit, and nothing is stored")
    func textLimits() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let cron = Array(repeating: "1", count: 50_000).joined(separator: ",") + " * * * *"
            let (status, answer) = try await client.admin(
                .post, "/api/v1/schedules", #"{"name":"x","workflow":"tick","cron":"\#(cron)"}"#)
            #expect(status == .badRequest)
            #expect(
                answer["error"]?["message"]?.stringValue
                    == "cron: is \(cron.count) characters long; at most 1024 are allowed")
            let (nameStatus, nameAnswer) = try await client.admin(
                .post, "/api/v1/schedules",
                #"{"name":"\#(String(repeating: "n", count: 5000))","workflow":"tick","cron":"0 2 * * *"}"#)
            #expect(nameStatus == .badRequest)
            #expect(nameAnswer["error"]?["message"] == "name: is 5000 characters long; at most 64 are allowed")
            _ = try await client.admin(
                .post, "/api/v1/schedules", #"{"name":"n","workflow":"tick","cron":"0 2 * * *"}"#)
            let note = String(repeating: "z", count: 2000)
            let (noteStatus, noteAnswer) = try await client.admin(
                .post, "/api/v1/schedules/n/pause", #"{"note":"\#(note)"}"#)
            #expect(noteStatus == .badRequest)
            #expect(noteAnswer["error"]?["message"] == "note is 2000 characters long; at most 1024 are allowed")
            let stored = try await api.store.schedules()
            #expect(stored.map(\.name) == ["n"])
            #expect(stored.first?.paused == false)
        }
    }

    @Test("a mistyped schedule name: 404 with the closest names")
    func suggestions() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            for name in ["nightly", "weekly", "hourly_energy"] {
                _ = try await client.admin(
                    .post, "/api/v1/schedules", #"{"name":"\#(name)","workflow":"tick","cron":"0 2 * * *"}"#)
            }
            let (status, answer) = try await client.admin(.get, "/api/v1/schedules/nighlty")
            #expect(status == .notFound)
            #expect(answer["error"]?["message"] == #"no schedule with id or name "nighlty"; did you mean "nightly"?"#)
            let (_, far) = try await client.admin(.get, "/api/v1/schedules/zzzz")
            #expect(far["error"]?["message"] == #"no schedule with id or name "zzzz""#)
        }
        #expect(Suggestion.closest("lst", among: ["list", "show", "rm", "runs"]) == ["list"])
        #expect(Suggestion.closest("nighlty", among: ["nightly", "nightly_energy"]) == ["nightly"])
    }

    @Test("a schedule whose workflow is not loaded carries its problem in list and show")
    func workflowProblem() async throws {
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent(
                "problem-\(UUID().uuidString.prefix(8)).sqlite"
            ).path)
        var orphan = ScheduleRecord(name: "orphan", cron: "0 2 * * *", workflow: "deleted_one")
        orphan.timeZone = "UTC"
        try await store.insertSchedule(orphan)
        let api = try await InProcessAPI.start(store: store)
        try await api.test { client in
            let (_, list) = try await client.admin(.get, "/api/v1/schedules")
            #expect(list["schedules"]?.arrayValue?.first?["problem"] == #"workflow "deleted_one" is not loaded"#)
            let (_, show) = try await client.admin(.get, "/api/v1/schedules/orphan")
            #expect(show["problem"] == #"workflow "deleted_one" is not loaded"#)
        }
    }

    @Test("cancel: a running run stops and ends cancelled, a queued one never starts, an ended one is 409")
    func cancel() async throws {
        let executor = HoldingExecutor()
        let api = try await InProcessAPI.start(executor: executor, maxConcurrentRuns: 1)
        try await api.test { client in
            _ = try await client.admin(
                .post, "/api/v1/schedules", #"{"name":"m","workflow":"tick","manual":true,"overlap":"allow"}"#)
            let (_, first) = try await client.admin(.post, "/api/v1/schedules/m/run", "{}")
            let (_, second) = try await client.admin(.post, "/api/v1/schedules/m/run", "{}")
            let running = try #require(first["run_id"]?.stringValue)
            let queued = try #require(second["run_id"]?.stringValue)
            try await eventually("the first run is running") { executor.isRunning(running) }
            let (queuedStatus, queuedAnswer) = try await client.admin(.post, "/api/v1/runs/\(queued)/cancel")
            #expect(queuedStatus == .ok)
            #expect(queuedAnswer["state"] == "cancelled")
            let (runningStatus, runningAnswer) = try await client.admin(
                .post, "/api/v1/runs/\(running)/cancel", #"{"reason":"wrong input"}"#)
            #expect(runningStatus == .accepted)
            #expect(runningAnswer["state"] == "cancelling")
            try await eventually("the running run ends") {
                try await api.store.run(id: running)?.state.isFinal == true
            }
            let ended = try #require(try await api.store.run(id: running))
            #expect(ended.state == .cancelled)
            #expect(ended.error == "cancelled through the API: wrong input")
            let never = try #require(try await api.store.run(id: queued))
            #expect(never.state == .cancelled && never.startedAt == nil)
            #expect(!executor.isRunning(queued))
            let (againStatus, again) = try await client.admin(.post, "/api/v1/runs/\(running)/cancel")
            #expect(againStatus == .conflict)
            #expect(
                again["error"]?["message"]?.stringValue
                    == "run \(running) already ended (cancelled); there is nothing to cancel")
            let (missingStatus, _) = try await client.admin(.post, "/api/v1/runs/run_nope/cancel")
            #expect(missingStatus == .notFound)
            // The slot is free: the next run starts.
            let (_, third) = try await client.admin(.post, "/api/v1/schedules/m/run", "{}")
            let next = try #require(third["run_id"]?.stringValue)
            try await eventually("the next run starts") { executor.isRunning(next) }
        }
    }
}
