import ClockTesting
import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SchedulerAPI
import SchedulerTesting
import Scheduling
import Storage
import Testing
import Workflows

/// The status pages in this process: the login, the session and its CSRF token, escaping, the
/// actions and their refusals, 404s and paging.
@Suite("status pages, in process")
struct PageRoutesTests {
    @Test("no page without a session: a redirect to the login form, which refuses a wrong token and a missing pair")
    func login() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let anonymous = try await client.execute(uri: "/schedules?q=a", method: .get)
            #expect(anonymous.status == .seeOther)
            #expect(anonymous.headers[.location] == "/login?next=/schedules%3Fq%3Da")
            #expect(try await client.execute(uri: "/runs/run_x", method: .get).status == .seeOther)

            let form = try await client.execute(uri: "/login?next=/schedules", method: .get)
            #expect(form.status == .ok)
            #expect(form.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            let pair = try #require(PageClient.cookie(PageClient.loginCookie, in: form))
            #expect(form.body.string.contains(#"name="csrf" value="\#(pair)""#))

            let wrong = try await client.execute(
                uri: "/login", method: .post,
                headers: PageClient.formHeaders(cookie: "\(PageClient.loginCookie)=\(pair)"),
                body: ByteBuffer(string: "csrf=\(pair)&token=nope&next=/"))
            #expect(wrong.status == .unauthorized)
            #expect(wrong.body.string.contains("That is not the admin token."))
            #expect(PageClient.cookie(PageClient.sessionCookie, in: wrong) == nil)

            let unpaired = try await client.execute(
                uri: "/login", method: .post, headers: PageClient.formHeaders(cookie: nil),
                body: ByteBuffer(string: "csrf=\(pair)&token=\(InProcessAPI.token)&next=/"))
            #expect(unpaired.status == .forbidden)
            #expect(PageClient.cookie(PageClient.sessionCookie, in: unpaired) == nil)

