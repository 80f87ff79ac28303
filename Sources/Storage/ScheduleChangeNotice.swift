/// What a store's change feed says happened to the schedules: which ones changed (added, changed,
/// paused by their last run, deleted), or that any may have.
public enum ScheduleChangeNotice: Sendable, Hashable {
    /// These schedules changed: read each again (one that is gone was deleted).
    case schedules(Set<String>)
    /// Too many to name: read them all again.
    case all

    /// The notice a feed's text payload carries: ids joined by commas, or `*` for all.
    public init(payload: String) {
        let ids = payload.split(separator: ",").map(String.init).filter { !$0.isEmpty }
        self = payload == "*" || ids.isEmpty ? .all : .schedules(Set(ids))
    }

    /// The payload that carries the notice for `ids`: the ids joined by commas, or `*` when that
    /// would be longer than `limit` bytes.
    public static func payload(for ids: [String], limit: Int = 7_000) -> String {
        let joined = ids.joined(separator: ",")
        return joined.utf8.count > limit || ids.isEmpty ? "*" : joined
    }
}
