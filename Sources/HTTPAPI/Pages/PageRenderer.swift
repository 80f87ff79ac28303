import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import Support

/// Turns a page's context into an HTML answer through the Mustache templates compiled into this
/// module (Pages/Assets), and serves the stylesheet and the script beside them.
///
/// Every `{{name}}` in a template is HTML-escaped (`<`, `>`, `&`, `"`, `'`), so text from schedules,
/// inputs, outputs and errors shows as text; the templates never use the unescaped `{{{name}}}`.
/// Every page carries a Content-Security-Policy that allows only this origin's stylesheet and script,
/// and is never cached.
enum PageRenderer {
    /// The templates, parsed once.
    static let library: MustacheLibrary = {
        let sources: [(String, [UInt8])] = [
            ("head", PackageResources.head_mustache), ("foot", PackageResources.foot_mustache),
            ("login", PackageResources.login_mustache), ("problem", PackageResources.problem_mustache),
            ("overview", PackageResources.overview_mustache), ("schedules", PackageResources.schedules_mustache),
            ("schedule", PackageResources.schedule_mustache), ("run", PackageResources.run_mustache),
            ("marks", PackageResources.marks_mustache), ("actions", PackageResources.actions_mustache),
        ]
        var library = MustacheLibrary()
        for (name, bytes) in sources {
            do {
                try library.register(String(decoding: bytes, as: UTF8.self), named: name)
            } catch {
                preconditionFailure("the page template \(name).mustache does not parse: \(error)")
            }
        }
        return library
    }()

    /// The headers of every page: no caching, no framing, nothing but this origin's own files.
    static var pageHeaders: HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] =
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return headers
    }

    /// `template` rendered with `context` as a page.
    static func page(
        _ template: String, _ context: Any, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]
    )
        -> Response
    {
        let html = library.render(PageContext(context), withTemplate: template) ?? ""
        var headers = pageHeaders
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page that says what went wrong (a 404, a refused form), with a link onwards.
    static func problem(
        _ status: HTTPResponse.Status, heading: String, message: String, common: PageCommon,
        back: (href: String, label: String) = ("/", "Back to the overview")
    ) -> Response {
        page(
            "problem",
            ProblemPage(common: common, heading: heading, message: message, back: back.href, backLabel: back.label),
            status: status)
    }

    /// A redirect after a form (303: the browser follows it with a GET).
    static func redirect(to location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.location] = location
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    /// The stylesheet or the script, cacheable for a day (their URLs carry the version).
    static func asset(_ name: String) -> Response? {
        let (bytes, type): ([UInt8], String)
        switch name {
        case "style.css": (bytes, type) = (PackageResources.style_css, "text/css; charset=utf-8")
        case "live.js": (bytes, type) = (PackageResources.live_js, "text/javascript; charset=utf-8")
        default: return nil
        }
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "public, max-age=86400"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// What every page's header and footer show.
struct PageCommon: Sendable {
    /// The page's title.
    var title: String
    /// The product version (the footer; the assets' cache key).
    var version = ProductVersion.current
    /// The time zone the page's times are in.
    var zone: String
    /// The navigation and the logout form; `nil` on the login page.
    var chrome: Chrome?
    /// The session's CSRF token, for every form.
    var csrf: String
    /// What the last action did ("Paused nightly."), shown once.
    var notice: String?
    /// This page's path and query: where an action's form comes back to.
    var back: String
    /// Set on pages that update themselves every 2 s.
    var live: String?

    /// The navigation, with the current page marked.
    struct Chrome: Sendable {
        var overview = false
        var schedules = false
    }
}

/// The problem page's context.
struct ProblemPage {
    var common: PageCommon
    var heading: String
    var message: String
    var back: String
    var backLabel: String
}