            let good = try await client.execute(
                uri: "/login", method: .post,
                headers: PageClient.formHeaders(cookie: "\(PageClient.loginCookie)=\(pair)"),
                body: ByteBuffer(string: "csrf=\(pair)&token=\(InProcessAPI.token)&next=%2F%2Fevil.example"))
            #expect(good.status == .seeOther)
            #expect(good.headers[.location] == "/", "a next that leads off the site goes to the overview")
            let line = try #require(
                good.headers[values: .setCookie].first { $0.hasPrefix(PageClient.sessionCookie + "=") })
            #expect(line.contains("HttpOnly") && line.contains("SameSite=Strict") && line.contains("Max-Age=43200"))
            #expect(!line.contains("Secure"), "not behind TLS")

            var proxied = PageClient.formHeaders(cookie: "\(PageClient.loginCookie)=\(pair)")
            proxied[HTTPField.Name("X-Forwarded-Proto")!] = "https"
            let behindTLS = try await client.execute(
                uri: "/login", method: .post, headers: proxied,
                body: ByteBuffer(string: "csrf=\(pair)&token=\(InProcessAPI.token)"))
            #expect(
                behindTLS.headers[values: .setCookie].contains {
                    $0.hasPrefix(PageClient.sessionCookie + "=") && $0.hasSuffix("; Secure")
                }, "Secure behind a proxy that says the browser came over TLS")
        }
    }

    @Test("a session ends 12 hours after the login")
    func expiry() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let page = try await PageClient.logIn(client)
            api.clock.advance(by: 12 * 3600 - 60)
            #expect(try await page.get("/").status == .ok)
            api.clock.advance(by: 61)
            #expect(try await page.get("/").status == .seeOther)
        }
    }

    @Test("a session sees the pages; after logging out its cookie is refused")
    func logout() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let page = try await PageClient.logIn(client)
            let overview = try await page.get("/")
            #expect(overview.status == .ok)
            #expect(overview.body.string.contains("<h1>Overview</h1>"))
            let csrf = try #require(PageClient.csrf(in: overview.body.string))

            let refused = try await page.post("/logout", "csrf=wrong")
            #expect(refused.status == .forbidden)
            #expect(try await page.get("/").status == .ok, "a refused logout leaves the session")

            let out = try await page.post("/logout", "csrf=\(csrf)")
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "/login?out=1")
            #expect(try await page.get("/").status == .seeOther)
            #expect(try await page.post("/schedules/x/pause", "csrf=\(csrf)").status == .unauthorized)
        }
    }

    @Test("text from schedules, inputs and notes is escaped")
    func escaping() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let hostile = "<script>alert(1)</script>"
            _ = try await client.admin(
                .post, "/api/v1/schedules",
                #"{"name":"x","cron":"0 2 * * *","time_zone":"Europe/Berlin","workflow":"tick","input":{"s":"\#(hostile)"}}"#,
                expect: .created, as: Schedule.self)
            _ = try await client.admin(
                .post, "/api/v1/schedules/x/pause", #"{"note":"\"><img src=x onerror=alert(2)>"}"#, as: Schedule.self)
            let page = try await PageClient.logIn(client)
            for path in ["/schedules/x", "/schedules"] {
                let html = try await page.get(path).body.string
                #expect(!html.contains("<script>alert"), "\(path)")
                #expect(!html.contains("<img src=x"), "\(path)")
                #expect(html.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"), "\(path)")
            }
            let detail = try await page.get("/schedules/x").body.string
            #expect(detail.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(detail.contains("at 02:00 every day, Europe/Berlin"))
        }
    }

    @Test("pause with a note, resume and run now from the pages; each refuses a wrong CSRF token, storing nothing")
    func actions() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            _ = try await client.admin(
                .post, "/api/v1/schedules", #"{"name":"m","manual":true,"workflow":"tick","input":{"a":1}}"#,
                expect: .created, as: Schedule.self)
            let page = try await PageClient.logIn(client)
            let csrf = try #require(PageClient.csrf(in: try await page.get("/schedules").body.string))

            #expect(try await page.post("/schedules/m/pause", "csrf=nope&note=x").status == .forbidden)
            #expect(try await api.store.schedule(named: "m")?.paused == false)

            let paused = try await page.post("/schedules/m/pause", "csrf=\(csrf)&note=disk+full&back=%2Fschedules")
            #expect(paused.status == .seeOther)
            #expect(paused.headers[.location] == "/schedules?notice=paused")
            let stored = try await api.store.schedule(named: "m")
            #expect(stored?.paused == true && stored?.pauseNote == "disk full")
            let list = try await page.get("/schedules?notice=paused").body.string
            #expect(list.contains("The schedule is paused.") && list.contains("disk full"))

            let resumed = try await page.post("/schedules/m/resume", "csrf=\(csrf)")
            #expect(resumed.headers[.location] == "/schedules/m?notice=resumed")
            #expect(try await api.store.schedule(named: "m")?.paused == false)

            let notObject = try await page.post("/schedules/m/run", "csrf=\(csrf)&input=%5B1%5D")
            #expect(notObject.status == .badRequest)
            #expect(notObject.body.string.contains("the input must be a JSON object, not array"))
            let notJSON = try await page.post("/schedules/m/run", "csrf=\(csrf)&input=%7Bnope")
            #expect(notJSON.status == .badRequest)
            #expect(try await api.store.runs(scheduleID: nil, limit: 10, before: nil).isEmpty)

            let started = try await page.post("/schedules/m/run", "csrf=\(csrf)&input=%7B%22b%22%3A2%7D")
            #expect(started.status == .seeOther)
            let location = try #require(started.headers[.location])
            let id = try #require(location.split(separator: "?").first.map { String($0.dropFirst("/runs/".count)) })
            try await eventually("the run ends") { try await api.store.run(id: id)?.state.isFinal == true }
            #expect(try await api.store.run(id: id)?.inputJSON == #"{"a":1,"b":2}"#)
            let run = try await page.get(location).body.string
            #expect(run.contains("The run is started."))
            #expect(run.contains(#"id="run-state">succeeded"#))
            #expect(run.contains(#"href="http://mlflow/"#), "the trace link")
            #expect(run.contains("data-final"), "an ended run's page stops updating")

            _ = try await client.admin(.delete, "/api/v1/schedules/m", as: DeletedSchedule.self)
            let gone = try await page.post("/schedules/m/pause", "csrf=\(csrf)")
            #expect(gone.status == .notFound)
            #expect(gone.body.string.contains(#"no schedule with id or name &quot;m&quot;"#))
        }
    }

    @Test("unknown names and ids give the 404 page; the schedules page pages by 50")
    func notFoundAndPaging() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            for n in 0..<55 {
                _ = try await client.admin(
                    .post, "/api/v1/schedules",
                    #"{"name":"s\#(String(format: "%02d", n))","cron":"*/5 * * * *","workflow":"tick"}"#,
                    expect: .created, as: Schedule.self)
            }
            let page = try await PageClient.logIn(client)
            let missing = try await page.get("/schedules/nope")
            #expect(missing.status == .notFound)
            #expect(missing.body.string.contains("There is no schedule named nope."))
            let noRun = try await page.get("/runs/run_nope")
            #expect(noRun.status == .notFound)
            #expect(noRun.headers[.contentType] == "text/html; charset=utf-8")

            let first = try await page.get("/schedules").body.string
            #expect(first.components(separatedBy: #"<tr id="schedule-"#).count - 1 == 50)
            #expect(first.contains("1–50 of 55") && first.contains(#"href="/schedules?page=2""#))
            #expect(first.contains("every 5 minutes, UTC"))
            let second = try await page.get("/schedules?page=2").body.string
            #expect(second.components(separatedBy: #"<tr id="schedule-"#).count - 1 == 5)
            #expect(second.contains("s54") && !second.contains(#"id="schedule-s00""#))
            let filtered = try await page.get("/schedules?q=s5").body.string
            #expect(filtered.components(separatedBy: #"<tr id="schedule-"#).count - 1 == 5)

            let overview = try await page.get("/").body.string
            #expect(
                overview.components(separatedBy: #"<td><a href="/schedules/s"#).count - 1 == 10, "the next 10 fires")
            #expect(overview.contains("Tracing is off"))
        }
    }

    @Test("the stylesheet and the script are served without a session; other assets are not found")
    func assets() async throws {
        let api = try await InProcessAPI.start()
        try await api.test { client in
            let css = try await client.execute(uri: "/assets/style.css", method: .get)
            #expect(css.status == .ok && css.headers[.contentType] == "text/css; charset=utf-8")
            #expect(css.body.string.contains("prefers-color-scheme: dark"))
            let js = try await client.execute(uri: "/assets/live.js", method: .get)
            #expect(js.status == .ok && js.body.string.contains("data-live-part"))
            #expect(try await client.execute(uri: "/assets/admin.token", method: .get).status == .notFound)
        }
    }
}

