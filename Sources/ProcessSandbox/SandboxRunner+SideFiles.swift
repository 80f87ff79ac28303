import CSandbox
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// An execution's files: its folders, its scratch files, and the files a script may write beside its
// state update (made empty and the script's own before it starts, read back without following links
// after it ends), with plain system calls.

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

    /// Makes an execution's folder, then `inside` in order, with `mkdir` (each is new: the folder's
    /// name is a fresh UUID), and `root` first when it is missing. One system call per folder: the
    /// folders are about a fifth of an execution's own time, almost all of it the file system's.
    static func makeExecutionDirectories(_ directory: String, _ inside: [String], in root: URL) throws {
        func failure(_ path: String) -> DirectoryError {
            DirectoryError(errorDescription: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        func make(_ path: String) throws { guard mkdir(path, 0o755) == 0 else { throw failure(path) } }
        if mkdir(directory, 0o755) != 0 {
            guard errno == ENOENT else { throw failure(directory) }
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            try make(directory)
        }
        for path in inside { try make(path) }
    }

    /// The names in a folder (no `.` and `..`); none when it cannot be read. `opendir` and `readdir`:
    /// an execution lists its artifacts folder, almost always empty, every time.
    static func entries(of path: String) -> [String] {
        guard let folder = opendir(path) else { return [] }
        defer { closedir(folder) }
        var names: [String] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Why a folder of an execution could not be made, with the system's reason.
    struct DirectoryError: LocalizedError {
        var errorDescription: String?
    }

    /// Creates each side file empty, owned by the script's user; false (with `errno` set) when one
    /// cannot be made.
    func prepareSideFiles(_ files: [ScriptExecution.SideFile], in directory: String) -> Bool {
        for file in files {
            let path = directory + "/" + file.name
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            if let runAs, fchown(fd, runAs.uid, runAs.gid) != 0 { return false }
        }
        return true
    }

    /// Reads each side file's head (``readScriptFile(_:upTo:)``).
    func readSideFiles(_ files: [ScriptExecution.SideFile], in directory: String, into record: inout ExecutionRecord) {
        for file in files {
            let read = readScriptFile(directory + "/" + file.name, upTo: max(file.maxBytes, 0))
            record.sideFiles[file.variable] = SideFileContent(
                data: Data(read?.bytes ?? []), totalBytes: read?.totalBytes ?? 0)
        }
    }

    /// The first `maxBytes` of a file the script wrote, and its whole size; `nil` when there is none
    /// that may be read. The script may have put anything there: only a regular file owned by the
    /// script's user is read, never through a symbolic link and never waiting on a pipe, so that a
    /// script cannot make the daemon read a file the script itself could not, or block it.
    func readScriptFile(_ path: String, upTo maxBytes: Int) -> (bytes: [UInt8], totalBytes: Int)? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        if let runAs, info.st_uid != runAs.uid { return nil }
        let wanted = min(Int(info.st_size), maxBytes)
        var bytes = [UInt8](unsafeUninitializedCapacity: wanted) { _, count in count = wanted }
        var filled = 0
        while filled < wanted {
            let n = bytes.withUnsafeMutableBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return -1 }
                return read(fd, base + filled, wanted - filled)
            }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            filled += n
        }
        bytes.removeLast(wanted - filled)
        return (bytes, Int(info.st_size))
    }
}
