import Foundation
import Synchronization

/// A range of user ids lent to scripts one at a time, as systemd's `DynamicUser=` lends a unit its
/// own: each script running runs as a user no other script is running as, so that its process limit
/// (`RLIMIT_NPROC`, which the kernel counts per user) counts its own processes only, and no script
/// can signal or trace another's. The ids need no entry in `/etc/passwd`; the daemon must run as
/// root to switch to them.
///
/// ```swift
/// var runner = SandboxRunner(environment: env, workRoot: work)
/// runner.users = ScriptUsers(range: 61000...61999)
/// ```
public final class ScriptUsers: Sendable {
    /// The ids lent.
    public let range: ClosedRange<UInt32>

    private struct State {
        var inUse: Set<UInt32> = []
        /// Where the search for a free id starts: ids are lent in turn, so that the one a script
        /// has just given back is the last to be lent again.
        var next: UInt32
    }

    private let state: Mutex<State>

    /// A pool of `range`, which must hold at least one id and not include root's.
    public init?(range: ClosedRange<UInt32>) {
        guard range.lowerBound > 0 else { return nil }
        self.range = range
        self.state = Mutex(State(next: range.lowerBound))
    }

    /// Reads `FIRST-LAST` (both included, `FIRST` ≥ 1000 to keep clear of system users, at most
    /// 65,536 ids); `nil` for anything else.
    public static func parse(_ text: String) -> ClosedRange<UInt32>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let first = UInt32(parts[0]), let last = UInt32(parts[1]), first >= 1000,
            first <= last, last - first < 65_536, last < 4_294_967_295
        else { return nil }
        return first...last
    }

    /// Lends a free id; `nil` when every one is lent (more scripts run at once than the range holds).
    func acquire() -> UInt32? {
        state.withLock { state in
            let count = UInt64(range.count)
            for step in 0..<count {
                let offset = (UInt64(state.next - range.lowerBound) + step) % count
                let id = range.lowerBound + UInt32(offset)
                guard !state.inUse.contains(id) else { continue }
                state.inUse.insert(id)
                state.next = id == range.upperBound ? range.lowerBound : id + 1
                return id
            }
            return nil
        }
    }

    /// Gives an id back once its script's processes are gone.
    func release(_ id: UInt32) {
        _ = state.withLock { $0.inUse.remove(id) }
    }

    /// How many ids are lent now.
    public var lent: Int { state.withLock { $0.inUse.count } }
}
