import ArgumentParser
import Foundation
import HTTPClient
import SchedulerAPI
import Scheduling
import Workflows

/// Talks to the daemon's admin API: finds it through `SCHEDULERD_URL` and the token through
/// `SCHEDULERD_TOKEN` or the token file in the data directory.
struct DaemonClient {
    let base: String
    let token: String?
    let tokenSource: String
    let client = HTTPClient(label: "cli")

    /// A failure to report on stderr.
    struct Failure: Error, CustomStringConvertible {
        var description: String
        /// The exit status.
        var status: Int32 = 1
    }

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let url = environment["SCHEDULERD_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://127.0.0.1:8088"
        base = url.hasSuffix("/") ? String(url.dropLast()) : url
        if let token = environment["SCHEDULERD_TOKEN"], !token.isEmpty {
            self.token = token
            tokenSource = "SCHEDULERD_TOKEN"
        } else {
            let data: String
            if let dir = environment["SCHEDULERD_DATA_DIR"], !dir.isEmpty {
                data = dir
            } else if let state = environment["XDG_STATE_HOME"], !state.isEmpty {
                data = state + "/schedulerd"
            } else {
                data = (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state/schedulerd"
            }
            let file = data + "/admin.token"
            token = (try? String(contentsOfFile: file, encoding: .utf8))?.trimmingCharacters(
                in: .whitespacesAndNewlines)
            tokenSource = file
        }
    }

    /// A 2xx answer: its body read as the route's wire type, and as the JSON it is (what `--json`
    /// prints).
    struct Reply<Value> {
        var value: Value
        var json: JSONValue

        /// The answer as compact JSON with sorted keys.
        var jsonText: String { json.jsonText }
    }

    /// Sends a request and reads the answer of a 2xx response as `Answer`.
    /// - Parameter body: the request's wire type, sent as JSON; `nil`: no body.
    /// - Throws: ``Failure`` with the daemon's error message, or where it looked when it is not there.
    func request<Answer: Decodable>(
        _ method: String, _ path: String, body: (any Encodable)? = nil, as answer: Answer.Type
    ) async throws -> Reply<Answer> {
        var headers = [("Accept", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        var bytes: [UInt8] = []
        if let body {
            bytes = Array(try WireFormat.encode(body))
            headers.append(("Content-Type", "application/json"))
        }
        let response: HTTPClient.Response
        do {
            response = try await client.perform(
                method: method, url: base + path, headers: headers, body: bytes, timeout: .seconds(60))
        } catch {
            throw Failure(
                description:
                    "cannot reach schedulerd at \(base) (\(error.message)); start it with `schedulerd` "
                    + "(scripts/run starts it with the examples), or set SCHEDULERD_URL to where it listens",
                status: 3)
        }
        let data = Data(response.body)
        guard (200..<300).contains(response.status) else {
            let refusal = try? WireFormat.decode(ErrorResponse.self, from: data)
            var message = refusal?.error.message ?? "HTTP \(response.status)"
            // Problems with files (apply) are listed one per line, after the message.
            for problem in refusal?.error.problems ?? [] {
                guard let source = problem.source else { continue }
                message += "\n  \(source): \(problem.field): \(problem.message)"
            }
            if response.status == 401 {
                message +=
                    token == nil
                    ? " (no token: set SCHEDULERD_TOKEN, or make \(tokenSource) readable)"
                    : " (token from \(tokenSource))"
            }
            throw Failure(description: message, status: response.status == 404 ? 4 : 1)
        }
        do {
            return Reply(
                value: try WireFormat.decode(answer, from: data), json: (try? JSONValue(json: data)) ?? .null)
        } catch {
            throw Failure(description: "cannot read schedulerd's answer to \(method) \(path): \(error)")
        }
    }
}

/// Shared by the commands that talk to the daemon: one line on stderr and the exit status on failure.
protocol DaemonCommandRunner {
    static var commandName: String { get }
}

extension DaemonCommandRunner {
    static func fail(_ message: String, status: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("schedule \(commandName): \(message)\n".utf8))
        exit(status)
    }

    /// Runs `body`, turning failures into one line on stderr and an exit status.
    static func guarded(_ body: () async throws -> Void) async {
        do {
            try await body()
        } catch let failure as DaemonClient.Failure {
            fail(failure.description, status: failure.status)
        } catch let code as ExitCode {
            exit(code.rawValue)  // the command has said what happened
        } catch {
            fail("\(error)")
        }
    }
}

/// Small text helpers for tables.
enum Table {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    /// A value as a table shows it; `-` for none.
    static func text(_ value: String?) -> String {
        value ?? "-"
    }

    /// A number as a table shows it; `-` for none.
    static func text(_ value: Int?) -> String {
        value.map(String.init) ?? "-"
    }

    /// `yes` or `no`.
    static func text(_ value: Bool) -> String {
        value ? "yes" : "no"
    }

    /// JSON as compact text with sorted keys.
    static func text(_ value: OpaqueJSON) -> String {
        JSONValue(value).jsonText
    }

    /// `2024-03-10T03:00:00+01:00` → `2024-03-10 03:00:00+01:00`; `-` for none.
    static func time(_ text: String?) -> String {
        guard let text else { return "-" }
        var short = text.replacingOccurrences(of: "T", with: " ")
        if let dot = short.firstIndex(of: ".") { short = String(short[..<dot]) + "Z" }
        return short
    }

    /// An instant in UTC to the second: `2024-03-10 03:00:00Z`; `-` for none.
    static func time(_ date: Date?) -> String {
        time(date.map(APITimestamp.format))
    }
}

/// `key=value` pairs from `--input`: values that parse as JSON keep their type (`n=3`, `ok=true`,
/// `list=[1,2]`), anything else is a string.
func parseInputs(_ pairs: [String]) throws -> OpaqueJSON {
    var object: [String: JSONValue] = [:]
    for pair in pairs {
        guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
            throw DaemonClient.Failure(
                description: "--input \"\(pair)\" must be key=value, like region=eu or days=7", status: 2)
        }
        let key = String(pair[..<eq])
        let raw = String(pair[pair.index(after: eq)...])
        object[key] = (try? JSONValue(json: Data(raw.utf8))) ?? .string(raw)
    }
    return OpaqueJSON(.object(object))
}
