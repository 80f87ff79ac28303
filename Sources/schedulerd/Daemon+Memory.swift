import Glibc
import Scheduling

extension Daemon {
    /// Once `scheduler` fires, hands the memory that starting freed back to the system.
    ///
    /// A start reads every schedule file and every stored schedule a few times (with 10,000
    /// schedules, tens of megabytes of parsed YAML and rows, on both cores); the allocator keeps
    /// what was freed in its per-thread arenas, where it stays resident until reused. `malloc_trim`
    /// returns the free pages of every arena (glibc's; looked up by name, as its header is not part of
    /// the Glibc module, and skipped under a C library without it).
    static func trimAfterStart(_ scheduler: Scheduler) -> Task<Void, Never> {
        Task {
            await scheduler.untilFiring()
            guard !Task.isCancelled, let trim = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else {
                return
            }
            _ = unsafeBitCast(trim, to: (@convention(c) (Int) -> Int32).self)(0)
        }
    }
}
