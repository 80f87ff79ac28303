import Foundation
import SchedulerTesting
import Testing

@testable import MLflowTracing

/// The HTTP client's bounds: whatever a server sends, the daemon keeps at most the response limit.
@Suite("HTTP client limits")
struct CurlTransportTests {
    @Test("a response body over the limit fails the request with a message; one within it arrives whole")
    func responseLimit() async throws {
        let server = try await FixtureProcess.start(script: "sized_body.py")
        let transport = CurlTransport(tls: .init(), label: "test")
        let url = "http://127.0.0.1:\(server.port)/?bytes="
        switch await transport.perform(method: "GET", url: url + "\(3 << 20)", headers: [], maxResponseBody: 1 << 20) {
        case .success(let response): Issue.record("a 3 MiB body was kept whole: \(response.body.count) bytes")
        case .failure(let failure): #expect(failure.message == "the response body is over 1048576 bytes")
        }
        switch await transport.perform(method: "GET", url: url + "\(1 << 20)", headers: [], maxResponseBody: 1 << 20) {
        case .success(let response): #expect(response.body.count == 1 << 20)
        case .failure(let failure): Issue.record("a body at the limit failed: \(failure.message)")
        }
    }
}
