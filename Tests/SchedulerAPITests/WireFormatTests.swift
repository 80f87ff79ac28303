import Foundation
import SchedulerAPI
import Testing

/// The admin API's wire types: what the daemon writes is what the CLI reads, and the JSON has the
/// keys and value types the README documents.
@Suite("SchedulerAPI wire format")
struct WireFormatTests {
    static let created = Date(timeIntervalSince1970: 1_710_036_000.25)

    static func schedule(webhook: Bool) -> Schedule {
        Schedule(
            id: "sch_01HZ", name: "nightly", cron: webhook ? nil : "0 2 * * *", timeZone: "UTC", webhook: webhook,
            manual: false, workflow: "tick", input: ["days": 7, "tags": ["a", "b"]], overlap: "skip", catchup: "1h",
            catchupMode: "latest", jitter: "0s", timeout: nil, paused: false, pauseNote: nil, remainingRuns: 3,
            dayMatch: "vixie", dstGap: "coalesce", dstFold: "first", source: nil, createdAt: created,
            updatedAt: created,
            webhookTrigger: webhook
                ? .init(path: "/hooks/nightly", scheme: "token", secretEnv: nil, previousSecretUntil: nil) : nil,
            nextFires: webhook ? nil : ["2024-03-11T02:00:00Z"])
    }

