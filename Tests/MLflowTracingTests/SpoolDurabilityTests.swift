import Foundation
import Logging
import MLflowTesting
import RunTracing
import SchedulerTesting
import Testing
import Tracing

@testable import MLflowTracing

@Suite("The spool: nothing lost on a crash, bounded, oldest dropped first")
struct SpoolDurabilityTests {
    @Test("spans spooled by a process killed with SIGKILL are delivered after a restart")
    func sigkill() async throws {
        let server = try await MLflowTestServer.shared()
        let spoolPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("spool-\(UUID().uuidString)/trace-spool.sqlite").path
        let deadPort = try freeTCPPort()  // nothing listens there: export cannot happen

        let (words, exitedBySignal) = try await Self.killedProbe(
            [spoolPath, "http://127.0.0.1:\(deadPort)", "10"], after: .zero)
        #expect(exitedBySignal)
        try #require(words.first == "spooled", "the probe did not report its traces")
        let ids = Array(words.dropFirst())
        #expect(ids.count == 10)

        let running = try RunningExporter.start(uri: server.uri, spoolPath: spoolPath)
        try await stopping(running) { running in
            #expect(running.exporter.statistics.pending == 30)
            try await running.flush()
            let reader = MLflowReader(uri: server.uri)
            for id in ids {
                let trace = try #require(try await reader.trace(id))
                #expect(trace.spans.count == 3)
                #expect(trace.state == "OK")
            }
        }
    }

    @Test("a SIGKILL loses no span that ended 100 ms before it (the bound docs/traces.md gives)")
    func sigkillBound() async throws {
        let spoolPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("spool-\(UUID().uuidString)/trace-spool.sqlite").path
        let deadPort = try freeTCPPort()  // nothing listens there: the spans stay in the spool
        // The probe's line comes when its last span has ended: the bound starts there.
        let (words, exitedBySignal) = try await Self.killedProbe(
            [spoolPath, "http://127.0.0.1:\(deadPort)", "20", "ended"], after: .milliseconds(100))
        #expect(exitedBySignal)
        try #require(words.first == "ended", "the probe did not report its traces")
        #expect(words.count == 21)
        let spool = try SpanSpool(path: spoolPath)
        #expect(spool.totals.count == 60, "every span of the 20 traces (a root and two children each) is in the spool")
    }

    @Test("a batch holds whole traces, oldest first, each root after its children, whatever the interleaving")
    func wholeTraces() async throws {
        let spool = try SpanSpool(
            path: FileManager.default.temporaryDirectory
                .appendingPathComponent("spool-\(UUID().uuidString)/trace-spool.sqlite").path)
        // Three traces of three spans ended interleaved (a1 b1 c1 a2 b2 c2), then their roots (a, b, c).
        let traces = (0..<3).map { _ in TraceID.random() }
        let roots = (0..<3).map { _ in SpanID.random() }
        func span(_ trace: Int, _ name: String, root: Bool) -> (span: FinishedSpan, payload: [UInt8]) {
            let span = FinishedSpan(
                traceID: traces[trace], spanID: root ? roots[trace] : .random(),
                parentSpanID: root ? nil : roots[trace],
                name: name, kind: .internal, startNanos: 1_700_000_000_000_000_000,
                endNanos: 1_700_000_001_000_000_000, attributes: SpanAttributeList(), events: [], links: [], status: nil
            )
            return (span, OTLPJSON.encode(span))
        }
        var rows: [(span: FinishedSpan, payload: [UInt8])] = []
        for step in 1...2 { for trace in 0..<3 { rows.append(span(trace, "\(trace)-\(step)", root: false)) } }
        for trace in 0..<3 { rows.append(span(trace, "\(trace)-root", root: true)) }
        _ = try await spool.append(rows, maxCount: 1000, maxBytes: 1 << 20)

        func names(_ batch: [SpanSpool.Row]) -> [String] {
            batch.map { row in
                let text = String(decoding: row.payload, as: UTF8.self)
                let name = text.split(separator: "\"name\":\"")[1].prefix { $0 != "\"" }
                return String(name)
            }
        }
        let first = try await spool.oldest(maxSpans: 4, maxBytes: 1 << 20)
        #expect(names(first) == ["0-1", "0-2", "0-root", "1-1"])
        let all = try await spool.oldest(maxSpans: 100, maxBytes: 1 << 20)
        #expect(names(all) == ["0-1", "0-2", "0-root", "1-1", "1-2", "1-root", "2-1", "2-2", "2-root"])
        try await spool.delivered(ids: first.map(\.id))
        let next = try await spool.oldest(maxSpans: 100, maxBytes: 1 << 20)
        // 2-1 ended before 1-2: trace 2's oldest row is now the oldest owed.
        #expect(names(next) == ["2-1", "2-2", "2-root", "1-2", "1-root"])
    }

    @Test("past its bounds the spool drops the oldest spans, counts them and says so")
    func bounded() async throws {
        let spoolPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("spool-\(UUID().uuidString)/trace-spool.sqlite").path
        let deadPort = try freeTCPPort()
        let running = try RunningExporter.start(uri: URL(string: "http://127.0.0.1:\(deadPort)")!, spoolPath: spoolPath)
        {
            $0.spoolMaxSpans = 100
        }
        try await stopping(running) { running in
            var names: [String] = []
            for i in 0..<250 {
                running.tracer.withSpan("span-\(i)") { _ in }
                names.append("span-\(i)")
            }
            #expect(await running.exporter.flushToSpool(timeout: .seconds(60)))
            let statistics = running.exporter.statistics
            #expect(statistics.pending == 100)
            #expect(statistics.dropped == 150)
            #expect(!running.logs.matching(.warning, "trace spool full").isEmpty)
            // The newest 100 remain.
            let spool = try SpanSpool(path: spoolPath)
            let rows = try await spool.oldest(maxSpans: 1000, maxBytes: 1 << 30)
            let kept = rows.map { String(decoding: $0.payload, as: UTF8.self) }
            #expect(kept.count == 100)
            #expect(kept.first?.contains("\"span-150\"") == true)
            #expect(kept.last?.contains("\"span-249\"") == true)
        }
    }
}

extension SpoolDurabilityTests {
    /// Runs `trace-probe` with `arguments`, reads its one line, waits `delay` and kills it with
    /// SIGKILL. Returns the line's words and whether the probe died of the signal.
    static func killedProbe(_ arguments: [String], after delay: Duration) async throws -> (
        words: [String], killed: Bool
    ) {
        let probePath = ProductsDirectory.url.appendingPathComponent("trace-probe")
        let (line, killed) = try await offload { () throws -> (Data, Bool) in
            let probe = Process()
            probe.executableURL = probePath
            probe.arguments = arguments
            let out = Pipe()
            probe.standardOutput = out
            probe.standardError = FileHandle.nullDevice
            try probe.run()
            let line = readLine(out.fileHandleForReading)
            let (seconds, attoseconds) = delay.components
            usleep(UInt32(seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
            kill(probe.processIdentifier, SIGKILL)
            probe.waitUntilExit()
            return (line, probe.terminationReason == .uncaughtSignal)
        }
        let words = String(decoding: line, as: UTF8.self).split(whereSeparator: \.isWhitespace).map(String.init)
        return (words, killed)
    }
}

/// The directory with the built executables (the test bundle sits beside them).
enum ProductsDirectory {
    static var url: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("trace-probe").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir
    }
}
