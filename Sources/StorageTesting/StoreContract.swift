import Foundation
import Storage
import Testing

/// What every ``SchedulerStore`` must do, written once as checks that run against any implementation.
///
/// Each clause is one method: it asks the factory for a fresh, empty store, exercises one promise of
/// the protocol (dedupe keys, all-or-nothing writes, paging, retention…) and records a failed
/// expectation with Swift Testing for every way the store breaks it. ``Clause`` lists them all, so
/// that a store's test file runs every clause, including ones added later, as one parameterised test:
///
/// ```swift
/// @Suite struct PostgresStoreContractTests {
///     @Test(arguments: StoreContract.Clause.allCases)
///     func keeps(_ clause: StoreContract.Clause) async throws {
///         let contract = StoreContract { try await PostgresStore.emptyForTesting() }
///         try await contract.check(clause)
///     }
/// }
/// ```
///
/// Times are compared to the millisecond: every instant the checks store is a whole millisecond, the
/// precision the stores keep.
public struct StoreContract: Sendable {
    /// Makes a new store with no schedules and no runs; called once by every clause.
    public typealias Factory = @Sendable () async throws -> any SchedulerStore

    let makeStore: Factory

    /// A contract whose clauses run against the stores `makeStore` returns.
    /// - Parameter makeStore: makes a fresh, empty store each time it is called.
    public init(makeStore: @escaping Factory) {
        self.makeStore = makeStore
    }

    /// One promise of ``SchedulerStore``, named by the method that checks it.
    public enum Clause: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case scheduleRoundTrip
        case scheduleLifecycle
        case duplicateName
        case updateMissingSchedule
        case deleteScheduleKeepsRuns
        case applySchedulesAllOrNothing
        case recordFiresDedupe
        case recordFiresCountsStored
        case recordFiresAllOrNothing
        case insertRunDedupe
        case runRoundTrip
        case writeRunsOrder
        case writeRunsAllOrNothing
        case runsPaging
        case runsInStates
        case runCounts
        case runTally
        case runSummaries
        case activeRuns
        case ping
        case deleteFinishedRuns
        case latestRuns
        case instances
        case scheduleRevision
        case fencedWrites
        case leases
        case recordFiresSkip
        case recordFiresHolder
        case retries
        case alerts
        case streaks

