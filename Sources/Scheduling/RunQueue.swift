import Storage

/// Runs waiting for a slot under the global limit, first in first out. Taking the first is O(1)
/// (a head index, compacted now and then), so a burst of ten thousand queued runs drains in linear time.
struct RunQueue {
    private var items: [RunRecord] = []
    private var head = 0

    var count: Int { items.count - head }
    var isEmpty: Bool { head == items.count }

    /// The ids of the runs waiting.
    var ids: [String] { items[head...].map(\.id) }

    /// The waiting runs, first in first.
    var runs: ArraySlice<RunRecord> { items[head...] }

    /// The waiting run with this id, if any.
    func run(id: String) -> RunRecord? { items[head...].first { $0.id == id } }

    mutating func append(_ run: RunRecord) {
        items.append(run)
    }

    mutating func removeFirst() -> RunRecord? {
        guard head < items.count else { return nil }
        let run = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return run
    }

    /// Removes the run with this id, wherever it waits.
    /// - Returns: whether it was waiting.
    @discardableResult
    mutating func remove(id: String) -> Bool {
        guard let index = items[head...].firstIndex(where: { $0.id == id }) else { return false }
        items.remove(at: index)
        return true
    }
}
