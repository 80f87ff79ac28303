import Foundation
import SchedulerTesting
import Testing

@testable import HTTPClient

/// The HTTP client against a real server: its bounds, connection reuse and cancellation.
@Suite("HTTP client")
struct HTTPClientTests {
    @Test("a response body over the limit fails the request with a message; one within it arrives whole")
    func responseLimit() async throws {
        let server = try await FixtureProcess.start(script: "http_client_server.py")
        let client = HTTPClient(label: "test")
        let url = "http://127.0.0.1:\(server.port)/?bytes="
        do {
            let response = try await client.perform(method: "GET", url: url + "\(3 << 20)", maxResponseBody: 1 << 20)
            Issue.record("a 3 MiB body was kept whole: \(response.body.count) bytes")
        } catch {
            #expect(error.code == .responseTooLarge)
            #expect(error.message == "the response body is over 1048576 bytes")
        }
        let response = try await client.perform(method: "GET", url: url + "\(1 << 20)", maxResponseBody: 1 << 20)
        #expect(response.body.count == 1 << 20)
    }

    @Test("requests one after another share one connection")
    func reuse() async throws {
        let server = try await FixtureProcess.start(script: "http_client_server.py")
        let client = HTTPClient(label: "test")
        for _ in 0..<5 {
            let response = try await client.perform(method: "GET", url: "http://127.0.0.1:\(server.port)/?bytes=10")
            #expect(response.status == 200 && response.body.count == 10)
        }
        #expect(client.connectionsOpened == 1)
        let count = try await client.perform(method: "GET", url: "http://127.0.0.1:\(server.port)/connections")
        #expect(String(decoding: count.body, as: UTF8.self) == "1")
    }

    @Test(
        "cancelling the task aborts a transfer the server never answers, long before its timeout",
        .timeLimit(.minutes(1)))
    func cancellation() async throws {
        let server = try await FixtureProcess.start(script: "http_client_server.py")
        let client = HTTPClient(label: "test")
        let request = Task {
            try await client.perform(
                method: "GET", url: "http://127.0.0.1:\(server.port)/hang", timeout: .seconds(3600))
        }
        // The request is on the wire once the server has accepted its connection.
        let probe = HTTPClient(label: "probe")
        while try await probe.perform(method: "GET", url: "http://127.0.0.1:\(server.port)/connections").body
            == Array("1".utf8)
        {
            await Task.yield()
        }
        request.cancel()
        do {
            _ = try await request.value
            Issue.record("a request the server never answered completed")
        } catch let error as HTTPClientError {
            #expect(error.code == .cancelled)
        }
        // The connection that was cancelled serves the next request.
        let next = try await client.perform(method: "GET", url: "http://127.0.0.1:\(server.port)/?bytes=3")
        #expect(next.body == Array("xxx".utf8))
    }

    @Test("without abortOnCancel, a cancelled task's request runs to its own end: here its timeout")
    func runsToItsEnd() async throws {
        let server = try await FixtureProcess.start(script: "http_client_server.py")
        let client = HTTPClient(label: "test")
        let request = Task {
            try await client.perform(
                method: "GET", url: "http://127.0.0.1:\(server.port)/hang", timeout: .seconds(1), abortOnCancel: false)
        }
        request.cancel()
        do {
            _ = try await request.value
            Issue.record("a request the server never answered completed")
        } catch let error as HTTPClientError {
            #expect(error.code == .transport)
        }
        #expect(client.connectionsOpened == 1)
    }

    @Test("a task cancelled before it asks sends nothing")
    func cancelledBefore() async throws {
        let client = HTTPClient(label: "test")
        let request = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.perform(method: "GET", url: "http://127.0.0.1:9/never")
        }
        // Port 9 refuses connections, so anything but .cancelled means the request was tried.
        do {
            _ = try await request.value
            Issue.record("a cancelled task's request completed")
        } catch let error as HTTPClientError {
            #expect(error.code == .cancelled)
        }
        #expect(client.connectionsOpened == 0)
    }

    @Test("a refused connection is a transport failure that names the cause")
    func refused() async throws {
        let client = HTTPClient(label: "test")
        do {
            _ = try await client.perform(method: "GET", url: "http://127.0.0.1:9/", timeout: .seconds(5))
            Issue.record("port 9 answered")
        } catch {
            #expect(error.code == .transport)
            #expect(!error.message.isEmpty)
        }
    }
}
