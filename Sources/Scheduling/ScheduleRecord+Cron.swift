import Cron
import Storage

extension ScheduleRecord {
    /// How the schedule's cron expression is read: its zone, its id as the seed for `H`, and its
    /// day-match and DST overrides (the defaults where it has none).
    public var cronOptions: CronExpression.Options {
        CronExpression.Options(
            timeZone: timeZone, seed: id,
            dayMatch: dayMatch.flatMap(CronExpression.DayMatch.init(rawValue:)) ?? .vixie,
            dstGap: dstGap.flatMap(CronExpression.GapPolicy.init(rawValue:)) ?? .coalesce,
            dstFold: dstFold.flatMap(CronExpression.FoldPolicy.init(rawValue:)) ?? .first)
    }
}
