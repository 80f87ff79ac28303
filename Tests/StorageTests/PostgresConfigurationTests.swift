import PostgresStorage
import Testing

@Suite("Database URLs are read as libpq reads them")
struct PostgresConfigurationTests {
    @Test("a full URL gives every part")
    func fullURL() throws {
        let configuration = try PostgresConfiguration(
            url: "postgresql://scheduler:s3cret@db.internal:6543/schedulerd?sslmode=verify-full&connect_timeout=5")
        #expect(configuration.host == "db.internal" && configuration.port == 6543)
        #expect(configuration.user == "scheduler" && configuration.password == "s3cret")
        #expect(configuration.database == "schedulerd" && configuration.sslMode == .verifyFull)
        #expect(configuration.connectTimeout == .seconds(5))
    }

    @Test("defaults: port 5432, sslmode prefer, host localhost, no password")
    func defaults() throws {
        let configuration = try PostgresConfiguration(url: "postgres://scheduler@/jobs")
        #expect(configuration.host == "localhost" && configuration.port == 5432)
        #expect(configuration.sslMode == .prefer && configuration.password == nil)
        #expect(configuration.database == "jobs")
    }

    @Test("user and password are percent-decoded, and may hold @ : /")
    func percentDecoding() throws {
        let configuration = try PostgresConfiguration(url: "postgres://me%40corp:p%40ss%3Aw%2Frd@h/db%20one")
        #expect(configuration.user == "me@corp" && configuration.password == "p@ss:w/rd")
        #expect(configuration.database == "db one" && configuration.host == "h")
        let raw = try PostgresConfiguration(url: "postgres://u:a@b@h:1/db")
        #expect(raw.password == "a@b" && raw.host == "h" && raw.port == 1)
    }

    @Test("PGPASSWORD and PGUSER fill in what the URL leaves out, and the URL wins")
    func environment() throws {
        let environment = ["PGPASSWORD": "from-env", "PGUSER": "envuser"]
        let fromEnvironment = try PostgresConfiguration(url: "postgres://h/db", environment: environment)
        #expect(fromEnvironment.user == "envuser" && fromEnvironment.password == "from-env")
        let fromURL = try PostgresConfiguration(url: "postgres://u:inurl@h/db", environment: environment)
        #expect(fromURL.user == "u" && fromURL.password == "inurl")
    }

    @Test("an IPv6 host goes in brackets")
    func ipv6() throws {
        let configuration = try PostgresConfiguration(url: "postgres://u@[::1]:5433/db")
        #expect(configuration.host == "::1" && configuration.port == 5433)
        #expect(configuration.target == "[::1]:5433/db")
    }

    @Test(
        "every sslmode is read",
        arguments: [
            ("disable", PostgresConfiguration.SSLMode.disable), ("prefer", .prefer), ("require", .require),
            ("verify-ca", .verifyCA), ("verify-full", .verifyFull),
        ])
    func sslModes(_ name: String, _ mode: PostgresConfiguration.SSLMode) throws {
        #expect(try PostgresConfiguration(url: "postgres://u@h/db?sslmode=\(name)").sslMode == mode)
    }

    @Test(
        "a wrong URL is refused with what was wrong and what is allowed",
        arguments: [
            ("mysql://u@h/db", "scheme \"mysql\" is not postgres:// or postgresql://"),
            ("u@h/db", "must start with postgres:// or postgresql://"),
            ("postgres://u@h:99999/db", "port \"99999\" is not a number from 1 to 65535"),
            ("postgres://u@h:abc/db", "port \"abc\" is not a number from 1 to 65535"),
            ("postgres://u@h/db?sslmode=always", "sslmode \"always\" is not one of disable, prefer, require"),
            ("postgres://u@h:5432", "names no database"),
            ("postgres://u@h:5432/", "names no database"),
            ("postgres://h/db", "names no user"),
            ("postgres://u@h/db?sslmod=require", "parameter \"sslmod\" is not one of sslmode, sslrootcert"),
            ("postgres://u@h/db?connect_timeout=0", "connect_timeout \"0\" must be a whole number"),
            ("postgres://u@[::1/db", "opens a [ it does not close"),
        ])
    func refused(_ url: String, _ expected: String) {
        let error = #expect(throws: PostgresConfigurationError.self) { try PostgresConfiguration(url: url) }
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error")")
    }

    @Test("no error and no description holds the password")
    func passwordMasked() throws {
        let secret = "Sup3r%25Secret"
        let configuration = try PostgresConfiguration(url: "postgres://u:\(secret)@h/db?sslmode=require")
        #expect(configuration.password == "Sup3r%Secret")
        #expect(configuration.description == "postgres://u:***@h:5432/db?sslmode=require")
        #expect(!"\(configuration)".contains("Sup3r") && !String(reflecting: configuration).contains("Sup3r"))
        for url in [
            "postgres://u:\(secret)@h:0/db", "postgres://u:\(secret)@h/db?sslmode=bad",
            "postgres://u:\(secret)@h", "postgres://u:bad%zz@h/db", "postgres://u:\(secret)@h/db?x=1",
        ] {
            let error = #expect(throws: PostgresConfigurationError.self) { try PostgresConfiguration(url: url) }
            #expect(error.map { !$0.message.contains("Sup3r") && !$0.message.contains("bad%zz") } == true)
        }
    }
}
