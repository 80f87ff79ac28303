import ArgumentParser

/// `schedule`: the command-line client of schedulerd.
@main
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Manage schedulerd schedules and preview cron expressions.",
        discussion: """
            Cron expressions have 5 fields (minute hour day-of-month month day-of-week) or 6 with \
            seconds first. Each field takes *, numbers, names (JAN-DEC, SUN-SAT), lists (1,15), ranges \
            (MON-FRI; 22-2 wraps), steps (*/15, 10-50/20), and in day fields ? (any), L (last day), \
            L-3, 15W (nearest weekday), LW, 5L (last Friday), FRI#3 (third Friday). H spreads load by \
            hashing the schedule id: H, H(0-29), H/15. Macros: @yearly @monthly @weekly @daily \
            @hourly @every 1h30m @reboot. A prefix CRON_TZ=Europe/Berlin sets the zone.

            Examples:
              schedule next "0 2 * * *" --tz America/New_York --count 3
              schedule next "*/15 9-17 * * MON-FRI" --json
              schedule next "0 0 L * *" --after 2024-02-01
              schedule validate schedules
            """,
        subcommands: [NextCommand.self, ValidateCommand.self]
    )
}
