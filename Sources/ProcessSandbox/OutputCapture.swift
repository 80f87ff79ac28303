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

/// What is kept of one output stream while it is read: the head up to the cap, the last 64 KiB in a
/// ring made only when the stream outgrows the head, and the count. ``ScriptWatch`` feeds it each
/// `read`'s bytes.
struct OutputCapture {
    static let tailLimit = 64 << 10

    private let cap: Int
    private var head: [UInt8] = []
    private var ring: [UInt8] = []
    private var pastHead = 0
    private var total = 0

    /// A capture keeping at most `cap` bytes of head.
    init(cap: Int) { self.cap = cap }

    /// Takes the next bytes of the stream.
    mutating func take(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        total += n
        var offset = 0
        if head.count < cap {
            let take = min(cap - head.count, n)
            head.append(contentsOf: bytes[0..<take])
            offset = take
        }
        // Copy what is past the head into the ring, in at most two slices.
        var from = offset
        if from < n && ring.isEmpty { ring = [UInt8](repeating: 0, count: Self.tailLimit) }
        if n - from > Self.tailLimit {
            from = n - Self.tailLimit
            pastHead += (n - offset) - Self.tailLimit
        }
        while from < n {
            let position = pastHead % Self.tailLimit
            let take = min(n - from, Self.tailLimit - position)
            ring.withUnsafeMutableBytes { target in
                target.baseAddress!.advanced(by: position).copyMemory(
                    from: bytes.baseAddress!.advanced(by: from), byteCount: take)
            }
            from += take
            pastHead += take
        }
    }

    /// Everything kept, the tail in the order it was written.
    func finish() -> CapturedOutput {
        var tail: [UInt8] = []
        if pastHead > 0 {
            let count = min(pastHead, Self.tailLimit)
            tail.reserveCapacity(count)
            for i in (pastHead - count)..<pastHead { tail.append(ring[i % Self.tailLimit]) }
        }
        return CapturedOutput(head: head, tail: tail, totalBytes: total)
    }
}
