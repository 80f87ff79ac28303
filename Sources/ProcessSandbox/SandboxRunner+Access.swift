import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SandboxRunner {
    /// A folder on the way to `url` that the user `uid` (in group `gid`) cannot pass through, with its
    /// mode: scripts run as that user then cannot enter their work folder, and every script of every
    /// run would fail. `nil` when every folder from `/` down to `url` can be passed (execute permission
    /// for that user, by owner, group or other bits).
    public static func unreachableFolder(on url: URL, uid: UInt32, gid: UInt32) -> (path: String, mode: String)? {
        guard uid != 0 else { return nil }
        var path = ""
        let components = url.standardizedFileURL.path.split(separator: "/")
        for component in [""] + components.map(String.init) {
            path = component.isEmpty ? "/" : (path == "/" ? "/" : path + "/") + component
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            let mode = info.st_mode
            let passable: Bool
            if info.st_uid == uid {
                passable = mode & S_IXUSR != 0
            } else if info.st_gid == gid {
                passable = mode & S_IXGRP != 0
            } else {
                passable = mode & S_IXOTH != 0
            }
            if !passable { return (path, String(mode & 0o7777, radix: 8)) }
        }
        return nil
    }
}
