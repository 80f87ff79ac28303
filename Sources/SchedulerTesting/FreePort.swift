import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The next candidate of ``freeTCPPort()``, as an offset into its range; each test process starts at
/// a random place, so that two running at once rarely try the same ports.
private let nextPortOffset = Mutex(Int.random(in: 0..<freePortRange.count))

/// Where ``freeTCPPort()`` looks: below Linux's ephemeral range (32768 and up), where the kernel
/// never puts a `bind` to port 0 or the local end of an outgoing connection.
private let freePortRange = 20_000..<32_000

/// A TCP port on 127.0.0.1 that nothing listens on now, for a test server or an address where
/// nothing listens yet. It comes from below the ephemeral range and is never handed out twice in a
/// process: a port from the kernel's own choice could be handed to another test's server while
/// the first waited to listen on it, and was (a daemon restarting its listener lost its port so).
public func freeTCPPort() throws -> Int {
    for _ in 0..<freePortRange.count {
        let port = nextPortOffset.withLock { offset -> Int in
            defer { offset = (offset + 1) % freePortRange.count }
            return freePortRange.lowerBound + offset
        }
        if try canListen(on: port) { return port }
    }
    throw TestFailure(description: "no free TCP port in \(freePortRange)")
}

/// Whether a socket can be bound to `port` on 127.0.0.1 now.
private func canListen(on port: Int) throws -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure(description: "socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    let length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    return bound == 0
}