    /// The encoded value as Foundation's untyped JSON, to look at keys and types as any client would.
    static func object(_ value: some Encodable) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: WireFormat.encode(value)) as? [String: Any])
    }

    @Test("a schedule reads back as it was written, with or without a webhook trigger", arguments: [false, true])
    func scheduleRoundTrip(webhook: Bool) throws {
        let schedule = Self.schedule(webhook: webhook)
        #expect(try WireFormat.decode(Schedule.self, from: WireFormat.encode(schedule)) == schedule)
    }

    @Test("fields without a value are null; the webhook's fields are there only with a webhook trigger")
    func nullsAndWebhookFields() throws {
        let plain = try Self.object(Self.schedule(webhook: false))
        for key in ["timeout", "pause_note", "source"] { #expect(plain[key] is NSNull, "\(key)") }
        #expect(plain["webhook_path"] == nil && plain["webhook_scheme"] == nil)
        #expect(plain["created_at"] as? String == "2024-03-10T02:00:00.250Z")
        #expect(plain["remaining_runs"] as? Int == 3)
        let hook = try Self.object(Self.schedule(webhook: true))
        #expect(hook["cron"] is NSNull && hook["next_fires"] == nil)
        #expect(hook["webhook_path"] as? String == "/hooks/nightly")
        #expect(hook["webhook_secret_env"] is NSNull && hook["webhook_previous_secret_until"] is NSNull)
    }

    @Test("a list entry carries last_run as null when there is none; a run has its detail only when given")
    func listEntriesAndRuns() throws {
        let item = ScheduleListItem(schedule: Self.schedule(webhook: false), problem: nil, lastRun: nil)
        let entry = try Self.object(item)
        #expect(entry["last_run"] is NSNull && entry["problem"] == nil && entry["name"] as? String == "nightly")
        #expect(try WireFormat.decode(ScheduleListItem.self, from: WireFormat.encode(item)) == item)

        var run = Run(
            id: "run_01", scheduleID: "sch_01HZ", workflow: "tick", trigger: "manual", fireTime: nil,
            state: "succeeded", queuedAt: Self.created, startedAt: Self.created, finishedAt: Self.created,
            traceID: nil, error: nil, durationMs: 0, traceURL: nil, detail: nil,
            nodes: [
                .init(
                    node: "mark", workflow: "tick", kind: "set", step: 1, attempt: 1, status: "succeeded",
                    startedAt: "2024-03-10T02:00:00Z", durationMs: 1.5, error: nil)
            ])
        let listed = try Self.object(run)
        #expect(listed["input"] == nil && listed["trace_id"] is NSNull && listed["trace_url"] == nil)
        #expect(listed["tokens"] is NSNull)
        #expect(listed["instance"] is NSNull, "a run no daemon holds")
        var held = run
        held.instance = "ins_01J0"
        #expect(try Self.object(held)["instance"] as? String == "ins_01J0")
        #expect(try WireFormat.decode(Run.self, from: WireFormat.encode(held)) == held)
        // A run whose llm node attempts used tokens says how many, summed over the attempts.
        var metered = run
        metered.nodes = [
            .init(
                node: "ask", workflow: "tick", kind: "llm", step: 1, attempt: 1, status: "failed", startedAt: nil,
                durationMs: 9, error: "LLMRequestFailed: …", inputTokens: 10, outputTokens: 0),
            .init(
                node: "ask", workflow: "tick", kind: "llm", step: 2, attempt: 2, status: "succeeded", startedAt: nil,
                durationMs: 9, error: nil, inputTokens: 12, outputTokens: 30),
        ]
        let tokens = try #require(try Self.object(metered)["tokens"] as? [String: Any])
        #expect(tokens["input"] as? Int == 22 && tokens["output"] as? Int == 30 && tokens["total"] as? Int == 52)
        #expect(try WireFormat.decode(Run.self, from: WireFormat.encode(metered)) == metered)
        run.detail = .init(dedupeKey: nil, input: [:], output: nil)
        let detailed = try Self.object(run)
        #expect(detailed["output"] is NSNull && detailed["dedupe_key"] is NSNull && detailed["input"] != nil)
        #expect(try WireFormat.decode(Run.self, from: WireFormat.encode(run)) == run)
        let waited = try Self.object(WebhookRunResult(run: run))
        #expect(waited["run_id"] as? String == "run_01" && waited["id"] as? String == "run_01")
    }

    @Test("request types refuse a field they do not have, naming where it is")
    func unknownFields() throws {
        func message(_ json: String, as type: (some Decodable).Type) -> String? {
            do {
                _ = try WireFormat.decode(type, from: Data(json.utf8))
                return nil
            } catch let error as SchedulerAPIError {
                return error.message
            } catch {
                return "\(error)"
            }
        }
        #expect(
            message(#"{"note":"x","nota":1}"#, as: PauseRequest.self)
                == #"unknown field "nota"; the fields here are note"#)
        #expect(
            message(
                #"{"schedules":[{"source":"a","schedule":{"workflow":"w","retries":3,"owner":"me"}}]}"#,
                as: ApplyRequest.self)?
                .hasPrefix(#"unknown field "schedules[0].schedule.owner" (and 1 more); the fields here are catchup, "#)
                == true)
        #expect(message(#"{"reason":"why"}"#, as: CancelRunRequest.self) == nil)
        #expect(message(#"{}"#, as: ScheduleFields.self) == nil)
    }

    @Test("opaque JSON keeps integers integers and writes what has no JSON as null")
    func opaqueJSON() throws {
        let value = try WireFormat.decode(
            OpaqueJSON.self, from: Data(#"{"n":7,"x":1.5,"big":9223372036854775807,"s":"a/b","z":null}"#.utf8))
        #expect(value == ["n": 7, "x": .number(1.5), "big": .integer(.max), "s": "a/b", "z": .null])
        #expect(String(decoding: try WireFormat.encode(value), as: UTF8.self).contains(#""s":"a/b""#))
        #expect(
            String(decoding: try WireFormat.encode(OpaqueJSON.array([.number(.infinity)])), as: UTF8.self) == "[null]")
    }

    @Test("instants are ISO 8601 in UTC with milliseconds, and read with or without them")
    func timestamps() throws {
        #expect(APITimestamp.format(Self.created) == "2024-03-10T02:00:00.250Z")
        #expect(APITimestamp.format(Date(timeIntervalSince1970: 1_710_036_000.1239)) == "2024-03-10T02:00:00.124Z")
        #expect(APITimestamp.parse("2024-03-10T02:00:00Z") == Date(timeIntervalSince1970: 1_710_036_000))
        #expect(APITimestamp.parse("yesterday") == nil)
        for text in ["2024-03-10T02:00:00.123Z", "2024-03-10T02:00:00.001Z", "2024-03-10T02:00:00.999Z"] {
            #expect(APITimestamp.format(try #require(APITimestamp.parse(text))) == text)
        }
    }
}
