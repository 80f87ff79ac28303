import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SchedulerAPI
import SchedulerTesting
import Scheduling
import Storage
import Testing
import Workflows

/// Runs through the admin API in this process: started by hand, listed, shown, and what each area
/// answers when a request goes wrong.
@Suite("admin API: runs and refusals, in process")
struct RunRoutesTests {
    @Test("run now: 202 with the run and its trace link; the run's input is the schedule's with the request's over it")
    func runNow() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            _ = try await client.admin(
                .post, "/api/v1/schedules", #"{"name":"m","manual":true,"workflow":"tick","input":{"a":1,"b":1}}"#,
                expect: .created, as: Schedule.self)
            let started = try await client.admin(
                .post, "/api/v1/schedules/m/run", #"{"input":{"b":2}}"#, expect: .accepted, as: StartedRun.self)
            let trace = try #require(started.traceID)
            #expect(started.traceURL == "http://mlflow/\(trace)")
            try await eventually("the run ends") { try await api.store.run(id: started.runID)?.state.isFinal == true }

            let run = try await client.admin(.get, "/api/v1/runs/\(started.runID)", as: Run.self)
            #expect(run.state == "succeeded" && run.trigger == "manual")
            #expect(run.detail?.input == ["a": 1, "b": 2])
            #expect(run.detail?.output == .object([:]))
            #expect(run.durationMs != nil)
            let listed = try await client.admin(.get, "/api/v1/runs?schedule=m&limit=5", as: RunList.self)
            #expect(listed.runs.map(\.id) == [started.runID])
            #expect(listed.runs.first?.detail == nil, "a list has no run's detail")
            let shown = try await client.admin(.get, "/api/v1/schedules/m", as: ScheduleDetail.self)
            #expect(shown.runs.map(\.id) == [started.runID])
            let list = try await client.admin(.get, "/api/v1/schedules", as: ScheduleList.self)
            #expect(list.schedules.first?.lastRun?.id == started.runID)
        }
    }

    @Test("run now and the run routes refuse what they cannot do, storing nothing")
    func refusals() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            _ = try await client.admin(
                .post, "/api/v1/schedules", #"{"name":"m","manual":true,"workflow":"tick"}"#, expect: .created,
                as: Schedule.self)
            let notObject = try await client.refused(
                .post, "/api/v1/schedules/m/run", #"{"input":[1]}"#, status: .badRequest)
            #expect(notObject.message == "input must be a JSON object, not array")
            let unknown = try await client.refused(.post, "/api/v1/schedules/nope/run", "{}", status: .notFound)
            #expect(unknown.message == #"no schedule with id or name "nope""#)
            let limit = try await client.refused(.get, "/api/v1/runs?limit=0", status: .badRequest)
            #expect(limit.message == #"limit "0" must be a whole number from 1 to 1000"#)
            let missing = try await client.refused(.get, "/api/v1/runs/run_nope", status: .notFound)
            #expect(missing.message == "no run with id run_nope")
            let reason = String(repeating: "r", count: 1025)
            let long = try await client.refused(
                .post, "/api/v1/runs/run_nope/cancel", #"{"reason":"\#(reason)"}"#, status: .badRequest)
            #expect(long.message == "reason is 1025 characters long; at most 1024 are allowed")
            let field = try await client.refused(
                .post, "/api/v1/runs/run_nope/cancel", #"{"why":"x"}"#, status: .badRequest)
            #expect(field.message == #"unknown field "why"; the fields here are reason"#)
            #expect(try await api.store.runs(scheduleID: nil, limit: 10, before: nil).isEmpty)
        }
    }

    @Test("each area answers in its own way: the API and webhooks with JSON refusals, health with its status")
    func areas() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(try WireFormat.decode(HealthStatus.self, from: Data(health.body.readableBytesView)).status == "ok")
            let ready = try await client.execute(uri: "/readyz", method: .get)
            let readiness = try WireFormat.decode(HealthStatus.self, from: Data(ready.body.readableBytesView))
            #expect(readiness == HealthStatus(status: "ready", detail: "ready"))

            let noToken = try await client.execute(uri: "/api/v1/schedules", method: .get)
            #expect(noToken.status == .unauthorized)
            let refusal = try WireFormat.decode(ErrorResponse.self, from: Data(noToken.body.readableBytesView))
            #expect(refusal.error.message.hasPrefix("missing Authorization: Bearer <token>"))
            let unknownRoute = try await client.refused(.get, "/api/v1/nothing", status: .notFound)
            #expect(unknownRoute.message == "Not Found")
            let runsPut = try await client.execute(uri: "/api/v1/runs", method: .put)
            #expect(runsPut.status == .methodNotAllowed && runsPut.headers[.allow] == "GET")

            let hook = try await client.execute(
                uri: "/hooks/nope", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{}"))
            #expect(hook.status == .notFound)
            let hookRefusal = try WireFormat.decode(ErrorResponse.self, from: Data(hook.body.readableBytesView))
            #expect(hookRefusal.error.message.hasPrefix(#"no webhook "nope""#))
            let secret = try await client.tokenHook("tok")
            let accepted = try await client.execute(
                uri: "/hooks/tok", method: .post,
                headers: [.authorization: "Bearer \(secret)", .contentType: "application/json"],
                body: ByteBuffer(string: "{}"))
            #expect(accepted.status == .accepted)
            let receipt = try WireFormat.decode(WebhookReceipt.self, from: Data(accepted.body.readableBytesView))
            #expect(receipt.state == "queued" && receipt.duplicate == nil)
        }
    }
}
