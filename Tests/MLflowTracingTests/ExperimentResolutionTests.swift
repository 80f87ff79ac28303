import Foundation
import Logging
import MLflowTesting
import RunTracing
import SchedulerTesting
import Testing
import Tracing

@testable import MLflowTracing

@Suite("Experiment resolution: by name (created when missing), by id, never into a deleted one")
struct ExperimentResolutionTests {
    @Test("a missing experiment is created; MLFLOW_EXPERIMENT_ID sends to that experiment")
    func nameAndID() async throws {
        let server = try await MLflowTestServer.shared()
        let reader = MLflowReader(uri: server.uri)
        let byName = try RunningExporter.start(uri: server.uri)
        try await stopping(byName) { byName in
            let first = byName.tracer.withSpan("named") { $0.traceID }
            try await byName.flush()
            let created = try await reader.experimentID(named: byName.experiment)
            #expect(try await reader.search(experimentID: created).contains(try #require(first).mlflowTraceID))

            let target = try await reader.createExperiment(named: "by-id-\(UUID().uuidString.prefix(8))")
            let byID = try RunningExporter.start(uri: server.uri) { $0.experimentID = target }
            try await stopping(byID) { byID in
                let second = byID.tracer.withSpan("by id") { $0.traceID }
                try await byID.flush()
                #expect(try await reader.search(experimentID: target).contains(try #require(second).mlflowTraceID))
            }
        }
    }

    @Test("an unknown experiment id or a deleted experiment keeps spans in the spool and says why")
    func refused() async throws {
        let server = try await MLflowTestServer.shared()
        let reader = MLflowReader(uri: server.uri)
        let unknown = try RunningExporter.start(uri: server.uri) { $0.experimentID = "987654321" }
        try await stopping(unknown) { unknown in
            unknown.tracer.withSpan("nowhere") { _ in }
            try await eventually("the unknown id is reported") {
                !unknown.logs.matching(.error, "MLflow refuses the spans").isEmpty
            }
            let unknownWarning = try #require(unknown.logs.matching(.error, "MLflow refuses the spans").first)
            #expect(
                unknownWarning.metadata["reason"]?.contains("MLFLOW_EXPERIMENT_ID 987654321 does not exist") == true)
            #expect(unknown.exporter.statistics.pending == 1)

            let name = "deleted-\(UUID().uuidString.prefix(8))"
            try await reader.deleteExperiment(id: try await reader.createExperiment(named: name))
            let deleted = try RunningExporter.start(uri: server.uri, experiment: name)
            try await stopping(deleted) { deleted in
                deleted.tracer.withSpan("into the trash") { _ in }
                try await eventually("the deleted experiment is reported") {
                    !deleted.logs.matching(.error, "MLflow refuses the spans").isEmpty
                }
                let deletedWarning = try #require(deleted.logs.matching(.error, "MLflow refuses the spans").first)
                #expect(deletedWarning.metadata["reason"]?.contains("is deleted in MLflow") == true)
                #expect(deleted.exporter.statistics.pending == 1)
                #expect(deleted.exporter.statistics.delivered == 0)
            }
        }
    }
}
