import Foundation
import Logging
import ProcessSandbox
import Scheduling
import Storage

// The daemon's start-up steps before the services are wired: the data directory, the sandbox,
// and the warnings about stored schedules.

extension Daemon {
    /// Makes the data directory and its `work/` folder: the daemon's files are its own (mode 0600),
    /// and scripts run as another user may pass through both folders (mode 0711) but list neither.
    /// - Throws: ``DaemonError`` when the folders cannot be made, or when scripts' user (`nobody`
    ///   under root) could not pass a folder above `work/`, which would fail every script.
    func prepareDataDirectory() throws {
        let fm = FileManager.default
        let data = configuration.dataDirectory
        let work = data.appendingPathComponent("work")
        umask(0o077)
        do {
            try fm.createDirectory(at: data, withIntermediateDirectories: true)
            try fm.setAttributes([.posixPermissions: 0o711], ofItemAtPath: data.path)
            try fm.createDirectory(at: work, withIntermediateDirectories: true)
            try fm.setAttributes([.posixPermissions: 0o711], ofItemAtPath: work.path)
        } catch {
            throw DaemonError(
                description: "cannot prepare the data directory \(data.path): \(error.localizedDescription)")
        }
        let lent = configuration.scriptUsers.map { (uid: $0.lowerBound, gid: $0.lowerBound) }
        if let user = lent ?? SandboxRunner(environment: [:], workRoot: data).runAs,
            let blocked = SandboxRunner.unreachableFolder(on: work, uid: user.uid, gid: user.gid)
        {
            throw DaemonError(
                description:
                    "scripts run as uid \(user.uid), which cannot pass \(blocked.path) (mode \(blocked.mode)) to reach "
                    + "\(work.path); use a data directory outside it "
                    + "(--data-dir), or let others pass with chmod o+x \(blocked.path)")
        }
    }

    /// The script runner: under bubblewrap when it works here, with resource limits alone (and a
    /// warning that says why) when it does not.
    func makeSandbox() async -> SandboxRunner {
        let work = configuration.dataDirectory.appendingPathComponent("work")
        var bubblewrap: String?
        switch await SandboxRunner.probeBubblewrap(workRoot: work) {
        case .success(let path):
            bubblewrap = path
            logger.info("scripts run under bubblewrap", metadata: ["bwrap": .string(path)])
        case .failure(let failure):
            logger.warning(
                "bubblewrap is not usable; scripts run with resource limits only (no namespaces)",
                metadata: ["reason": .string(failure.description)])
        }
        var runner = SandboxRunner(environment: configuration.environment, workRoot: work, bubblewrap: bubblewrap)
        if let range = configuration.scriptUsers {
            runner.users = ScriptUsers(range: range)
            logger.info(
                "scripts run as users of their own; each one's process limit counts its own processes",
                metadata: ["uids": .string("\(range.lowerBound)-\(range.upperBound)")])
        } else if let user = runner.runAs {
            logger.info(
                "scripts share one user, whose process limit counts all of their processes; --script-users gives each its own",
                metadata: ["uid": .stringConvertible(user.uid)])
        }
        return runner
    }

    /// Warns of each stored schedule that fires on other days under Vixie cron's day rule than under
    /// the reading of earlier versions, with both next fires and how to keep the old meaning.
    func warnOfDayRuleChanges(_ schedules: [ScheduleRecord]) {
        for schedule in schedules {
            guard let change = DayRuleNotice.change(for: schedule) else { continue }
            logger.warning(
                "a day field that begins with * is now a wildcard for the day rule; this schedule fires on other days",
                metadata: [
                    "schedule": .string(change.name), "cron": .string(change.expression),
                    "next_fire": .string(change.newNext), "next_fire_before": .string(change.oldNext),
                    "keep_old_meaning": "day_match: or",
                ])
        }
    }
}
