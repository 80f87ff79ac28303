import Foundation
import GRDB

/// One row of the `run` table, column for column (see ``SQLiteMigrations``): instants are whole
/// milliseconds, the state its raw name. ``RunRecord`` is what the rest of the daemon sees.
///
/// It is read through `Decodable` but written through ``databaseValue(_:)``, not `Encodable`: a timer
/// tick stores thousands of runs in one transaction, and encoding each through `Encodable` and a
/// dictionary of named arguments took twice as long as the whole insert did with bound values.
struct RunRow: SQLiteRow {
    static let databaseTableName = "run"

    var id: String
    var scheduleID: String?
    var workflow: String
    var trigger: String
    var nominalTimeMs: Int64?
    var dedupeKey: String?
    var state: String
    var queuedAtMs: Int64
    var notBeforeMs: Int64?
    var startedAtMs: Int64?
    var finishedAtMs: Int64?
    var traceID: String?
    var rootSpanID: String?
    var rootStartNanos: Int64?
    var inputJSON: String
    var payload: Data?
    var outputJSON: String?
    var error: String?
    var nodesJSON: String?
    var owner: String?
    var attempt: Int64
    var fireAttempt: Int64
    var retryOf: String?
    var retryOfTrace: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id
        case scheduleID = "schedule_id"
        case workflow, trigger
        case nominalTimeMs = "nominal_time_ms"
        case dedupeKey = "dedupe_key"
        case state
        case queuedAtMs = "queued_at_ms"
        case notBeforeMs = "not_before_ms"
        case startedAtMs = "started_at_ms"
        case finishedAtMs = "finished_at_ms"
        case traceID = "trace_id"
        case rootSpanID = "root_span_id"
        case rootStartNanos = "root_start_nanos"
        case inputJSON = "input_json"
        case payload
        case outputJSON = "output_json"
        case error
        case nodesJSON = "nodes_json"
        case owner, attempt
        case fireAttempt = "fire_attempt"
        case retryOf = "retry_of"
        case retryOfTrace = "retry_of_trace"
    }

    /// Reads a fetched row; a value of the wrong type is a thrown ``StorageError``, never a trap.
    init(row: Row) throws {
        self = try Self.decodeColumns(of: row)
    }

    /// The row that stores `run` as a new run. What happens to a run later (its start, root span, output
    /// and nodes) is written by ``RunUpdate``s, so it is left empty here; a run stored already final
    /// (a skipped fire) ends at its `finishedAt`, or when it was queued, so that retention finds it.
    init(newRun run: RunRecord) {
        id = run.id
        scheduleID = run.scheduleID
        workflow = run.workflow
        trigger = run.trigger
        nominalTimeMs = run.nominalTime?.milliseconds
        dedupeKey = run.dedupeKey
        state = run.state.rawValue
        queuedAtMs = run.queuedAt.milliseconds
        notBeforeMs = run.notBefore?.milliseconds
        finishedAtMs = run.state.isFinal ? (run.finishedAt ?? run.queuedAt).milliseconds : nil
        traceID = run.traceID
        inputJSON = run.inputJSON
        payload = run.payload
        error = run.error
        owner = run.owner
        attempt = Int64(run.attempt)
        fireAttempt = Int64(run.fireAttempt)
        retryOf = run.retryOf
        retryOfTrace = run.retryOfTrace
    }

    /// The columns a new run can have values in (``init(newRun:)``): its start, root span, output and
    /// nodes come later, through ``RunUpdate``s.
    static let newRunColumns: [CodingKeys] = CodingKeys.allCases.filter {
        ![.startedAtMs, .rootSpanID, .rootStartNanos, .outputJSON, .nodesJSON].contains($0)
    }

    /// Stores a new run unless its schedule has a run with its dedupe key already, in which case the
    /// statement changes nothing (`ON CONFLICT … DO NOTHING`). Any other conflict, such as a taken id,
    /// is still an error. The columns are ``newRunColumns``, in order; bind ``newRunValues``. With at
    /// most 20 of them, GRDB binds strings in place instead of copying each.
    static let insertUnlessDuplicateSQL: String = {
        let columns = newRunColumns.map(\.rawValue)
        return """
            INSERT INTO run (\(columns.joined(separator: ", ")))
            VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))
            ON CONFLICT (schedule_id, dedupe_key) DO NOTHING
            """
    }()

    /// The value this row stores in `column`. The switch names every column, so a column added to
    /// `CodingKeys` does not compile until it is written here too.
    func databaseValue(_ column: CodingKeys) -> DatabaseValue {
        switch column {
        case .id: id.databaseValue
        case .scheduleID: scheduleID.databaseValue
        case .workflow: workflow.databaseValue
        case .trigger: trigger.databaseValue
        case .nominalTimeMs: nominalTimeMs.databaseValue
        case .dedupeKey: dedupeKey.databaseValue
        case .state: state.databaseValue
        case .queuedAtMs: queuedAtMs.databaseValue
        case .notBeforeMs: notBeforeMs.databaseValue
        case .startedAtMs: startedAtMs.databaseValue
        case .finishedAtMs: finishedAtMs.databaseValue
        case .traceID: traceID.databaseValue
        case .rootSpanID: rootSpanID.databaseValue
        case .rootStartNanos: rootStartNanos.databaseValue
        case .inputJSON: inputJSON.databaseValue
        case .payload: payload.databaseValue
        case .outputJSON: outputJSON.databaseValue
        case .error: error.databaseValue
        case .nodesJSON: nodesJSON.databaseValue
        case .owner: owner.databaseValue
        case .attempt: attempt.databaseValue
        case .fireAttempt: fireAttempt.databaseValue
        case .retryOf: retryOf.databaseValue
        case .retryOfTrace: retryOfTrace.databaseValue
        }
    }

    /// The row's values in the order of ``newRunColumns``, the columns of ``insertUnlessDuplicateSQL``.
    var newRunValues: [DatabaseValue] {
        Self.newRunColumns.map(databaseValue)
    }

    /// Gives GRDB's persistence methods the same values as ``databaseValues``.
    func encode(to container: inout PersistenceContainer) {
        for column in CodingKeys.allCases { container[column.rawValue] = databaseValue(column) }
    }

    /// The run this row stores. A state name this version does not know (a hand-edited row) reads as
    /// `failed`.
    var record: RunRecord {
        var run = RunRecord(
            id: id, scheduleID: scheduleID, workflow: workflow, trigger: trigger,
            nominalTime: nominalTimeMs.map(Date.init(milliseconds:)), dedupeKey: dedupeKey,
            state: RunState(rawValue: state) ?? .failed, queuedAt: Date(milliseconds: queuedAtMs),
            notBefore: notBeforeMs.map(Date.init(milliseconds:)), inputJSON: inputJSON, payload: payload)
        run.startedAt = startedAtMs.map(Date.init(milliseconds:))
        run.finishedAt = finishedAtMs.map(Date.init(milliseconds:))
        run.traceID = traceID
        run.rootSpanID = rootSpanID
        run.rootStartNanos = rootStartNanos
        run.outputJSON = outputJSON
        run.error = error
        run.nodesJSON = nodesJSON
        run.owner = owner
        run.attempt = Int(clamping: attempt)
        run.fireAttempt = Int(clamping: fireAttempt)
        run.retryOf = retryOf
        run.retryOfTrace = retryOfTrace
        return run
    }
}
