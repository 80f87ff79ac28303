import Benchmark
import Cron

// The cost of one `CronExpression.nextFire(afterUnixSeconds:)` for typical expressions, in UTC and in a
// zone with daylight saving time.
//
// Each benchmark walks forward from a fixed instant: every call asks for the fire after the previous one,
// so over a run the walk crosses month ends, leap day and both DST transitions of America/New_York
// (2024-03-10 and 2024-11-03), and wraps back to the start after a year. Parsing is done once, outside the
// measurement. `scripts/bench-cron` runs the same walk through Python's croniter and prints the ratio;
// it reads the expressions, zones, start and year from the names and constants below, so keep them in step.

/// The walk starts at 2024-01-01T00:00:00Z (Unix seconds).
let walkStart: Int64 = 1_704_067_200
/// The walk wraps back to ``walkStart`` once a fire is at or after this instant: 366 days later (2024 is a leap year).
let walkEnd: Int64 = walkStart + 366 * 86_400

/// Typical crontab lines: an interval, nightly inside the DST gap hour, weekday office hours, monthly,
/// every other hour, the last day of the month, and the second Monday of the month.
let expressions = [
    "*/5 * * * *",
    "0 2 * * *",
    "30 9 * * MON-FRI",
    "0 0 1 * *",
    "0 */2 * * *",
    "15 10 L * *",
    "0 9 * * 1#2",
]

let zones = ["UTC", "America/New_York"]

/// Where one benchmark's walk has got to. Benchmarks run one at a time on one thread, and the state is read
/// and written once per batch of `scaledIterations`, outside the inner loop.
final class Walk: @unchecked Sendable {
    var cursor = walkStart
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(1),
        maxIterations: .kilo(10)
    )

    for zone in zones {
        for text in expressions {
            let expression: CronExpression
            do {
                expression = try CronExpression(text, options: .init(timeZone: zone))
            } catch {
                fatalError("cannot parse \"\(text)\" in \(zone): \(error)")
            }
            let walk = Walk()
            Benchmark("next \(text) \(zone)") { benchmark in
                var cursor = walk.cursor
                for _ in benchmark.scaledIterations {
                    guard let fire = expression.nextFire(afterUnixSeconds: cursor) else {
                        fatalError("\"\(text)\" in \(zone) has no fire after \(cursor)")
                    }
                    cursor = fire.unixSeconds < walkEnd ? fire.unixSeconds : walkStart
                    blackHole(fire)
                }
                walk.cursor = cursor
            }
        }
    }
}
