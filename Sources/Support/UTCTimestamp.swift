import Cron
import Foundation

/// Instants written as ISO 8601 in UTC to the millisecond, `2026-12-05T09:14:03.123Z`, by arithmetic
/// rather than Foundation's formatters: node records carry one and are written on every run's path.
public enum UTCTimestamp {
    /// `date` to the nearest millisecond, as `YYYY-MM-DDTHH:MM:SS.mmmZ`; an instant outside the years
    /// 0001-9999 is written by Foundation instead.
    public static func milliseconds(_ date: Date) -> String {
        let total = (date.timeIntervalSince1970 * 1000).rounded()
        guard total.isFinite, total >= -62_135_596_800_000, total < 253_402_300_800_000 else {
            return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        }
        let ms = Int64(total)
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let milliseconds = Int(ms - seconds * 1000)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        LocalDateTime(localSeconds: seconds).appendISO8601(to: &bytes)
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0") + UInt8(milliseconds / 100))
        bytes.append(UInt8(ascii: "0") + UInt8(milliseconds / 10 % 10))
        bytes.append(UInt8(ascii: "0") + UInt8(milliseconds % 10))
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }
}
