import Foundation

/// Everything read from one output stream: the head up to the cap, a short tail, and the true count.
public struct CapturedOutput: Sendable, Equatable {
    /// The first bytes, up to the policy's `maxOutputBytes`.
    public var head: [UInt8]
    /// The last bytes (up to 64 KiB) when the stream was longer than the head.
    public var tail: [UInt8]
    /// Every byte the stream carried.
    public var totalBytes: Int

    /// True when ``head`` holds every byte the stream carried: nothing was cut and ``tail`` is empty.
    public var isComplete: Bool { totalBytes == head.count }
}

/// Reads a pipe to its end on a Dispatch thread (never a cooperative one), keeping what
/// ``CapturedOutput`` keeps and draining the rest so the writer never blocks.
enum OutputCapture {
    static let tailLimit = 64 << 10

    static func read(_ fd: Int32, cap: Int) async -> CapturedOutput {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: readBlocking(fd, cap: cap))
            }
        }
    }

    static func readBlocking(_ fd: Int32, cap: Int) -> CapturedOutput {
        var head: [UInt8] = []
        // Made only when the stream outgrows the head: most scripts write a few lines.
        var ring: [UInt8] = []
        var pastHead = 0
        var total = 0
        // Read into, never read from beyond what `read` filled: no need to zero it.
        var buffer = [UInt8](unsafeUninitializedCapacity: 64 << 10) { _, count in count = 64 << 10 }
        while true {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            if n == 0 { break }
            total += n
            var offset = 0
            if head.count < cap {
                let take = min(cap - head.count, n)
                head.append(contentsOf: buffer[0..<take])
                offset = take
            }
            // Copy what is past the head into the ring, in at most two slices.
            var from = offset
            if from < n && ring.isEmpty { ring = [UInt8](repeating: 0, count: tailLimit) }
            if n - from > tailLimit { from = n - tailLimit; pastHead += (n - offset) - tailLimit }
            while from < n {
                let position = pastHead % tailLimit
                let take = min(n - from, tailLimit - position)
                ring.replaceSubrange(position..<(position + take), with: buffer[from..<(from + take)])
                from += take
                pastHead += take
            }
        }
        close(fd)
        var tail: [UInt8] = []
        if pastHead > 0 {
            let count = min(pastHead, tailLimit)
            tail.reserveCapacity(count)
            for i in (pastHead - count)..<pastHead { tail.append(ring[i % tailLimit]) }
        }
        return CapturedOutput(head: head, tail: tail, totalBytes: total)
    }
}
