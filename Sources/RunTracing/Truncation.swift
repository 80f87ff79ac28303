/// Size limits for span attributes, applied before encoding (MLflow itself sets none).
public struct TruncationLimits: Sendable, Hashable {
    /// `stdout` attribute of sandbox spans. Default 4 KiB.
    public var stdout: Int
    /// `stderr` attribute of sandbox spans. Default 2 KiB.
    public var stderr: Int
    /// Any other string attribute. Default 16 KiB.
    public var string: Int
    /// `mlflow.spanInputs` and `mlflow.spanOutputs`. Default 64 KiB.
    public var inputsOutputs: Int

    /// Limits in UTF-8 bytes, each counting the `…[truncated N bytes]` marker; a limit left out takes
    /// the default its property names.
    public init(stdout: Int = 4096, stderr: Int = 2048, string: Int = 16_384, inputsOutputs: Int = 65_536) {
        self.stdout = stdout
        self.stderr = stderr
        self.string = string
        self.inputsOutputs = inputsOutputs
    }
}

/// Cutting strings to a byte budget without breaking UTF-8.
public enum Truncation {
    /// `s` unchanged when it fits in `maxBytes` UTF-8 bytes; otherwise its head, cut on a character
    /// boundary, followed by `…[truncated N bytes]` where N counts the bytes cut. The result never
    /// exceeds `maxBytes`, marker included.
    /// - Parameter totalBytes: the size of the whole value when `s` is only its head (process output
    ///   read up to a cap); the marker then counts what was never read too.
    public static func truncate(_ s: String, maxBytes: Int, totalBytes: Int? = nil) -> String {
        var s = s
        let total = max(totalBytes ?? 0, s.utf8.count)
        if total <= maxBytes { return s }
        // The marker for `total` cut bytes is the longest one possible: reserve room for it.
        let reserve = marker(cut: total).utf8.count
        guard maxBytes > reserve else {
            return s.withUTF8 { String(decoding: $0[..<boundary($0, atMost: max(0, maxBytes))], as: UTF8.self) }
        }
        return s.withUTF8 { bytes in
            let keep = boundary(bytes, atMost: maxBytes - reserve)
            return String(decoding: bytes[..<keep], as: UTF8.self) + marker(cut: total - keep)
        }
    }

    static func marker(cut: Int) -> String { "…[truncated \(cut) bytes]" }

    /// The largest index `<= limit` that does not split a UTF-8 sequence.
    static func boundary(_ bytes: UnsafeBufferPointer<UInt8>, atMost limit: Int) -> Int {
        var i = min(limit, bytes.count)
        while i > 0 && i < bytes.count && bytes[i] & 0xC0 == 0x80 { i -= 1 }
        return i
    }
}
