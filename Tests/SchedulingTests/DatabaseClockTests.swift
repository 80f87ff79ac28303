import ClockTesting
import Foundation
import SchedulerTesting
import Scheduling
import Testing

@Suite("the database's clock")
struct DatabaseClockTests {
    @Test("reads the machine's clock minus the measured offset, and sleeps until the database's instant")
    func offset() async throws {
        let machine = ManualClock(Date(timeIntervalSince1970: 1_000))
        let clock = DatabaseClock(base: machine)
        #expect(clock.now() == Date(timeIntervalSince1970: 1_000), "no offset before the first measurement")
        clock.adjust(offset: .seconds(30))  // this machine is 30 s ahead
        #expect(clock.now() == Date(timeIntervalSince1970: 970))
        #expect(clock.offset == .seconds(30))

        // The database's 975 is the machine's 1005: not woken at the machine's 975.
        let sleeper = Task { try await clock.sleep(until: Date(timeIntervalSince1970: 975)) }
        try await eventually("the sleep is registered") { machine.sleeperCount == 1 }
        #expect(machine.nextDeadline == Date(timeIntervalSince1970: 1_005))
        machine.advance(to: Date(timeIntervalSince1970: 1_004))
        #expect(machine.sleeperCount == 1)
        machine.advance(to: Date(timeIntervalSince1970: 1_005))
        try await sleeper.value

        clock.adjust(offset: .milliseconds(-1500))  // behind
        #expect(clock.now() == Date(timeIntervalSince1970: 1_006.5))
    }

    @Test("a skewed clock is ahead of its base by the skew, and sleeps on its own time")
    func skew() async throws {
        let machine = ManualClock(Date(timeIntervalSince1970: 1_000))
        let skewed = SkewedClock(base: machine, skew: .seconds(-10))
        #expect(skewed.now() == Date(timeIntervalSince1970: 990))
        let sleeper = Task { try await skewed.sleep(until: Date(timeIntervalSince1970: 995)) }
        try await eventually("the sleep is registered") { machine.sleeperCount == 1 }
        #expect(machine.nextDeadline == Date(timeIntervalSince1970: 1_005))
        machine.advance(to: Date(timeIntervalSince1970: 1_005))
        try await sleeper.value
    }
}
