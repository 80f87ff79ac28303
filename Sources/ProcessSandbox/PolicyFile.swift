import Foundation
import Support
import Yams

/// Reads named sandbox policies (`schedules/policies.yaml`):
///
/// ```yaml
/// policies:
///   analysis:
///     timeout: 5m          # durations: 90s, 5m, 1h30m
///     grace: 10s
///     memory: 2GiB         # sizes: 512KiB, 100MiB, 2GiB, or bytes
///     cpu: 120s
///     open_files: 256
///     processes: 64
///     file_size: 100MiB
///     max_output: 1MiB
///     network: false
///     env: [PATH, LANG]
///     isolation: auto      # or required
///     artifacts: {max_count: 20, max_bytes: 50MiB, extensions: [csv, md, svg]}
/// ```
///
/// A policy named `default` replaces the built-in one; unset keys keep the built-in values.
public enum PolicyFile {
    static let keys = [
        "timeout", "grace", "memory", "cpu", "open_files", "processes", "file_size", "max_output", "network", "env",
        "isolation", "artifacts",
    ]
    static let artifactKeys = ["max_count", "max_bytes", "extensions"]

    /// Parses a policies file.
    /// - Returns: every policy by name, `default` included.
    /// - Throws: ``SandboxError`` listing every problem.
    public static func parse(_ text: String, file: String) throws(SandboxError) -> [String: SandboxPolicy] {
        var problems: [SandboxError.Problem] = []
        func problem(_ node: Node?, _ message: String) { problems.append(FileProblem(file: file, at: node, message)) }
        let root: Node?
        do {
            // UTF-8 named, not Yams's default: that reads the whole environment on every call.
            root = try Yams.compose(yaml: text, .default, .default, .utf8)
        } catch {
            throw SandboxError(problems: [FileProblem(file: file, syntax: error)])
        }
        var policies = ["default": SandboxPolicy.default]
        guard let root else { return policies }
        guard let top = root.mapping else {
            problem(root, "must be a mapping with one key, policies")
            throw SandboxError(problems: problems)
        }
        // `defaults` is the schedules' (retries), read by the scheduler's own reader.
        for (key, value) in top where key.string != "policies" && key.string != "defaults" {
            problem(key, "unknown key \"\(key.string ?? "?")\"; allowed: policies, defaults")
            _ = value
        }
        guard let list = top.first(where: { $0.key.string == "policies" })?.value else {
            if top.contains(where: { $0.key.string == "defaults" }) && problems.isEmpty { return policies }
            problem(root, "has no policies key")
            throw SandboxError(problems: problems)
        }
        guard let named = list.mapping else {
            problem(list, "policies must map names to settings")
            throw SandboxError(problems: problems)
        }
        for (nameNode, settings) in named {
            guard let name = nameNode.string,
                name.range(of: #"^[a-z][a-z0-9_-]{0,63}$"#, options: .regularExpression) != nil
            else {
                problem(
                    nameNode,
                    "policy name \"\(nameNode.string ?? "?")\" must be lowercase letters, digits, - and _, starting with a letter"
                )
                continue
            }
            var policy = policies[name] ?? SandboxPolicy(name: name)
            policy.name = name
            guard let fields = settings.mapping else {
                if settings.null == nil { problem(settings, "policy \"\(name)\" must be a mapping of settings") }
                policies[name] = policy
                continue
            }
            for (keyNode, value) in fields {
                let key = keyNode.string ?? ""
                let subject = "policy \"\(name)\": \(key)"
                func fail(_ what: String) { problem(value, "\(subject) \(what)") }
                switch key {
                case "timeout", "grace":
                    guard let seconds = duration(value.string), seconds > 0 else {
                        fail(
                            "\"\(value.string ?? "")\" is not a duration from 1s to \(DurationText.maximumText); use 90s, 5m or 1h30m"
                        )
                        continue
                    }
                    if key == "timeout" { policy.timeout = .seconds(seconds) } else { policy.grace = .seconds(seconds) }
                case "cpu":
                    guard let seconds = duration(value.string), seconds > 0 else {
                        fail(
                            "\"\(value.string ?? "")\" is not a duration from 1s to \(DurationText.maximumText); use 90s, 5m or 1h30m"
                        )
                        continue
                    }
                    policy.cpuSeconds = seconds
                case "memory", "file_size", "max_output":
                    guard let bytes = size(value.string), bytes > 0 else {
                        fail(
                            "\"\(value.string ?? "")\" is not a size from 1 byte to 1TiB; use bytes or 512KiB, 100MiB, 2GiB"
                        )
                        continue
                    }
                    switch key {
                    case "memory": policy.memoryBytes = bytes
                    case "file_size": policy.fileSizeBytes = bytes
                    default: policy.maxOutputBytes = bytes
                    }
                case "open_files", "processes":
                    guard let n = value.integer, n > 0, n <= 1_000_000 else {
                        fail("\"\(value.string ?? "")\" must be a whole number from 1 to 1000000")
                        continue
                    }
                    if key == "open_files" { policy.openFiles = n } else { policy.processes = n }
                case "network":
                    guard let flag = value.bool else {
                        fail("\"\(value.string ?? "")\" must be true or false")
                        continue
                    }
                    policy.network = flag
                case "env":
                    guard let names = value.sequence?.map({ $0.string ?? "" }),
                        names.allSatisfy({
                            $0.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) != nil
                        })
                    else {
                        fail("must be a list of variable names, like [PATH, LANG]")
                        continue
                    }
                    policy.environment = names
                case "isolation":
                    guard let mode = value.string.flatMap(SandboxPolicy.Isolation.init(rawValue:)) else {
                        fail("\"\(value.string ?? "")\" is not allowed; use auto or required")
                        continue
                    }
                    policy.isolation = mode
                case "artifacts":
                    guard let rules = value.mapping else {
                        fail("must be a mapping with max_count, max_bytes, extensions")
                        continue
                    }
                    for (ruleKey, ruleValue) in rules {
                        switch ruleKey.string ?? "" {
                        case "max_count":
                            guard let n = ruleValue.integer, n >= 0 else {
                                problem(ruleValue, "\(subject).max_count must be a whole number, 0 or more")
                                continue
                            }
                            policy.artifacts.maxCount = n
                        case "max_bytes":
                            guard let bytes = size(ruleValue.string) else {
                                problem(
                                    ruleValue,
                                    "\(subject).max_bytes \"\(ruleValue.string ?? "")\" is not a size from 0 to 1TiB; use bytes or 512KiB, 100MiB"
                                )
                                continue
                            }
                            policy.artifacts.maxBytes = bytes
                        case "extensions":
                            guard let list = ruleValue.sequence?.map({ ($0.string ?? "").lowercased() }),
                                list.allSatisfy({ !$0.isEmpty && !$0.contains(".") && !$0.contains("/") })
                            else {
                                problem(ruleValue, "\(subject).extensions must be a list like [csv, md, svg]")
                                continue
                            }
                            policy.artifacts.extensions = Set(list)
                        default:
                            problem(
                                ruleKey,
                                "\(subject): unknown key \"\(ruleKey.string ?? "")\"; allowed: \(artifactKeys.joined(separator: ", "))"
                            )
                        }
                    }
                default:
                    problem(
                        keyNode, "policy \"\(name)\": unknown key \"\(key)\"; allowed: \(keys.joined(separator: ", "))")
                }
            }
            policies[name] = policy
        }
        guard problems.isEmpty else { throw SandboxError(problems: problems) }
        return policies
    }

    /// Whole seconds in `90s`, `5m`, `1h30m`, `2d`, or a bare number of seconds.
    static func duration(_ text: String?) -> Int? {
        guard let duration = DurationText.parse(text), duration.components.attoseconds == 0 else { return nil }
        return Int(duration.components.seconds)
    }

    /// The largest size a policy takes: 1 TiB.
    package static let maximumSize = 1 << 40

    /// Bytes in `1024`, `512KiB`, `100MiB`, `2GiB` (also KB/MB/GB as powers of 1000); `nil` past
    /// ``maximumSize``.
    static func size(_ text: String?) -> Int? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        let digits = text.prefix(while: { $0.isASCII && $0.isNumber })
        guard let n = Int(digits), digits.count <= 12 else { return nil }
        let units: [String: Int] = [
            "": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "KB": 1000, "MB": 1_000_000,
            "GB": 1_000_000_000,
        ]
        guard let unit = units[text.dropFirst(digits.count).trimmingCharacters(in: .whitespaces)] else { return nil }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: unit)
        return overflow || bytes > maximumSize ? nil : bytes
    }
}
