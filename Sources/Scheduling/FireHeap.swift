/// A min-heap of (time, key): the next fire of each schedule, or the start of a jittered run. Stale
/// entries are skipped by the caller through a generation number.
///
/// Entries due in the same second come out shortest ``Entry/period`` first: when thousands of
/// schedules are due at once, a delay of a second is all of an every-second schedule's period and
/// nothing to a daily one's.
struct FireHeap: Sendable {
    struct Entry: Sendable {
        var time: Int64
        var key: String
        var generation: Int
        /// Seconds from the schedule's previous fire to this one; 0 (first among equal times) when
        /// unknown or when the fire is late already (planned again after a failed write).
        var period: Int64 = 0

        /// Whether this entry comes out of the heap before `other`.
        func precedes(_ other: Entry) -> Bool {
            time < other.time || (time == other.time && period < other.period)
        }
    }

    private(set) var entries: [Entry] = []

    var isEmpty: Bool { entries.isEmpty }
    var min: Entry? { entries.first }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let top = entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && entries[left].precedes(entries[smallest]) { smallest = left }
            if right < entries.count && entries[right].precedes(entries[smallest]) { smallest = right }
            if smallest == parent { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
