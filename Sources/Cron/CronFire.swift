import Foundation

/// One fire of a schedule: when it happens, which nominal wall time it stands for, and the key that
/// makes it unique among the schedule's fires.
public struct CronFire: Sendable, Hashable, CustomStringConvertible {
    /// How a daylight-saving change shaped this fire.
    public enum DSTMarker: String, Sendable, Hashable {
        /// The nominal time did not exist (spring forward); the fire moved after the gap.
        case gapShifted = "gap_shifted"
        /// The nominal time occurs twice (fall back); this is its first occurrence.
        case foldFirst = "fold_first"
        /// The nominal time occurs twice (fall back); this is its second occurrence.
        case foldSecond = "fold_second"
    }

    /// How ``dedupeKey`` is written.
    enum KeyStyle: Sendable, Hashable {
        /// The UTC instant (interval-like schedules).
        case utc
        /// The nominal wall time without offset (wall-anchored schedules).
        case wall
        /// The wall time with its offset (a repeated time under `dst_fold: both`).
        case wallWithOffset
    }

    /// The instant of the fire, in whole seconds since the Unix epoch.
    public var unixSeconds: Int64
    /// The nominal wall time as seconds since 1970-01-01T00:00 on the wall clock.
    let nominalLocalSeconds: Int64
    /// The zone's offset from UTC at ``instant``, in seconds.
    public var utcOffset: Int
    /// Set when a daylight-saving change touched this fire.
    public var dst: DSTMarker?
    let keyStyle: KeyStyle

    init(unixSeconds: Int64, nominalLocalSeconds: Int64, utcOffset: Int, dst: DSTMarker?, keyStyle: KeyStyle) {
        self.unixSeconds = unixSeconds
        self.nominalLocalSeconds = nominalLocalSeconds
        self.utcOffset = utcOffset
        self.dst = dst
        self.keyStyle = keyStyle
    }

    /// The wall time the expression matched. For a gap-shifted fire this is the time that did not
    /// exist (`02:30`), not the wall time at ``instant``.
    public var nominal: LocalDateTime { LocalDateTime(localSeconds: nominalLocalSeconds) }

    /// Unique per fire of one schedule; stable across restarts and machines. Wall-anchored schedules
    /// use the nominal wall time without offset (`2024-11-03T01:30`), so the second copy of a repeated
    /// hour can never insert a run; interval-like ones use the UTC instant (`2024-11-03T05:30:00Z`).
    /// Written when read: computing fires does not pay for it.
    public var dedupeKey: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(25)
        appendDedupeKey(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``dedupeKey`` to `bytes` (ASCII), without making a string.
    public func appendDedupeKey(to bytes: inout [UInt8]) {
        switch keyStyle {
        case .utc: Self.appendISO8601UTC(unixSeconds: unixSeconds, to: &bytes)
        case .wallWithOffset: Self.appendISO8601(unixSeconds: unixSeconds, offset: utcOffset, to: &bytes)
        case .wall:
            let local = nominal
            local.appendISO8601(seconds: local.second != 0, to: &bytes)
        }
    }

    /// The instant of the fire.
    public var instant: Date { Date(timeIntervalSince1970: TimeInterval(unixSeconds)) }

    /// The wall time at ``instant`` in the schedule's zone.
    public var local: LocalDateTime { LocalDateTime(localSeconds: unixSeconds + Int64(utcOffset)) }

    /// ISO 8601 with the zone's offset: `2024-03-10T03:00:00-04:00`.
    public var iso8601: String { Self.iso8601(unixSeconds: unixSeconds, offset: utcOffset) }

    /// The instant with the zone's offset, as ``iso8601`` writes it.
    public var description: String { iso8601 }

    /// ISO 8601 for an instant shown at an offset: `2024-03-10T03:00:00-04:00`, `…+00:00` for UTC.
    public static func iso8601(unixSeconds: Int64, offset: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(25)
        appendISO8601(unixSeconds: unixSeconds, offset: offset, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``iso8601(unixSeconds:offset:)``'s text to `bytes` (ASCII), without making a string.
    public static func appendISO8601(unixSeconds: Int64, offset: Int, to bytes: inout [UInt8]) {
        LocalDateTime(localSeconds: unixSeconds + Int64(offset)).appendISO8601(to: &bytes)
        let magnitude = abs(offset)
        let withSeconds = magnitude % 60 != 0
        guard magnitude < 100 * 3600 else {
            // Past any real zone (they stay within ±26 h): written digit by digit.
            bytes.append(offset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            LocalDateTime.append(magnitude / 3600, width: 2, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            LocalDateTime.append(magnitude / 60 % 60, width: 2, to: &bytes)
            if withSeconds {
                bytes.append(UInt8(ascii: ":"))
                LocalDateTime.append(magnitude % 60, width: 2, to: &bytes)
            }
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 9) { buffer in
            buffer[0] = offset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+")
            LocalDateTime.put(magnitude / 3600, at: 1, in: buffer)
            buffer[3] = UInt8(ascii: ":")
            LocalDateTime.put(magnitude / 60 % 60, at: 4, in: buffer)
            buffer[6] = UInt8(ascii: ":")
            LocalDateTime.put(magnitude % 60, at: 7, in: buffer)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<(withSeconds ? 9 : 6)]))
        }
    }

    /// ISO 8601 in UTC with `Z`: `2024-03-10T07:00:00Z`.
    public static func iso8601UTC(unixSeconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        appendISO8601UTC(unixSeconds: unixSeconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``iso8601UTC(unixSeconds:)``'s text to `bytes` (ASCII), without making a string.
    public static func appendISO8601UTC(unixSeconds: Int64, to bytes: inout [UInt8]) {
        LocalDateTime(localSeconds: unixSeconds).appendISO8601(to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }
}
