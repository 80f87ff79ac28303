// `schedule next --count 100000` against the same 100,000 `next` calls in process.
//
// For each expression: the in-process time of computing its 100,000 fires after a fixed instant with
// the Cron library (parse included, as the CLI parses too), and the wall time of the release
// `schedule` binary printing the same fires, plain and `--json`, from spawn to exit, stdout to
// /dev/null; `--count 1` alone gives the process's start-up. Each figure is the median of RUNS
// (default 11) after one warm-up. Prints a markdown table; figures only.
//
//   cli-next PATH-TO-schedule

import Cron
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: cli-next PATH-TO-schedule\n".utf8))
    exit(2)
}
let binary = arguments[1]
let runs = Int(ProcessInfo.processInfo.environment["RUNS"] ?? "11") ?? 11
let count = 100_000

/// One expression, as both sides are given it.
struct Case {
    var expression: String
    var zone: String
    var after: String
}

let cases = [
    Case(expression: "*/5 * * * *", zone: "UTC", after: "2024-01-01T00:00:00Z"),
    Case(expression: "30 2 * * *", zone: "America/New_York", after: "2024-01-01T00:00:00-05:00"),
    Case(expression: "0 9 * * MON-FRI", zone: "Europe/Berlin", after: "2024-01-01T00:00:00+01:00"),
    Case(expression: "*/15 * * * * *", zone: "Asia/Kolkata", after: "2024-01-01T00:00:00+05:30"),
]

/// Milliseconds since an arbitrary start, monotonic.
func nowMs() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1e6
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

/// The median time of `body` over `runs` runs, after one warm-up.
func measure(_ body: () throws -> Void) rethrows -> Double {
    try body()
    var times: [Double] = []
    for _ in 0..<runs {
        let start = nowMs()
        try body()
        times.append(nowMs() - start)
    }
    return median(times)
}

/// Spawns `schedule` with `extra` arguments, stdout and stderr to /dev/null, and waits for it.
func spawnSchedule(_ extra: [String]) throws {
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([binary] + extra).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, binary, &actions, nil, argv, environ)
    guard spawned == 0 else { throw Failure(message: "cannot spawn \(binary): \(String(cString: strerror(spawned)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    guard status == 0 else { throw Failure(message: "\(binary) \(extra) exited with status \(status)") }
}

struct Failure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

func f(_ value: Double) -> String { String(format: "%.1f", value) }

print(
    "| expression (zone) | 100,000 `next` in process | `schedule next --count 100000` | ratio | with `--json` | ratio | `--count 1` (start-up) |"
)
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
var worst = 0.0
for item in cases {
    let options = CronExpression.Options(timeZone: item.zone)
    let start = try CronTime.parseInstant(item.after, timeZone: item.zone)
    var sink = 0
    let inProcess = try measure {
        let cron = try CronExpression(item.expression, options: options)
        let fires = Array(cron.fires(after: Date(timeIntervalSince1970: start)).prefix(count))
        sink &+= fires.count
    }
    guard sink > 0 else { exit(1) }
    let common = ["next", item.expression, "--tz", item.zone, "--after", item.after]
    let plain = try measure { try spawnSchedule(common + ["--count", String(count)]) }
    let json = try measure { try spawnSchedule(common + ["--count", String(count), "--json"]) }
    let startup = try measure { try spawnSchedule(common + ["--count", "1"]) }
    worst = max(worst, plain / inProcess, json / inProcess)
    print(
        "| `\(item.expression)` (\(item.zone)) | \(f(inProcess)) ms | \(f(plain)) ms | \(String(format: "%.2f", plain / inProcess))x | \(f(json)) ms | \(String(format: "%.2f", json / inProcess))x | \(f(startup)) ms |"
    )
}
print()
print("Medians of \(runs) runs after a warm-up. Highest ratio: \(String(format: "%.2f", worst))x; target ≤ 2x.")
