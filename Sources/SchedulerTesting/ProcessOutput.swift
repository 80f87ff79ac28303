import Foundation

/// What a finished process printed, and how it exited.
public struct ProcessOutput: Sendable {
    /// The exit status, or the signal's number when a signal ended the process.
    public var status: Int32
    /// Everything written to standard output, decoded as UTF-8.
    public var stdout: String
    /// Everything written to standard error, decoded as UTF-8.
    public var stderr: String
}

/// Runs an executable to its end with no stdin and returns its output. Both pipes are read before
/// waiting, so a large output cannot block the child.
/// - Parameter environment: the child's whole environment; `nil` inherits this process's.
public func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil) throws
    -> ProcessOutput
{
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessOutput(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

/// ``runProcess(_:_:environment:)`` on a thread of its own: the calling task waits for the child
/// without holding one of the few threads that every concurrent test shares.
public func runProcessOffPool(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil)
    async throws -> ProcessOutput
{
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result { try runProcess(executable, arguments, environment: environment) })
        }.start()
    }
}
