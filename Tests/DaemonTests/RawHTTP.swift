import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// HTTP over a plain socket, for what URLSession will not send: malformed requests and bodies
/// streamed without a length.
enum RawHTTP {
    struct Outcome {
        /// The status of the first response, if one came.
        var status: Int?
        /// Body bytes the peer took before it answered or closed.
        var sent: Int
        var response: String
    }

    /// Connects to 127.0.0.1:`port`, writes `head`, then the chunks (stopping at the first failed
    /// write), closes the writing side and reads the answer until the peer closes or 10 s pass.
    static func exchange(port: Int, head: [UInt8], chunks: [[UInt8]] = [], readTimeout: Int = 10) throws -> Outcome {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: readTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sendTimeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        func write(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        var sent = 0
        if write(head) {
            for chunk in chunks {
                guard write(chunk) else { break }
                sent += chunk.count
            }
        }
        shutdown(fd, Int32(SHUT_WR))
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response += buffer[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        var status: Int?
        if text.hasPrefix("HTTP/1.1 ") || text.hasPrefix("HTTP/1.0 ") {
            status = Int(text.dropFirst(9).prefix(3))
        }
        return Outcome(status: status, sent: sent, response: text)
    }
}
