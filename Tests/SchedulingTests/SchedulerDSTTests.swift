import ClockTesting
import Foundation
import SchedulerTesting
import Scheduling
import Storage
import Testing

/// DST days run through the scheduler: walking the clock across the transition in small steps gives
/// exactly the fires docs/cron.md lists, each once.
@Suite("Scheduler across DST transitions")
struct SchedulerDSTTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var cron: String
        var zone: String
        var from: String
        var to: String
        var expected: [String]
        /// The schedule's overrides (`nil`: the default).
        var dstGap: String? = nil
        var dstFold: String? = nil
    }

    static let cases: [Case] = [
        Case(
            description: "New York spring forward: 02:30 daily fires once at 03:00 EDT",
            cron: "30 2 * * *", zone: "America/New_York", from: "2024-03-09T12:00:00-05:00",
            to: "2024-03-11T03:00:00-04:00",
            expected: ["2024-03-10T07:00:00Z", "2024-03-11T06:30:00Z"]),
        Case(
            description: "New York fall back: 01:30 daily fires once, at the first occurrence",
            cron: "30 1 * * *", zone: "America/New_York", from: "2024-11-02T12:00:00-04:00",
            to: "2024-11-04T03:00:00-05:00",
            expected: ["2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z"]),
        Case(
            description: "New York fall back: every 30 minutes follows real time through the repeated hour",
            cron: "*/30 * * * *", zone: "America/New_York", from: "2024-11-03T00:10:00-04:00",
            to: "2024-11-03T02:10:00-05:00",
            expected: [
                "2024-11-03T04:30:00Z", "2024-11-03T05:00:00Z", "2024-11-03T05:30:00Z", "2024-11-03T06:00:00Z",
                "2024-11-03T06:30:00Z", "2024-11-03T07:00:00Z",
            ]),
        Case(
            description: "Lord Howe's 30-minute shift: 02:15 daily fires at 02:30 on the transition day",
            cron: "15 2 * * *", zone: "Australia/Lord_Howe", from: "2024-10-05T12:00:00+10:30",
            to: "2024-10-07T03:00:00+11:00",
            expected: ["2024-10-05T15:30:00Z", "2024-10-06T15:15:00Z"]),
        Case(
            description: "dst_gap: skip: 02:30 daily does not fire on the spring-forward day",
            cron: "30 2 * * *", zone: "America/New_York", from: "2024-03-09T12:00:00-05:00",
            to: "2024-03-11T03:00:00-04:00", expected: ["2024-03-11T06:30:00Z"], dstGap: "skip"),
        Case(
            description: "dst_gap: shift: 02:30 daily fires at 03:30 EDT on the spring-forward day",
            cron: "30 2 * * *", zone: "America/New_York", from: "2024-03-09T12:00:00-05:00",
            to: "2024-03-11T03:00:00-04:00", expected: ["2024-03-10T07:30:00Z", "2024-03-11T06:30:00Z"],
            dstGap: "shift"),
        Case(
            description: "dst_fold: both: 01:30 daily fires at both occurrences on the fall-back day",
            cron: "30 1 * * *", zone: "America/New_York", from: "2024-11-02T12:00:00-04:00",
            to: "2024-11-04T03:00:00-05:00",
            expected: ["2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z", "2024-11-04T06:30:00Z"], dstFold: "both"),
        Case(
            description: "dst_fold: last: 01:30 daily fires at the second occurrence only",
            cron: "30 1 * * *", zone: "America/New_York", from: "2024-11-02T12:00:00-04:00",
            to: "2024-11-04T03:00:00-05:00", expected: ["2024-11-03T06:30:00Z", "2024-11-04T06:30:00Z"],
            dstFold: "last"),
    ]

    @Test("walking the clock across the transition gives exactly the listed fires", arguments: cases)
    func walk(_ c: Case) async throws {
        let from = Date.iso(c.from)
        var schedule = ScheduleRecord(
            name: "dst", cron: c.cron, timeZone: c.zone, workflow: "w", overlap: .allow, createdAt: from,
            updatedAt: from)
        schedule.dstGap = c.dstGap
        schedule.dstFold = c.dstFold
        let h = try await SchedulerHarness.start(at: from, schedules: [schedule])
        try await stopping(h) { h in
            let end = Date.iso(c.to)
            while h.clock.now() < end {
                // Step to the next deadline the scheduler sleeps until, or 10 minutes, whichever is first.
                let next = min(h.clock.nextDeadline ?? end, h.clock.now().addingTimeInterval(600), end)
                try await h.advance(to: max(next, h.clock.now().addingTimeInterval(1)))
            }
            try await h.waitForRuns("\(c.expected.count) runs") {
                $0.count == c.expected.count && $0.allSatisfy { $0.state == .succeeded }
            }
            let formatter = ISO8601DateFormatter()
            let fired = try await h.runs().compactMap(\.nominalTime).map { formatter.string(from: $0) }
            #expect(fired == c.expected)
            #expect(try await h.runs().allSatisfy { $0.trigger == "cron" })
        }
    }
}
