import Foundation
import Synchronization

/// The UTC offsets of one IANA zone as a table of transitions, so that converting between UTC and
/// wall time is a binary search instead of a calendar call per candidate.
///
/// The table is read from Foundation's time-zone data once per zone and extended lazily forward
/// (Foundation only answers "next transition after"), starting at ``coverageStart``. Before that
/// instant the offset in force at ``coverageStart`` is used.
final class ZoneRules: Sendable {
    /// A run of real time with one UTC offset.
    struct Segment: Equatable {
        /// First instant (UTC seconds) of the segment; `Int64.min` when unbounded.
        var start: Int64
        /// First instant after the segment; `Int64.max` when unbounded.
        var end: Int64
        /// Offset in seconds east of UTC.
        var offset: Int64
        /// Offset before `start`, if there is a transition there.
        var previousOffset: Int64?
        /// Offset from `end` on, if there is a transition there.
        var nextOffset: Int64?
    }

    private struct Table {
        var instants: [Int64] = []
        var offsets: [Int64] = []  // offsets[i] is in force from instants[i]
        var cursor: Int64
        var exhausted = false
    }

    /// 1800-01-01T00:00:00Z: early enough for any schedule, late enough to avoid most LMT oddities.
    static let coverageStart: Int64 = -5_364_662_400
    static let chunk: Int64 = 50 * 366 * 86_400

    let identifier: String
    let initialOffset: Int64
    /// True when the zone has no transition after ``coverageStart``.
    let isFixed: Bool
    private let zone: TimeZone
    private let table: Mutex<Table>

    private static let cache = Mutex<[String: ZoneRules]>([:])

    /// The rules of an IANA zone, or `nil` when Foundation does not know it.
    static func named(_ identifier: String) -> ZoneRules? {
        if let rules = cache.withLock({ $0[identifier] }) { return rules }
        // Only names from the tz database reach Foundation: its parser of "GMT+hh:mm" forms traps on
        // some malformed input.
        guard isPlausibleName(identifier), let zone = TimeZone(identifier: identifier) else { return nil }
        let rules = ZoneRules(identifier: identifier, zone: zone)
        return cache.withLock { cache in
            if let existing = cache[identifier] { return existing }
            cache[identifier] = rules
            return rules
        }
    }

    static let utc = named("UTC") ?? ZoneRules(identifier: "UTC", zone: .gmt)

    /// Whether `name` may be handed to Foundation: letters, digits and `_ / + -` only (tz database
    /// names), and a `GMT`/`UTC` offset form only when strictly `GMT±h[h][:mm]`.
    static func isPlausibleName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 64,
            name.utf8.allSatisfy({
                ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x5F || $0 == 0x2F
                    || $0 == 0x2B || $0 == 0x2D
            })
        else { return false }
        let upper = name.uppercased()
        for prefix in ["GMT", "UTC"] where upper.hasPrefix(prefix) && upper.count > 3 {
            let rest = Array(upper.utf8.dropFirst(3))
            guard rest[0] == 0x2B || rest[0] == 0x2D else { return false }
            let digits = rest.dropFirst()
            return (1...2).contains(digits.count) && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        }
        return true
    }

    /// Every instant whose wall time in this zone is `wall`: none in a gap, two in a fold.
    func instants(forWall wall: Int64) -> [Int64] {
        var result: [Int64] = []
        var segment = self.segment(containing: wall - 27 * 3600)
        while true {
            let instant = wall - segment.offset
            if instant >= segment.start && instant < segment.end { result.append(instant) }
            guard segment.end != .max, segment.end <= wall + 27 * 3600 else { return result }
            segment = self.segment(containing: segment.end)
        }
    }

    private init(identifier: String, zone: TimeZone) {
        self.identifier = identifier
        self.zone = zone
        let start = Date(timeIntervalSince1970: TimeInterval(Self.coverageStart))
        self.initialOffset = Int64(zone.secondsFromGMT(for: start))
        self.isFixed = zone.nextDaylightSavingTimeTransition(after: start) == nil
        self.table = Mutex(Table(cursor: Self.coverageStart, exhausted: isFixed))
    }

    /// The segment that contains the instant `utc`.
    func segment(containing utc: Int64) -> Segment {
        if isFixed { return Segment(start: .min, end: .max, offset: initialOffset) }
        return table.withLock { table in
            // Make sure the first transition after `utc` is known (or that there is none).
            while !table.exhausted && table.cursor <= utc {
                extend(&table, through: max(utc, table.cursor) + Self.chunk)
            }
            // Index of the last transition at or before utc.
            var lo = 0
            var hi = table.instants.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if table.instants[mid] <= utc { lo = mid + 1 } else { hi = mid }
            }
            let i = lo - 1
            let start = i >= 0 ? table.instants[i] : Int64.min
            let offset = i >= 0 ? table.offsets[i] : initialOffset
            let previous: Int64? = i > 0 ? table.offsets[i - 1] : (i == 0 ? initialOffset : nil)
            let hasNext = i + 1 < table.instants.count
            return Segment(
                start: start,
                end: hasNext ? table.instants[i + 1] : .max,
                offset: offset,
                previousOffset: previous,
                nextOffset: hasNext ? table.offsets[i + 1] : nil
            )
        }
    }

    /// The offset in force at `utc`.
    func offset(at utc: Int64) -> Int64 {
        isFixed ? initialOffset : segment(containing: utc).offset
    }

    private func extend(_ table: inout Table, through limit: Int64) {
        var lastOffset = table.offsets.last ?? initialOffset
        while table.cursor <= limit {
            let after = Date(timeIntervalSince1970: TimeInterval(table.cursor))
            guard let next = zone.nextDaylightSavingTimeTransition(after: after) else {
                table.exhausted = true
                return
            }
            let instant = Int64(next.timeIntervalSince1970.rounded(.down))
            guard instant > table.cursor else {
                // Never loop on a data oddity: step over it.
                table.cursor += 1
                continue
            }
            table.cursor = instant
            let offset = Int64(zone.secondsFromGMT(for: next))
            if offset != lastOffset {
                table.instants.append(instant)
                table.offsets.append(offset)
                lastOffset = offset
            }
        }
    }
}
