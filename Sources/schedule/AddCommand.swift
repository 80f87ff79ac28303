import ArgumentParser
import Foundation
import SchedulerAPI

/// `schedule add`: creates a schedule on the daemon.
struct AddCommand: AsyncParsableCommand, DaemonCommandRunner {
    static let commandName = "add"
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract:
            "Create a schedule: fire a workflow on a cron expression, on webhook POSTs, both, or only when asked.",
        discussion: """
            Prints the new schedule's id; with --webhook also its URL and signing secret, shown only \
            this once. Durations are written 30s, 5m, 1h30m.

              schedule add nightly --cron "0 2 * * *" --tz Europe/Berlin --workflow energy_analysis
              schedule add hook --webhook --workflow team_analysis --input team=ds
              schedule add checkup --manual --workflow diagnostic
            """)

    @Argument(
        help:
            "The schedule's name: lowercase letters, digits, _ and -. Default: the workflow's name (with -2, -3, … when taken)."
    )
    var name: String?

    @Option(help: "Cron expression (see `schedule next --help`).")
    var cron: String?

    @Flag(help: "Also (or only) fire on POST /hooks/NAME.")
    var webhook = false

    @Flag(help: "Neither cron nor webhook: run only with `schedule run NAME`.")
    var manual = false

    @Option(
        help:
            "How webhook requests are signed: github (X-Hub-Signature-256, the default), standard (Standard Webhooks), token (a bearer token)."
    )
    var webhookScheme: String?

    @Option(help: "The workflow to run.")
    var workflow: String

    @Option(name: .customLong("tz"), help: "IANA time zone for the cron expression (default UTC).")
    var timeZone: String?

    @Option(help: "key=value merged into the workflow's state (repeatable; JSON values keep their type).")
    var input: [String] = []

    @Option(help: "When a fire comes while the last run goes on: skip, allow, buffer-one, cancel-other.")
    var overlap: String?

    @Option(help: "How far back fires missed while the daemon was down are caught up (default 1h; 0: none).")
    var catchup: String?

    @Option(help: "Which missed fires run: latest, all, none.")
    var catchupMode: String?

    @Option(help: "Spread starts by up to this much (the same delay for a given fire every time).")
    var jitter: String?

    @Option(help: "Cancel a run that takes longer than this.")
    var timeout: String?

    @Option(help: "Pause the schedule after this many runs.")
    var remainingRuns: Int?

    @Option(help: "With both day fields restricted: or (either matches, the default) or and (both must).")
    var dayMatch: String?

    @Option(help: "A time skipped by spring-forward: coalesce (once, right after the gap; default), shift, skip.")
    var dstGap: String?

    @Option(help: "A time repeated by fall-back: first (default), last, both.")
    var dstFold: String?

    @Flag(help: "Create it paused.")
    var paused = false

    @Flag(help: "Print the daemon's JSON answer.")
    var json = false

    func run() async throws {
        await Self.guarded {
            let fields = ScheduleFields(
                name: name, cron: cron, webhook: webhook ? true : nil, manual: manual ? true : nil,
                webhookScheme: webhookScheme, workflow: workflow, timeZone: timeZone,
                input: input.isEmpty ? nil : try parseInputs(input), overlap: overlap, catchup: catchup,
                catchupMode: catchupMode, jitter: jitter, timeout: timeout, paused: paused ? true : nil,
                remainingRuns: remainingRuns, dayMatch: dayMatch, dstGap: dstGap, dstFold: dstFold)
            let client = DaemonClient()
            let answer = try await client.request(
                "POST", "/api/v1/schedules", body: fields, as: ScheduleWithSecret.self)
            if json {
                print(answer.jsonText)
                return
            }
            let created = answer.value
            print(created.schedule.id)
            if let trigger = created.schedule.webhookTrigger {
                print("webhook: POST \(client.base)\(trigger.path)")
                let use = trigger.scheme == "token" ? "send it as Authorization: Bearer" : "sign requests with it"
                print(
                    "secret:  \(Table.text(created.webhookSecret))  (shown once; \(use); scheme \(trigger.scheme))")
            }
        }
    }
}
