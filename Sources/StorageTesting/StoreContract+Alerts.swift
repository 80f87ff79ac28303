import Foundation
import Storage
import Testing

/// The clause of alerts: the outbox stores each alert once, hands each due one to one claim at a
/// time, keeps how its deliveries went, and the failure streak alerts once when it starts and once
/// when it ends.
extension StoreContract {
    /// An alert for `schedule` with a time the store keeps exactly.
    static func alert(
        _ schedule: ScheduleRecord, _ event: AlertEvent, key: String, at: Date = reference, serial: Int
    ) -> AlertRecord {
        AlertRecord(
            id: String(SortableID.lowest("alt", at: at).dropLast(6)) + String(format: "%06d", serial),
            scheduleID: schedule.id, scheduleName: schedule.name, event: event, runID: "run_x", dedupeKey: key,
            targetJSON: #"{"webhook":{"url":"http://127.0.0.1:9/"}}"#, payloadJSON: #"{"event":"\#(event.rawValue)"}"#,
            createdAt: at)
    }

    /// A schedule's alert targets and expected duration read back as written. Alerts are stored once
    /// per dedupe key and read back newest first, by schedule and page. A
    /// claim takes the pending alerts due, oldest first, and no other claim takes them until the
    /// lease has passed; a delivery settled as delivered or failed is not claimed again, one to be
    /// retried is claimed again from its time, with its attempts and error kept.
    public func alerts() async throws {
        let store = try await makeStore()
        var nightly = Self.schedule("nightly")
        nightly.notify = [
            NotifyRule(on: [.failure, .recovered], target: .webhook(url: "https://${HOST}/alerts", secretEnv: "KEY")),
            NotifyRule(on: [.missed], target: .slack(url: nil, urlEnv: "SLACK_URL")),
            NotifyRule(on: [.overdue], target: .email(smtpEnv: "SMTP_URL", to: ["a@example.com"], from: nil)),
        ]
        nightly.expectedDurationSeconds = 600
        var other = Self.schedule("other")
        other.notify = []
        try await store.insertSchedule(nightly)
        try await store.insertSchedule(other)
        #expect(try await store.schedule(id: nightly.id) == nightly, "targets and expected duration kept")
        #expect(try await store.schedule(id: other.id)?.notify == [], "no one, unlike the default")
        let first = Self.alert(nightly, .failure, key: "a", serial: 1)
        let second = Self.alert(nightly, .recovered, key: "b", at: Self.instant(1_717_200_001_000), serial: 2)
        let elsewhere = Self.alert(other, .failure, key: "c", at: Self.instant(1_717_200_002_000), serial: 3)
        #expect(try await store.insertAlerts([first, second, elsewhere]) == [first.id, second.id, elsewhere.id])
        #expect(try await store.insertAlerts([Self.alert(nightly, .failure, key: "a", serial: 4)]).isEmpty, "once")
        #expect(
            try await store.alerts(scheduleID: nil, limit: 10, before: nil).map(\.id) == [
                elsewhere.id, second.id, first.id,
            ])
        #expect(try await store.alerts(scheduleID: nightly.id, limit: 1, before: second.id).map(\.id) == [first.id])
        #expect(try await store.alerts(scheduleID: nil, limit: 10, before: nil).last == first, "every field")

        let now = Self.instant(1_717_200_001_500)
        let claimed = try await store.claimAlerts(now: now, lease: .seconds(60), limit: 10)
        #expect(claimed.map(\.id) == [first.id, second.id], "due ones, oldest first")
        #expect(try await store.claimAlerts(now: now, lease: .seconds(60), limit: 10).isEmpty, "held by the claim")
        let later = Self.instant(1_717_200_003_000)
        #expect(try await store.claimAlerts(now: later, lease: .seconds(60), limit: 10).map(\.id) == [elsewhere.id])

        try await store.settleAlert(id: first.id, .delivered(at: later))
        try await store.settleAlert(
            id: second.id, .retry(at: Self.instant(1_717_200_100_000), error: "the receiver answered 503"))
        try await store.settleAlert(id: elsewhere.id, .failed(error: "the receiver answered 410"))
        let settled = Dictionary(
            uniqueKeysWithValues: try await store.alerts(scheduleID: nil, limit: 10, before: nil).map { ($0.id, $0) })
        #expect(settled[first.id]?.state == .delivered && settled[first.id]?.deliveredAt == later)
        #expect(settled[first.id]?.attempts == 1)
        #expect(settled[second.id]?.state == .pending && settled[second.id]?.lastError == "the receiver answered 503")
        #expect(settled[elsewhere.id]?.state == .failed && settled[elsewhere.id]?.attempts == 1)
        let afterLease = Self.instant(1_717_200_099_000)
        #expect(try await store.claimAlerts(now: afterLease, lease: .seconds(60), limit: 10).isEmpty, "not yet")
        let retried = try await store.claimAlerts(now: Self.instant(1_717_200_100_000), lease: .seconds(60), limit: 10)
        #expect(retried.map(\.id) == [second.id] && retried.first?.attempts == 1)
        // A claim whose daemon stopped mid-delivery lapses.
        let lapsed = try await store.claimAlerts(now: Self.instant(1_717_200_200_000), lease: .seconds(60), limit: 10)
        #expect(lapsed.map(\.id) == [second.id])

        // Retention: alerts that are no longer pending, made before the cutoff, oldest first.
        #expect(try await store.deleteAlerts(createdBefore: Self.instant(1_717_200_003_000), limit: 1) == 1)
        #expect(try await store.alerts(scheduleID: nil, limit: 10, before: nil).map(\.id) == [elsewhere.id, second.id])
        #expect(try await store.deleteAlerts(createdBefore: Self.instant(1_717_200_003_000), limit: 10) == 1)
        #expect(
            try await store.alerts(scheduleID: nil, limit: 10, before: nil).map(\.id) == [second.id],
            "a pending alert stays")
    }

    /// A schedule's first success changes nothing; its first failure starts a streak and stores its
    /// alerts, further failures store none; the first success after them ends the streak and stores
    /// its alerts, and further successes none.
    public func streaks() async throws {
        let store = try await makeStore()
        let nightly = Self.schedule("nightly")
        try await store.insertSchedule(nightly)
        let at = Self.reference
        func record(_ failing: Bool, _ key: String, serial: Int) async throws -> Bool {
            try await store.recordStreak(
                scheduleID: nightly.id, failing: failing, at: at,
                alerts: [Self.alert(nightly, failing ? .failure : .recovered, key: key, serial: serial)])
        }
        #expect(try await record(false, "ok-0", serial: 1) == false)
        #expect(try await record(true, "fail-1", serial: 2) == true)
        #expect(try await record(true, "fail-2", serial: 3) == false)
        #expect(try await record(false, "ok-3", serial: 4) == true)
        #expect(try await record(false, "ok-4", serial: 5) == false)
        #expect(try await record(true, "fail-5", serial: 6) == true)
        let keys = try await store.alerts(scheduleID: nightly.id, limit: 10, before: nil).map(\.dedupeKey)
        #expect(keys.sorted() == ["fail-1", "fail-5", "ok-3"])
    }
}
