import Foundation
import Hummingbird
import Logging
import NIOCore
import Postgres

/// The console's routes and the steps every request goes through: find the session, check the
/// CSRF token of a POST, run the page or action on the person's connection, turn a database
/// refusal into a 403 with the server's words.
struct Console: Sendable {
    let configuration: ConsoleConfiguration
    let logger: Logger
    let sessions: SessionStore

    init(configuration: ConsoleConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.sessions = SessionStore(idleTimeout: configuration.idleTimeout)
    }

    /// Every route.
    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("console.js") { _, _ in Self.asset(Assets.script, type: "text/javascript; charset=utf-8") }
        router.get("console.css") { _, _ in Self.asset(Assets.stylesheet, type: "text/css; charset=utf-8") }
        router.get("sign-in") { request, _ in signInForm(request) }
        router.post("sign-in") { request, _ in await signIn(request) }
        router.post("sign-out") { request, _ in await signOut(request) }
        for (path, page) in Pages.all {
            router.get(RouterPath(stringLiteral: path)) { request, _ in await show(page, path: path, request) }
        }
        for (path, action) in Actions.all {
            router.post(RouterPath(stringLiteral: path)) { request, _ in await perform(action, request) }
        }
        return router
    }

    // MARK: Pages

    /// Renders `page` for the signed-in person: the whole document, or only `<main>` for a refresh.
    private func show(_ page: @escaping PageLoader, path: String, _ request: Request) async -> Response {
        guard let session = session(of: request) else {
            return !Self.wantsFragment(request) ? Self.redirect("/sign-in") : Self.text(.unauthorized, "signed out")
        }
        let query = FormFields(urlEncoded: String(request.uri.query ?? ""))
        let context = PageContext(query: query, session: session, isReadOnly: configuration.isReadOnly)
        let content: Page
        do {
            content = try await session.withConnection(isActivity: !Self.wantsFragment(request)) { connection in
                try await page(context, connection)
            }
        } catch {
            let failure = describe(error, session: session, doing: "show \(path)")
            content = Page(title: failure.status == .forbidden ? "Not allowed" : "Something went wrong", main: "<p class=\"error\">\(failure.message)</p>")
            return respond(content, path: path, session: session, request: request, status: failure.status)
        }
        return respond(content, path: path, session: session, request: request, status: .ok)
    }

    private func respond(_ page: Page, path: String, session: ConsoleSession, request: Request, status: HTTPResponse.Status) -> Response {
        if Self.wantsFragment(request) { return Self.html(status, Layout.fragment(page)) }
        let document = Layout.document(
            page, path: path, session: session, flash: session.takeFlash(), readOnly: configuration.isReadOnly,
            refreshSeconds: Int(configuration.refreshInterval.components.seconds))
        return Self.html(status, document)
    }

    // MARK: Actions

    /// Runs a POST action for the signed-in person after checking the CSRF token and read-only mode;
    /// the action redirects back with a message, or the refusal is shown with its status.
    private func perform(_ action: @escaping ActionHandler, _ request: Request) async -> Response {
        var request = request
        guard let session = session(of: request) else { return Self.failurePage(.forbidden("Sign in first.")) }
        let fields = await Self.form(&request)
        guard let token = fields["csrf"], SecretToken.equal(token, session.csrfToken) else {
            logger.warning("console POST refused: missing or wrong CSRF token", metadata: ["login": "\(session.login)", "path": "\(request.uri.path)"])
            return Self.failurePage(.forbidden("This form is out of date or did not come from the console (its CSRF token is missing or wrong)."))
        }
        guard !configuration.isReadOnly else {
            return Self.failurePage(.forbidden("The console runs read-only (couplet web --read-only): it takes no actions."))
        }
        let context = ActionContext(fields: fields, session: session, logger: logger)
        do {
            let outcome = try await session.withConnection { connection in try await action(context, connection) }
            session.setFlash(outcome.message)
            return Self.redirect(outcome.location)
        } catch {
            let failure = describe(error, session: session, doing: "POST \(request.uri.path)")
            return respondFailure(failure, session: session)
        }
    }

    private func respondFailure(_ failure: ConsoleFailure, session: ConsoleSession) -> Response {
        let page = Page(
            title: failure.status == .forbidden ? "Not allowed" : "Something went wrong",
            main: "<p class=\"error\" role=\"alert\">\(failure.message)</p><p><a href=\"/\">Overview</a></p>", refreshes: false)
        let document = Layout.document(page, path: "", session: session, flash: nil, readOnly: configuration.isReadOnly, refreshSeconds: 0)
        return Self.html(failure.status, document)
    }

    /// A failure as the person reads it: a database refusal of privilege is a 403 with the server's
    /// message; anything else keeps its own status, or is a 500 with the error's text (logged).
    private func describe(_ error: any Error, session: ConsoleSession, doing what: String) -> ConsoleFailure {
        if session.isBroken {
            sessions.remove(session)
            logger.notice("console session ended: its connection broke", metadata: ["login": "\(session.login)", "error": "\(error)"])
            return ConsoleFailure(status: .serviceUnavailable, message: "The connection to the database was lost. Sign in again.")
        }
        switch error {
        case let failure as ConsoleFailure:
            return failure
        case let error as PostgresError where error.sqlState == "42501":
            logger.notice("the database refused a console request", metadata: ["login": "\(session.login)", "request": "\(what)", "error": "\(error.message)"])
            return .forbidden("The database refused this for login \(session.login): \(error.message). Your database role does not allow it; couplet_admin may.")
        default:
            logger.error("console request failed", metadata: ["login": "\(session.login)", "request": "\(what)", "error": "\(error)"])
            return ConsoleFailure(status: .internalServerError, message: "\(error)")
        }
    }

    // MARK: Sign-in and sign-out

    private func signInForm(_ request: Request, problem: String? = nil) -> Response {
        if problem == nil, session(of: request) != nil { return Self.redirect("/") }
        let token = SecretToken.make()
        var response = Self.html(problem == nil ? .ok : .unauthorized, SignInPage.document(token: token, problem: problem))
        response.setCookie(Self.cookie(Self.signInCookie, token, maxAge: 600))
        return response
    }

    /// Opens a connection as the login in the form; on success a session with a fresh id in a cookie.
    private func signIn(_ request: Request) async -> Response {
        var request = request
        let fields = await Self.form(&request)
        guard let token = fields["csrf"], let cookie = request.cookies[Self.signInCookie]?.value, SecretToken.equal(token, cookie) else {
            return Self.failurePage(.forbidden("This sign-in form is out of date or did not come from the console: load it again."))
        }
        guard let user = fields.nonEmpty("user"), let password = fields.nonEmpty("password"), user.count <= 63 else {
            return signInForm(request, problem: "Enter your database user name and password.")
        }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration.database, user: user, password: password, applicationName: "couplet web")
        } catch {
            logger.notice("console sign-in failed", metadata: ["login": "\(user)", "error": "\(error)"])
            try? await Task.sleep(for: Self.failedSignInDelay)
            return signInForm(request, problem: "Sign-in failed: the database did not accept this user name and password.")
        }
        let session = ConsoleSession(login: user, connection: connection)
        guard sessions.add(session) else {
            connection.close()
            return signInForm(request, problem: "Too many people are signed in; try again later.")
        }
        logger.notice("console sign-in", metadata: ["login": "\(user)"])
        var response = Self.redirect("/")
        response.setCookie(Self.cookie(SessionStore.cookieName, session.id, maxAge: nil))
        response.setCookie(Self.cookie(Self.signInCookie, "", maxAge: 0))
        return response
    }

    private func signOut(_ request: Request) async -> Response {
        var request = request
        guard let session = session(of: request) else { return Self.redirect("/sign-in") }
        let fields = await Self.form(&request)
        guard let token = fields["csrf"], SecretToken.equal(token, session.csrfToken) else {
            return Self.failurePage(.forbidden("This form is out of date or did not come from the console (its CSRF token is missing or wrong)."))
        }
        sessions.remove(session)
        logger.notice("console sign-out", metadata: ["login": "\(session.login)"])
        var response = Self.redirect("/sign-in")
        response.setCookie(Self.cookie(SessionStore.cookieName, "", maxAge: 0))
        return response
    }

    private func session(of request: Request) -> ConsoleSession? {
        sessions.session(id: request.cookies[SessionStore.cookieName]?.value)
    }

    // MARK: Responses

    /// The header a refresh sends to get only `<main>`'s content (`X-Couplet-Fragment: 1`).
    static let fragmentHeader = "x-couplet-fragment"

    /// Whether the request is a refresh that wants only `<main>`'s content.
    private static func wantsFragment(_ request: Request) -> Bool {
        request.headers.contains { $0.name.canonicalName == fragmentHeader }
    }
    /// How long a failed sign-in waits before it answers, to slow down guessing.
    static let failedSignInDelay: Duration = .seconds(1)
    /// The cookie that carries the sign-in form's token (the form has no session yet).
    static let signInCookie = "__Host-couplet-sign-in"

    private static func cookie(_ name: String, _ value: String, maxAge: Int?) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: true, httpOnly: true, sameSite: .strict)
    }

    private static func form(_ request: inout Request) async -> FormFields {
        guard let body = try? await request.collectBody(upTo: FormFields.maximumBodyBytes) else { return FormFields([:]) }
        return FormFields(urlEncoded: String(buffer: body))
    }

    static func html(_ status: HTTPResponse.Status, _ html: HTML) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html.markup)))
    }

    private static func failurePage(_ failure: ConsoleFailure) -> Response {
        html(failure.status, SignInPage.failure(failure.message))
    }

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    private static func asset(_ text: String, type: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "max-age=300"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// Sent with every response: only the console's own script and styles run, nothing frames it,
    /// and pages are not cached.
    private static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .xContentTypeOptions: "nosniff",
        .cacheControl: "no-store",
    ]
}
