import CSandbox
import Dispatch
import Glibc

/// Follows one started script to its end on a single Dispatch thread (never a cooperative one): it
/// drains the script's stdout and stderr and waits for its exit at once, with `poll` on both pipes and
/// a pidfd of the script, so an execution costs one thread hop rather than one per pipe and one for
/// the wait.
///
/// When the script exits, the ``ExitLatch`` opens and the rest of its process group gets SIGKILL
/// (nothing of a script outlives it); the pipes are then read to their end, for at most `drain` (a
/// process the script moved to a session of its own may hold them open; what came until then is
/// kept), and the group's zombies (orphans this process adopted as a subreaper) are reaped. Without
/// pidfds (Linux before 5.3) the exit is looked for between polls, every 1 to 16 ms.
enum ScriptWatch {
    /// How a script ended and what it wrote.
    struct Outcome: Sendable {
        /// The wait status of the script's process.
        var status: Int32
        /// Its resource usage (CPU time, peak resident size), with its waited-for children's.
        var usage: rusage
        /// What it wrote to stdout.
        var stdout: CapturedOutput
        /// What it wrote to stderr.
        var stderr: CapturedOutput
    }

    /// Follows script `pid`, whose stdout and stderr are the read ends `stdout` and `stderr` (closed
    /// here), keeping at most `cap` bytes of each stream's head. Opens `exited` when the script exits;
    /// returns once both streams ended (or `drain` after the exit) and the group is gone.
    static func follow(
        _ pid: pid_t, stdout: Int32, stderr: Int32, cap: Int, drain: Duration, exited: ExitLatch, reap: Bool
    ) async -> Outcome {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    returning: followBlocking(
                        pid, stdout: stdout, stderr: stderr, cap: cap, drain: drain, exited: exited, reap: reap))
            }
        }
    }

    private static func followBlocking(
        _ pid: pid_t, stdout: Int32, stderr: Int32, cap: Int, drain: Duration, exited: ExitLatch, reap: Bool
    ) -> Outcome {
        var captures = [OutputCapture(cap: cap), OutputCapture(cap: cap)]
        var pipes: [Int32] = [stdout, stderr]  // -1 once read to its end
        let pidfd = csb_pidfd_open(pid)
        var status: Int32 = 0
        var usage = rusage()
        var running = true
        var mayHaveExited = pidfd < 0
        var pause: Int32 = 1
        let clock = ContinuousClock()
        var drainEnds: ContinuousClock.Instant?
        // Read into, never read from beyond what `read` filled: no need to zero it.
        var buffer = [UInt8](unsafeUninitializedCapacity: 64 << 10) { _, count in count = 64 << 10 }
        var polled: [pollfd] = []
        polled.reserveCapacity(3)
        while true {
            if running && mayHaveExited && csb_has_exited(pid) != 0 {
                // Exited (or, should the check fail, no longer ours to wait for). The latch opens before
                // the reap: from here on the timeout sends no signal, and the pid is still taken for
                // the group's SIGKILL.
                running = false
                exited.open()
                _ = csb_kill_group(pid, SIGKILL)
                _ = csb_reap(pid, &status, &usage)
                drainEnds = clock.now.advanced(by: drain)
            }
            if !running && pipes[0] < 0 && pipes[1] < 0 { break }
            var timeout: Int32 = running && pidfd < 0 ? pause : -1
            if let drainEnds {
                let left = clock.now.duration(to: drainEnds)
                guard left > .zero else {
                    // Something outside the group holds a pipe open: stop reading, keep what came.
                    for index in pipes.indices where pipes[index] >= 0 {
                        close(pipes[index])
                        pipes[index] = -1
                    }
                    break
                }
                let (seconds, attoseconds) = left.components
                timeout = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            }
            polled.removeAll(keepingCapacity: true)
            for fd in pipes where fd >= 0 { polled.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0)) }
            let watchesExit = running && pidfd >= 0
            if watchesExit { polled.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&polled, nfds_t(polled.count), timeout)
            if ready < 0 {
                // Interrupted, or out of memory for the poll: look for the exit, then poll again.
                if errno != EINTR { usleep(1000) }
                mayHaveExited = true
                continue
            }
            if ready == 0 {
                pause = min(pause * 2, 16)
                mayHaveExited = true
                continue
            }
            for entry in polled where entry.revents != 0 && entry.fd != pidfd {
                guard let index = pipes.firstIndex(of: entry.fd) else { continue }
                if !readOnce(entry.fd, into: &buffer, capture: &captures[index]) {
                    close(entry.fd)
                    pipes[index] = -1
                }
            }
            mayHaveExited = pidfd < 0 || (watchesExit && (polled.last?.revents ?? 0) != 0)
        }
        if pidfd >= 0 { close(pidfd) }
        if reap { _ = csb_reap_group(pid) }
        return Outcome(status: status, usage: usage, stdout: captures[0].finish(), stderr: captures[1].finish())
    }

    /// One `read` of `fd` into `capture`; false at the end of the stream (or on an error that ends it).
    private static func readOnce(_ fd: Int32, into buffer: inout [UInt8], capture: inout OutputCapture) -> Bool {
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                buffer.withUnsafeBytes { capture.take(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                return true
            }
            if n < 0 && errno == EINTR { continue }
            return false
        }
    }
}
