import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Scheduling
import Storage
import Workflows

/// The status pages, on the daemon's own listener: `/` (overview), `/schedules`, `/schedules/{name}`,
/// `/runs/{id}`, the login form and logout, the actions on a schedule (pause, resume, run now), and
/// `/assets/…`. Nothing but the login form and the assets is shown without a session (see
/// ``PageSessions``); every form posts its session's CSRF token.
struct PageRoutes: Sendable {
    let deps: AdminAPI.Dependencies
    let sessions: PageSessions
    let format: PageFormat

    init(deps: AdminAPI.Dependencies, zone: TimeZone = .current) {
        self.deps = deps
        sessions = PageSessions(token: deps.token)
        format = PageFormat(zone: zone)
    }

    /// The routes, to add at the root.
    var collection: RouteCollection<DaemonRequestContext> {
        let routes = RouteCollection(context: DaemonRequestContext.self)
        routes.get("assets/:name") { _, context in
            guard let answer = PageRenderer.asset(try context.parameters.require("name")) else {
                throw HTTPError(.notFound, message: "no such asset")
            }
            return answer
        }
        routes.get("login") { request, _ in loginForm(request) }
        routes.post("login") { request, context in try await login(request, context) }
        routes.post("logout") { request, context in
            try await acting(request, context) { session, _ in
                sessions.revoke(session, now: deps.clock.now())
                var headers = HTTPFields()
                headers[.setCookie] = sessionCookie("", maxAge: 0, request: request)
                return PageRenderer.redirect(to: "/login?out=1", headers: headers)
            }
        }
        routes.get("") { request, _ in try await viewing(request, .overview) { try await overview($0) } }
        routes.get("schedules") { request, _ in
            try await viewing(request, .schedules) { try await schedules(request, $0) }
        }
        routes.get("schedules/:name") { request, context in
            let name = try context.parameters.require("name")
            return try await viewing(request, .schedules) { try await schedule(name, request, $0) }
        }
        routes.get("runs/:id") { request, context in
            let id = try context.parameters.require("id")
            return try await viewing(request, nil) { try await run(id, $0) }
        }
        routes.post("schedules/:name/pause") { request, context in
            let name = try context.parameters.require("name")
            return try await acting(request, context) { _, form in
                let note = form["note"].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
                let paused = try await deps.schedules.pause(name, note: note)
                return PageRenderer.redirect(to: back(form, or: "/schedules/\(paused.name)", notice: "paused"))
            }
        }
        routes.post("schedules/:name/resume") { request, context in
            let name = try context.parameters.require("name")
            return try await acting(request, context) { _, form in
                let resumed = try await deps.schedules.resume(name)
                return PageRenderer.redirect(
                    to: back(form, or: "/schedules/\(resumed.schedule.name)", notice: "resumed"))
            }
        }
        routes.post("schedules/:name/run") { request, context in
            let name = try context.parameters.require("name")
            return try await acting(request, context) { _, form in
                let text = (form["input"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                var input: [String: JSONValue]?
                if !text.isEmpty {
                    let value: JSONValue
                    do {
                        value = try JSONValue(json: Data(text.utf8))
                    } catch {
                        throw APIError.badRequest("the input is not JSON: \(error)")
                    }
                    guard let members = value.objectValue else {
                        throw APIError.badRequest("the input must be a JSON object, not \(value.typeName)")
                    }
                    input = members
                }
                let run = try await deps.startRun(name, input: input)
                return PageRenderer.redirect(to: "/runs/\(run.id)?notice=started")
            }
        }
        return routes
    }

    // MARK: - Sessions

    /// The session of `request`'s cookie, if it is valid now.
    func session(_ request: Request) -> PageSessions.Session? {
        sessions.session(from: request.cookies[PageSessions.cookieName]?.value, now: deps.clock.now())
    }

    /// A page for a logged-in browser; without a session, a redirect to the login form that comes
    /// back here.
    func viewing(
        _ request: Request, _ section: Section?, render: (PageCommon) async throws -> Response
    ) async throws -> Response {
        guard let session = session(request) else {
            return PageRenderer.redirect(to: "/login?next=" + Self.queryEscaped(Self.here(request)))
        }
        let common = common(request, session: session, section: section)
        do {
            return try await render(common)
        } catch let error as PageNotFound {
            return PageRenderer.problem(
                .notFound, heading: "Not found", message: error.message, common: common, back: error.back)
        }
    }

    /// What a page shows around its content.
    func common(_ request: Request, session: PageSessions.Session, section: Section?) -> PageCommon {
        var chrome = PageCommon.Chrome()
        switch section {
        case .overview: chrome.overview = true
        case .schedules: chrome.schedules = true
        case nil: break
        }
        let notice = request.uri.queryParameters["notice"].flatMap { Self.notices[String($0)] }
        return PageCommon(
            title: "", zone: format.zoneName, chrome: chrome, csrf: session.csrf, notice: notice,
            back: Self.here(request))
    }

    /// `request`'s path and query: where a page's forms come back to, and where a login returns.
    static func here(_ request: Request) -> String {
        request.uri.path + (request.uri.query.map { "?\($0)" } ?? "")
    }

    /// What each `?notice=` says: only these, so that a link cannot make a page say anything else.
    static let notices = [
        "paused": "The schedule is paused.", "resumed": "The schedule is resumed.",
        "started": "The run is started.",
    ]

    /// A form's action: refused without a session (401) or with a CSRF token that is not the
    /// session's (403); its failures (a schedule deleted meanwhile, an input that is not a JSON
    /// object) become a page that says what was wrong.
    func acting(
        _ request: Request, _ context: DaemonRequestContext,
        act: (PageSessions.Session, [String: String]) async throws -> Response
    ) async throws -> Response {
        let form = try await Self.form(request)
        let anonymous = PageCommon(title: "Refused", zone: format.zoneName, csrf: "", back: "/")
        guard let session = session(request) else {
            return PageRenderer.problem(
                .unauthorized, heading: "Not logged in", message: "Your session has ended; log in again.",
                common: anonymous, back: ("/login", "Log in"))
        }
        var common = common(request, session: session, section: nil)
        guard sessions.checks(form["csrf"], for: session) else {
            return PageRenderer.problem(
                .forbidden, heading: "Refused",
                message: "The form did not carry this session's CSRF token; nothing was changed. Load the page again.",
                common: common)
        }
        if deps.stopping() {
            return PageRenderer.problem(
                .serviceUnavailable, heading: "Stopping",
                message: "The daemon is stopping; nothing was changed. Try again once it is back.", common: common)
        }
        do {
            return try await act(session, form)
        } catch {
            let refusal = APIError.answering(error, logger: context.logger)
            common.title = refusal.status == .notFound ? "Not found" : "Refused"
            return PageRenderer.problem(
                refusal.status, heading: refusal.status == .notFound ? "Not found" : "Nothing was changed",
                message: refusal.message, common: common, back: (back(form, or: "/schedules", notice: nil), "Back"))
        }
    }

    /// Where an action goes afterwards: the form's `back` (a path of this site), else `fallback`.
    func back(_ form: [String: String], or fallback: String, notice: String?) -> String {
        var path = form["back"].flatMap(Self.localPath) ?? fallback
        path = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        return notice.map { "\(path)?notice=\($0)" } ?? path
    }

    /// `path` when it is a path of this site (`/x`), `nil` for anything that leads elsewhere
    /// (`//host`, `/\host`, `https://…`).
    static func localPath(_ path: String) -> String? {
        guard path.hasPrefix("/"), !path.hasPrefix("//"), !path.contains("\\"),
            !path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { return nil }
        return path
    }

    // MARK: - Login

    /// The login form; `next` is where a good login goes (the `?next=` of the page that sent the
    /// browser here).
    func loginForm(
        _ request: Request, next: String? = nil, problem: String? = nil, status: HTTPResponse.Status = .ok
    ) -> Response {
        let query = request.uri.queryParameters
        let next = (next ?? query["next"].map(String.init)).flatMap(Self.localPath) ?? "/"
        let token = PageSessions.loginToken()
        var headers = HTTPFields()
        headers[.setCookie] = Self.cookie(
            PageSessions.loginCookieName, token, maxAge: 3600, secure: secure(request), path: "/login")
        let common = PageCommon(
            title: "Log in", zone: format.zoneName, csrf: "",
            notice: query["out"] != nil && problem == nil ? "You are logged out." : nil, back: "/login")
        return PageRenderer.page(
            "login", LoginPage(common: common, loginToken: token, next: next, problem: problem), status: status,
            headers: headers)
    }

    func login(_ request: Request, _ context: DaemonRequestContext) async throws -> Response {
        let form = try await Self.form(request)
        let paired = request.cookies[PageSessions.loginCookieName]?.value ?? ""
        guard !paired.isEmpty,
            WebhookSecret.constantTimeEqual(Array((form["csrf"] ?? "").utf8), Array(paired.utf8))
        else {
            return loginForm(
                request, next: form["next"],
                problem: "The login form had expired; it is loaded again, enter the token once more.",
                status: .forbidden)
        }
        guard let given = form["token"],
            WebhookSecret.constantTimeEqual(Array(given.utf8), Array(deps.token.utf8))
        else {
            context.logger.warning("status pages: a login with a wrong admin token")
            return loginForm(
                request, next: form["next"], problem: "That is not the admin token.", status: .unauthorized)
        }
        let (cookie, _) = sessions.open(now: deps.clock.now())
        var headers = HTTPFields()
        headers[.setCookie] = sessionCookie(cookie, maxAge: Int(sessions.lifetime), request: request)
        headers.append(
            HTTPField(
                name: .setCookie,
                value: Self.cookie(PageSessions.loginCookieName, "", maxAge: 0, secure: secure(request), path: "/login")
            ))
        let next = form["next"].flatMap(Self.localPath) ?? "/"
        return PageRenderer.redirect(to: next, headers: headers)
    }

    /// The session cookie: HttpOnly, SameSite=Strict, for the whole site; Secure behind TLS.
    func sessionCookie(_ value: String, maxAge: Int, request: Request) -> String {
        Self.cookie(PageSessions.cookieName, value, maxAge: maxAge, secure: secure(request), path: "/")
    }

    /// Whether the browser reached the daemon over TLS: a proxy in front says so with
    /// `X-Forwarded-Proto: https`, or the public URL is https.
    func secure(_ request: Request) -> Bool {
        request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
            || deps.publicURL?.lowercased().hasPrefix("https://") == true
    }

    static func cookie(_ name: String, _ value: String, maxAge: Int, secure: Bool, path: String) -> String {
        "\(name)=\(value); Path=\(path); Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    // MARK: - Forms

    /// The fields of a URL-encoded form body (at most 64 KiB); a repeated field keeps its last value.
    static func form(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        let text = String(buffer: buffer)
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = formDecoded(parts[0]) else { continue }
            fields[name] = parts.count > 1 ? formDecoded(parts[1]) ?? "" : ""
        }
        return fields
    }

    /// `application/x-www-form-urlencoded` text decoded: `+` is a space, `%XX` a byte.
    static func formDecoded(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    /// `text` escaped for a query value.
    static func queryEscaped(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "/"
    }

    /// Which navigation entry a page belongs to.
    enum Section {
        case overview, schedules
    }
}

/// A name or id a page does not know: answered with the 404 page.
struct PageNotFound: Error {
    var message: String
    var back: (href: String, label: String)
}

/// The login page's context.
struct LoginPage {
    var common: PageCommon
    var loginToken: String
    var next: String
    var problem: String?
}
