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
        switch keyStyle {
        case .utc: return Self.iso8601UTC(unixSeconds: unixSeconds)
        case .wallWithOffset: return Self.iso8601(unixSeconds: unixSeconds, offset: utcOffset)
        case .wall:
            let local = nominal
            return local.iso8601(seconds: local.second != 0)
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
        let local = LocalDateTime(localSeconds: unixSeconds + Int64(offset))
        let magnitude = abs(offset)
        var zone =
            (offset < 0 ? "-" : "+") + LocalDateTime.pad(magnitude / 3600, 2) + ":"
            + LocalDateTime.pad(magnitude / 60 % 60, 2)
        if magnitude % 60 != 0 { zone += ":" + LocalDateTime.pad(magnitude % 60, 2) }
        return local.iso8601() + zone
    }

    /// ISO 8601 in UTC with `Z`: `2024-03-10T07:00:00Z`.
    public static func iso8601UTC(unixSeconds: Int64) -> String {
        LocalDateTime(localSeconds: unixSeconds).iso8601() + "Z"
    }
}
