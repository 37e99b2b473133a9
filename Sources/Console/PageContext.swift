import Logging
import Postgres

/// Loads a page's content on the person's connection.
typealias PageLoader = @Sendable (PageContext, PostgresConnection) async throws -> Page

/// Carries out a POST action on the person's connection.
typealias ActionHandler = @Sendable (ActionContext, PostgresConnection) async throws -> ActionOutcome

/// What a page is asked for.
struct PageContext: Sendable {
    /// The query string's fields.
    let query: FormFields
    /// Who asks.
    let session: ConsoleSession
    /// No action forms in read-only mode.
    let isReadOnly: Bool

    /// An action form: hidden fields (the CSRF token first), then the button; nothing in read-only mode.
    /// `confirm` asks the browser to confirm before sending.
    func actionForm(_ path: String, _ fields: [(String, String)], button: String, style: String = "", confirm: String? = nil) -> HTML {
        guard !isReadOnly else { return .empty }
        let hidden = fields.map { name, value in "<input type=\"hidden\" name=\"\(name)\" value=\"\(value)\">" as HTML }
        let question: HTML = confirm.map { " data-confirm=\"\($0)\"" } ?? ""
        return """
            <form method="post" action="\(path)" class="inline"\(question)>\(Layout.csrfField(session))\(hidden)\
            <button type="submit" class="\(style)">\(button)</button></form>
            """
    }
}

/// What a POST is given.
struct ActionContext: Sendable {
    /// The form's fields.
    let fields: FormFields
    /// Who acts.
    let session: ConsoleSession
    let logger: Logger

    /// The field's value, or a 400 naming it.
    func required(_ name: String) throws -> String {
        guard let value = fields.nonEmpty(name) else { throw ConsoleFailure.badRequest("The form lacks its \(name).") }
        return value
    }

    /// Records the action in `couplet.console_actions` (on the person's connection, so in the same
    /// transaction as the action when called inside it; the login is the server's `session_user`)
    /// and in the log with the login's name.
    func record(_ action: String, target: String, outcome: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO couplet.console_actions (action, target, outcome)
            VALUES (\(String(action.prefix(100))), \(String(target.prefix(1000))), \(String(outcome.prefix(2000))))
            """, name: "record console action")
        logger.notice(
            "console action", metadata: ["login": "\(session.login)", "action": "\(action)", "target": "\(target)", "outcome": "\(outcome)"])
    }
}

/// Where an action sends the browser afterwards, and the message shown there.
struct ActionOutcome: Sendable {
    var message: String
    var location: String
}
