import Foundation
import Support
import Testing

@testable import ProcessSandbox

@Suite("Policies file: read with precise errors")
struct PolicyFileTests {
    @Test("every setting is read; unset ones keep the defaults; default can be replaced")
    func valid() throws {
        let policies = try PolicyFile.parse(
            """
            policies:
              default:
                timeout: 30s
              analysis:
                timeout: 5m
                grace: 10s
                memory: 2GiB
                cpu: 120s
                open_files: 128
                processes: 64
                file_size: 100MiB
                max_output: 512KiB
                network: true
                env: [PATH, LANG]
                isolation: required
                artifacts: {max_count: 5, max_bytes: 1MiB, extensions: [CSV, md]}
              quick:
            """, file: "policies.yaml")
        #expect(Set(policies.keys) == ["default", "analysis", "quick"])
        #expect(policies["default"]?.timeout == .seconds(30))
        #expect(policies["default"]?.memoryBytes == 1 << 30)
        let analysis = try #require(policies["analysis"])
        #expect(analysis.name == "analysis")
        #expect(analysis.timeout == .seconds(300))
        #expect(analysis.grace == .seconds(10))
        #expect(analysis.memoryBytes == 2 << 30)
        #expect(analysis.cpuSeconds == 120)
        #expect(analysis.openFiles == 128)
        #expect(analysis.processes == 64)
        #expect(analysis.fileSizeBytes == 100 << 20)
        #expect(analysis.maxOutputBytes == 512 << 10)
        #expect(analysis.network)
        #expect(analysis.environment == ["PATH", "LANG"])
        #expect(analysis.isolation == .required)
        #expect(
            analysis.artifacts == SandboxPolicy.Artifacts(maxCount: 5, maxBytes: 1 << 20, extensions: ["csv", "md"]))
        #expect(policies["quick"]?.timeout == .seconds(60))
    }

    @Test("every problem is reported with file, line, column, what is wrong and what is allowed")
    func errors() {
        let text = """
            policies:
              analysis:
                timeout: 5x
                memory: lots
                network: maybe
                isolation: strict
                colour: blue
                processes: -1
              Bad Name:
                timeout: 1s
              web:
                env: [PATH, "NOT OK"]
                artifacts: {max_count: two, kinds: [csv]}
            """
        do {
            _ = try PolicyFile.parse(text, file: "schedules/policies.yaml")
            Issue.record("expected errors")
        } catch {
            #expect(
                error.problems.map(\.description) == [
                    #"schedules/policies.yaml:3:14: policy "analysis": timeout "5x" is not a duration from 1s to 3650d; use 90s, 5m or 1h30m"#,
                    #"schedules/policies.yaml:4:13: policy "analysis": memory "lots" is not a size from 1 byte to 1TiB; use bytes or 512KiB, 100MiB, 2GiB"#,
                    #"schedules/policies.yaml:5:14: policy "analysis": network "maybe" must be true or false"#,
                    #"schedules/policies.yaml:6:16: policy "analysis": isolation "strict" is not allowed; use auto or required"#,
                    #"schedules/policies.yaml:7:5: policy "analysis": unknown key "colour"; allowed: timeout, grace, memory, cpu, open_files, processes, file_size, max_output, network, env, isolation, artifacts"#,
                    #"schedules/policies.yaml:8:16: policy "analysis": processes "-1" must be a whole number from 1 to 1000000"#,
                    #"schedules/policies.yaml:9:3: policy name "Bad Name" must be lowercase letters, digits, - and _, starting with a letter"#,
                    #"schedules/policies.yaml:12:10: policy "web": env must be a list of variable names, like [PATH, LANG]"#,
                    #"schedules/policies.yaml:13:28: policy "web": artifacts.max_count must be a whole number, 0 or more"#,
                    #"schedules/policies.yaml:13:33: policy "web": artifacts: unknown key "kinds"; allowed: max_count, max_bytes, extensions"#,
                ])
        }
    }

    @Test(
        "broken YAML and a wrong top level are refused",
        arguments: ["policies: [a, b", "- just a list", "rules:\n  a: {}"])
    func structure(_ text: String) {
        let error = #expect(throws: SandboxError.self) { try PolicyFile.parse(text, file: "p.yaml") }
        #expect(error?.code == .invalidPolicies)
        #expect(error?.problems.isEmpty == false)
    }

    @Test("durations and sizes", arguments: [("90s", 90), ("5m", 300), ("1h30m", 5400), ("2d", 172_800), ("45", 45)])
    func durations(_ text: String, _ seconds: Int) {
        #expect(PolicyFile.duration(text) == seconds)
    }

    @Test(
        "sizes",
        arguments: [
            ("1024", 1024), ("512KiB", 524_288), ("100MiB", 104_857_600), ("2GiB", 2_147_483_648), ("1MB", 1_000_000),
        ])
    func sizes(_ text: String, _ bytes: Int) {
        #expect(PolicyFile.size(text) == bytes)
    }
}

@Suite("The shipped schedules/policies.yaml")
struct ShippedPoliciesTests {
    @Test("parses and defines the policies the examples use")
    func shipped() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("schedules/policies.yaml").path
        let policies = try PolicyFile.parse(try String(contentsOfFile: path, encoding: .utf8), file: path)
        #expect(Set(policies.keys) == ["default", "analysis", "quick", "networked", "model_probe"])
        #expect(policies["networked"]?.network == true)
        // The probe of the examples' llm paths sees where a model is, never its key.
        #expect(policies["model_probe"]?.environment.contains("OPENAI_BASE_URL") == true)
        #expect(policies["model_probe"]?.environment.contains("OPENAI_API_KEY") == false)
        #expect(policies["analysis"]?.timeout == .seconds(300))
    }
}
