import CSandbox
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// The files a script may write beside its state update: made empty and the script's own before it
// starts, read back without following links after it ends.

extension SandboxRunner {
    /// Writes a new file of the execution's folder with `mode`, without syncing it to disk: it lives
    /// as long as the execution (Foundation's `Data.write` syncs each file, which cost a disk flush
    /// per script).
    /// - Throws: a `CocoaError` naming the file when it cannot be made or written.
    static func writeScratch(_ data: Data, to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        defer { close(fd) }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return false }
                offset += n
            }
            return true
        }
        guard written else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        // The mode exactly as asked, whatever the umask.
        fchmod(fd, mode)
    }

    /// Creates each side file empty, owned by the script's user; false (with `errno` set) when one
    /// cannot be made.
    func prepareSideFiles(_ files: [ScriptExecution.SideFile], in directory: URL) -> Bool {
        for file in files {
            let path = directory.appendingPathComponent(file.name).path
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            if let runAs, fchown(fd, runAs.uid, runAs.gid) != 0 { return false }
        }
        return true
    }

    /// Reads each side file's head. The script may have replaced the file: only a regular file owned
    /// by the script's user is read, never through a symbolic link, so that a script cannot make the
    /// daemon read a file the script itself could not.
    func readSideFiles(_ files: [ScriptExecution.SideFile], in directory: URL, into record: inout ExecutionRecord) {
        for file in files {
            let path = directory.appendingPathComponent(file.name).path
            var content = SideFileContent(data: Data(), totalBytes: 0)
            defer { record.sideFiles[file.variable] = content }
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { continue }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { continue }
            if let runAs, info.st_uid != runAs.uid { continue }
            content.totalBytes = Int(info.st_size)
            let wanted = min(Int(info.st_size), max(file.maxBytes, 0))
            var bytes = [UInt8](repeating: 0, count: wanted)
            var filled = 0
            while filled < wanted {
                let n = bytes.withUnsafeMutableBytes { buffer -> Int in
                    guard let base = buffer.baseAddress else { return -1 }
                    return read(fd, base + filled, wanted - filled)
                }
                if n <= 0 { break }
                filled += n
            }
            content.data = Data(bytes[..<filled])
        }
    }
}
