import Cron
import Foundation
import Storage

/// Finds schedules that fire on other days since the default day rule became Vixie cron's
/// (``CronExpression/DayMatch/vixie``): those without a `day_match` whose expression restricts both day
/// fields with one of them beginning with `*` (`0 0 */2 * 1`). The daemon logs one warning per such
/// schedule at start and `schedule validate` prints one per schedule file, so that nobody is surprised
/// by a crontab that now fires on fewer days. `day_match: or` keeps the old meaning.
public enum DayRuleNotice {
    /// One schedule whose fires change.
    public struct Change: Sendable, CustomStringConvertible {
        /// The schedule's name, as the warning shows it.
        public var name: String
        /// The cron expression as written, whose reading changed.
        public var expression: String
        /// The next fire under the old reading (`day_match: or`), ISO 8601 with the zone's offset, or `none`
        /// when no fire is left.
        public var oldNext: String
        /// The next fire under the default rule (``CronExpression/DayMatch/vixie``), ISO 8601 with the zone's
        /// offset, or `none` when no fire is left.
        public var newNext: String

        /// The warning, in one line: what changed, and how to keep the old meaning.
        public var description: String {
            "schedule \(name): \"\(expression)\" restricts both day fields and one begins with *, so by "
                + "Vixie cron's rule both must now match; next fire \(newNext) (was \(oldNext)); "
                + "set day_match: or to keep the old meaning"
        }
    }

    /// How many fires are compared: past the first, fires can differ where the next one agrees.
    static let compared = 20

    /// The change for a stored schedule, or `nil` when its fires stay the same.
    public static func change(for schedule: ScheduleRecord, now: Date = Date()) -> Change? {
        guard let cron = schedule.cron else { return nil }
        return change(
            name: schedule.name, cron: cron, timeZone: schedule.timeZone, dayMatch: schedule.dayMatch,
            seed: schedule.id, now: now)
    }

    /// The change for a schedule as written in a file or a request, or `nil` when its fires stay the
    /// same (or it has a `day_match`, or its expression does not parse: that is reported elsewhere).
    public static func change(
        name: String, cron: String, timeZone: String, dayMatch: String?, seed: String? = nil, now: Date = Date()
    ) -> Change? {
        guard dayMatch == nil, CronExpression.dayRuleMayDifferFromOr(cron) else { return nil }
        let vixie = CronExpression.Options(timeZone: timeZone, seed: seed ?? name, dayMatch: .vixie)
        var or = vixie
        or.dayMatch = .or
        guard let new = try? CronExpression(cron, options: vixie), new.dayRuleDiffersFromOr,
            let old = try? CronExpression(cron, options: or)
        else { return nil }
        let newFires = Array(new.fires(after: now).prefix(compared))
        let oldFires = Array(old.fires(after: now).prefix(compared))
        guard newFires.map(\.unixSeconds) != oldFires.map(\.unixSeconds) else { return nil }
        return Change(
            name: name, expression: cron, oldNext: oldFires.first?.iso8601 ?? "none",
            newNext: newFires.first?.iso8601 ?? "none")
    }
}
