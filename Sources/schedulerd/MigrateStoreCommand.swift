import ArgumentParser
import Foundation
import Logging
import PostgresStorage
import Storage

/// `schedulerd migrate-store`: moves a daemon's schedules, webhook secrets and run history from its
/// SQLite file into an empty PostgreSQL database, so that it (and others) can run with `--database`.
struct MigrateStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-store",
        abstract: "Copy the schedules, secrets and run history of a SQLite file into an empty PostgreSQL database.",
        discussion: """
            Stop the daemon first. Every schedule (with its webhook secrets, cursor, pause and remaining \
            runs) and every run (with its trace ids, input, payload, output and node records) is copied, \
            then both stores are read back and compared record by record. A target that holds any \
            schedule or run is refused, so nothing is mixed or overwritten. The SQLite file is left as \
            it was; start the daemons with --database URL afterwards.

              schedulerd migrate-store --from /var/lib/schedulerd/schedulerd.sqlite \\
                  --to postgres://scheduler@db.internal/schedulerd?sslmode=require
            """)

    @Option(help: "The SQLite file to copy from (<data-dir>/schedulerd.sqlite).")
    var from: String

    @Option(help: "The PostgreSQL database to copy into (password also from PGPASSWORD).")
    var to: String

    @Flag(help: "Print JSON for scripts.")
    var json = false

    func run() async throws {
        guard FileManager.default.fileExists(atPath: from) else {
            FileHandle.standardError.write(
                Data(
                    "schedulerd: no SQLite file at \(from); give --from the daemon's <data-dir>/schedulerd.sqlite\n"
                        .utf8))
            throw ExitCode(2)
        }
        let configuration: PostgresConfiguration
        do {
            configuration = try PostgresConfiguration(url: to, environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("schedulerd: \(error)\n".utf8))
            throw ExitCode(2)
        }
        var logger = Logger(label: "schedulerd.migrate-store")
        logger.logLevel = .warning
        do {
            let source = try SQLiteStore(path: from)
            let target = PostgresStore(configuration: configuration, logger: logger)
            let summary = try await target.withRunningClient {
                _ = try await target.migrate(within: configuration.connectTimeout * 3)
                return try await StoreCopy.copy(from: source, to: target)
            }
            if json {
                print(#"{"schedules":\#(summary.schedules),"runs":\#(summary.runs),"to":"\#(configuration)"}"#)
            } else {
                print(
                    "copied \(summary.schedules) schedules and \(summary.runs) runs into \(configuration); both read back the same"
                )
            }
        } catch {
            FileHandle.standardError.write(Data("schedulerd: migrate-store: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