        /// The promise, as a sentence: what a test report shows for the clause.
        public var testDescription: String {
            switch self {
            case .scheduleRoundTrip: "a schedule reads back as written, every field"
            case .scheduleLifecycle: "schedules are inserted, replaced and deleted, and listed by name"
            case .duplicateName: "a taken name is refused on insert and on update, and nothing changes"
            case .updateMissingSchedule: "replacing a schedule that does not exist throws notFound"
            case .deleteScheduleKeepsRuns: "deleting a schedule keeps its runs, detached"
            case .applySchedulesAllOrNothing: "applySchedules makes every change or none"
            case .recordFiresDedupe:
                "a tick's fires store a dedupe key once per schedule and move cursors forward only"
            case .recordFiresCountsStored:
                "a tick's runs are counted against the stored remaining runs; fires at or before the stored cursor are left out"
            case .recordFiresAllOrNothing: "a tick whose write fails stores no run and moves no cursor"
            case .insertRunDedupe: "a schedule stores each dedupe key once; runs without one are all stored"
            case .runRoundTrip: "a run reads back as written and as its changes left it"
            case .writeRunsOrder: "writeRuns stores the new runs first, then applies the changes in order"
            case .writeRunsAllOrNothing: "a batch of run writes that fails leaves every run as it was"
            case .runsPaging: "runs page newest first with before and limit"
            case .runsInStates: "runs(in:) lists the runs in the given states, oldest first"
            case .runCounts: "runCounts counts the runs in each state"
            case .runTally: "runTally counts the runs ended since a time, and those going, by schedule and state"
            case .runSummaries: "runSummaries gives each schedule's newest runs, paged with before"
            case .activeRuns: "activeRuns lists running runs, then queued ones, with their nodes and the total"
            case .ping: "ping answers, empty or not, and changes nothing"
            case .deleteFinishedRuns: "deleteRuns removes at most limit runs that ended before the cutoff, oldest first"
            case .latestRuns: "latestRuns gives each schedule's newest run that was not skipped"
            case .instances: "heartbeats store instances at the store's clock; they list by start; removed ones go"
            case .scheduleRevision:
                "the schedule revision changes on every insert, change, fire and delete, and only then"
            case .fencedWrites: "fenced starts, notes and ends apply only for their owner's attempt; others are refused"
            case .leases:
                "silent owners' runs are interrupted or freed, free runs claimed oldest first, queued runs handed back"
            case .recordFiresSkip: "a skip schedule's fires are stored skipped while another of its runs is in flight"
            case .recordFiresHolder:
                "buffer-one and cancel-other fires are stored, and their runs claimed, only by the instance holding the schedule's runs"
            case .retries:
                "retry policies are kept; a retry is stored with the end or lease expiry that makes it, only when that applies"
            case .alerts:
                "alerts are stored once, claimed by one claim at a time when due, and keep how their deliveries went"
            case .streaks: "a failure streak stores its alerts once when it starts and once when it ends"
            }
        }
    }

    /// Runs the check of `clause` against a fresh store.
    /// - Throws: what the store throws where the contract expects success, or a failed `#require`.
    public func check(_ clause: Clause) async throws {
        switch clause {
        case .scheduleRoundTrip: try await scheduleRoundTrip()
        case .scheduleLifecycle: try await scheduleLifecycle()
        case .duplicateName: try await duplicateName()
        case .updateMissingSchedule: try await updateMissingSchedule()
        case .deleteScheduleKeepsRuns: try await deleteScheduleKeepsRuns()
        case .applySchedulesAllOrNothing: try await applySchedulesAllOrNothing()
        case .recordFiresDedupe: try await recordFiresDedupe()
        case .recordFiresCountsStored: try await recordFiresCountsStored()
        case .recordFiresAllOrNothing: try await recordFiresAllOrNothing()
        case .insertRunDedupe: try await insertRunDedupe()
        case .runRoundTrip: try await runRoundTrip()
        case .writeRunsOrder: try await writeRunsOrder()
        case .writeRunsAllOrNothing: try await writeRunsAllOrNothing()
        case .runsPaging: try await runsPaging()
        case .runsInStates: try await runsInStates()
        case .runCounts: try await runCounts()
        case .runTally: try await runTally()
        case .runSummaries: try await runSummaries()
        case .activeRuns: try await activeRuns()
        case .ping: try await ping()
        case .deleteFinishedRuns: try await deleteFinishedRuns()
        case .latestRuns: try await latestRuns()
        case .instances: try await instances()
        case .scheduleRevision: try await scheduleRevision()
        case .fencedWrites: try await fencedWrites()
        case .leases: try await leases()
        case .recordFiresSkip: try await recordFiresSkip()
        case .recordFiresHolder: try await recordFiresHolder()
        case .retries: try await retries()
        case .alerts: try await alerts()
        case .streaks: try await streaks()
        }
    }

    // MARK: - Fixtures

    /// The instant `milliseconds` after the Unix epoch: a time every store keeps exactly.
    static func instant(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// 2024-06-01T00:00:00Z, the clauses' reference time.
    static let reference = instant(1_717_200_000_000)

    /// A cron schedule with the defaults and times the store keeps exactly.
    static func schedule(_ name: String, workflow: String = "w", remainingRuns: Int? = nil) -> ScheduleRecord {
        ScheduleRecord(
            name: name, cron: "* * * * *", workflow: workflow, remainingRuns: remainingRuns, createdAt: reference,
            updatedAt: reference)
    }

    /// A new queued run with a time the store keeps exactly.
    static func run(
        _ scheduleID: String?, dedupeKey: String? = nil, state: RunState = .queued, id: String = SortableID.make("run")
    ) -> RunRecord {
        RunRecord(
            id: id, scheduleID: scheduleID, workflow: "w", trigger: scheduleID == nil ? "manual" : "cron",
            dedupeKey: dedupeKey, state: state, queuedAt: reference)
    }

    /// A run id made at `date` (an id sorts by the time it was made), told apart by `serial`.
    static func runID(madeAt date: Date, serial: Int) -> String {
        // The lowest id at `date` ends in sixteen zeros of randomness; the serial takes the last six.
        String(SortableID.lowest("run", at: date).dropLast(6)) + String(format: "%06d", serial)
    }
}