/// A browser's side of the pages: a session cookie sent with every request.
struct PageClient {
    static let sessionCookie = "schedulerd_session"
    static let loginCookie = "schedulerd_login"
    let client: any TestClientProtocol
    let cookie: String

    /// Logs in with the admin token through the login form.
    static func logIn(_ client: any TestClientProtocol) async throws -> PageClient {
        let form = try await client.execute(uri: "/login", method: .get)
        let pair = try #require(cookie(loginCookie, in: form))
        let answer = try await client.execute(
            uri: "/login", method: .post, headers: formHeaders(cookie: "\(loginCookie)=\(pair)"),
            body: ByteBuffer(string: "csrf=\(pair)&token=\(InProcessAPI.token)"))
        try #require(answer.status == .seeOther)
        return PageClient(client: client, cookie: "\(sessionCookie)=\(try #require(cookie(sessionCookie, in: answer)))")
    }

    func get(_ path: String) async throws -> TestResponse {
        try await client.execute(uri: path, method: .get, headers: [.cookie: cookie])
    }

    func post(_ path: String, _ form: String) async throws -> TestResponse {
        try await client.execute(
            uri: path, method: .post, headers: Self.formHeaders(cookie: cookie), body: ByteBuffer(string: form))
    }

    static func formHeaders(cookie: String?) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let cookie { headers[.cookie] = cookie }
        return headers
    }

    /// The value a response sets for cookie `name`.
    static func cookie(_ name: String, in response: TestResponse) -> String? {
        for line in response.headers[values: .setCookie] where line.hasPrefix(name + "=") {
            let value = line.dropFirst(name.count + 1).prefix { $0 != ";" }
            return value.isEmpty ? nil : String(value)
        }
        return nil
    }

    /// The CSRF token a page's forms carry.
    static func csrf(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }
}

extension ByteBuffer {
    /// The bytes as UTF-8 text.
    var string: String { String(buffer: self) }
}
