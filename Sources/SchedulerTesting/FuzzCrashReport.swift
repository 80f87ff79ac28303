import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Names the input behind a crash in a fuzz test.
///
/// A Swift runtime trap (an overflow, a failed conversion, a force unwrap of `nil`) ends the whole
/// test process with SIGILL or SIGTRAP, so no `#expect` can report the input that did it. Each fuzz
/// test takes a ``Slot`` and puts every input in it before trying it; when the process dies of a
/// trapping signal, a signal handler writes every slot's label and input to standard error, then
/// lets the signal take its usual course. Run output then shows, for instance:
///
/// ```
/// fuzz input in flight when the process crashed: durations/long: 999999999d999999999d…
/// ```
///
/// The handler only calls `write(2)`, `sigaction(2)` and `raise(3)`, which are async-signal-safe; each
/// slot is a fixed buffer written before the input is tried, so the handler reads no Swift object.
public enum FuzzCrashReport {
    /// How many fuzz tests can report at once; more wait for a free slot.
    static let slotCount = 16
    /// The bytes kept of each input (longer inputs are cut, with their length noted).
    static let capacity = 4096

    nonisolated(unsafe) private static let buffers: UnsafeMutablePointer<UInt8> = {
        let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: slotCount * capacity)
        pointer.initialize(repeating: 0, count: slotCount * capacity)
        return pointer
    }()
    nonisolated(unsafe) private static let lengths: UnsafeMutablePointer<Int> = {
        let pointer = UnsafeMutablePointer<Int>.allocate(capacity: slotCount)
        pointer.initialize(repeating: 0, count: slotCount)
        return pointer
    }()
    /// The actions in place before ours (the Swift runtime's backtracer, say), by signal number.
    nonisolated(unsafe) fileprivate static let previous: UnsafeMutablePointer<sigaction> = {
        let pointer = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
        pointer.initialize(repeating: sigaction(), count: 65)
        return pointer
    }()
    private static let taken = Mutex<[Bool]>(Array(repeating: false, count: slotCount))
    private static let installed = Mutex(false)

    /// One fuzz test's record of its current input. Release it with ``release()`` at the end.
    public struct Slot: Sendable {
        let index: Int
        let label: String

        /// Records `input` as the one being tried now (the label first, so the line says which test).
        public func set(_ input: String) {
            let text = "fuzz input in flight when the process crashed: \(label): "
            var bytes = Array(text.utf8)
            let body = Array(input.utf8)
            let room = FuzzCrashReport.capacity - bytes.count - 64
            if body.count <= room {
                bytes += body
            } else {
                bytes += body.prefix(room)
                bytes += Array("… (\(body.count) bytes in all)".utf8)
            }
            bytes.append(UInt8(ascii: "\n"))
            let base = FuzzCrashReport.buffers + index * FuzzCrashReport.capacity
            // Length 0 while the bytes change, so a crash in between prints nothing half-written.
            FuzzCrashReport.lengths[index] = 0
            bytes.withUnsafeBufferPointer { source in
                base.update(from: source.baseAddress!, count: min(source.count, FuzzCrashReport.capacity))
            }
            FuzzCrashReport.lengths[index] = min(bytes.count, FuzzCrashReport.capacity)
        }

        /// Clears the slot for the next test.
        public func release() {
            FuzzCrashReport.lengths[index] = 0
            FuzzCrashReport.taken.withLock { $0[index] = false }
        }
    }

    /// A slot for a fuzz test named `label`; installs the signal handler the first time.
    public static func slot(_ label: String) async -> Slot {
        installHandler()
        while true {
            let index = taken.withLock { taken -> Int? in
                guard let free = taken.firstIndex(of: false) else { return nil }
                taken[free] = true
                return free
            }
            if let index { return Slot(index: index, label: label) }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    private static func installHandler() {
        installed.withLock { installed in
            guard !installed else { return }
            installed = true
            _ = buffers
            _ = lengths
            _ = previous
            for signal in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT] {
                var action = sigaction()
                #if canImport(Glibc)
                    action.__sigaction_handler.sa_handler = fuzzCrashHandler
                #else
                    action.__sigaction_u.__sa_handler = fuzzCrashHandler
                #endif
                sigemptyset(&action.sa_mask)
                // Keep the alternate stack the runtime may have set up, so a stack overflow is reported too.
                var old = sigaction()
                sigaction(signal, nil, &old)
                action.sa_flags = old.sa_flags & Int32(SA_ONSTACK)
                sigaction(signal, &action, previous + Int(signal))
            }
        }
    }

    /// Writes every slot in use to standard error (from the signal handler).
    fileprivate static func dump() {
        for index in 0..<slotCount {
            let length = lengths[index]
            if length > 0 { _ = write(2, buffers + index * capacity, length) }
        }
    }
}

/// The handler: report, put back the action that was there before (the runtime's backtracer, or the
/// default), and raise the signal again so the process ends as it would have.
private func fuzzCrashHandler(_ signal: Int32) {
    FuzzCrashReport.dump()
    sigaction(signal, FuzzCrashReport.previous + Int(signal), nil)
    raise(signal)
}
