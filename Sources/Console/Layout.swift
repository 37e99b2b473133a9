import Foundation

/// A page's content: its title and what goes into `<main>` (which refreshes by itself).
struct Page: Sendable {
    /// The title, also the heading.
    var title: String
    /// The content of `<main>`.
    var main: HTML
    /// Whether the content refreshes by itself (not while a form waits for confirmation).
    var refreshes = true
}

/// The frame around every page: the navigation, who is signed in, the refresh script and the styles.
enum Layout {
    /// The pages in the navigation bar: path and label.
    static let navigation: [(path: String, label: String)] = [
        ("/", "Overview"), ("/jobs", "Jobs"), ("/schedules", "Schedules"), ("/mappings", "Mappings"), ("/review", "Review"),
        ("/availability", "Availability"),
    ]

    /// The whole document for `page`; `session` nil on the sign-in page.
    static func document(_ page: Page, path: String, session: ConsoleSession?, flash: String?, readOnly: Bool, refreshSeconds: Int) -> HTML {
        let links = navigation.map { item -> HTML in
            let current: HTML = item.path == path ? #" aria-current="page""# : ""
            return "<a href=\"\(item.path)\"\(current)>\(item.label)</a>"
        }
        let signedIn: HTML = session.map { session in
            """
            <span class="who">\(session.login)\(readOnly ? " · read-only" : "")</span>
            <form method="post" action="/sign-out" class="inline">\(csrfField(session))<button type="submit">Sign out</button></form>
            """
        } ?? ""
        let flashHTML: HTML = flash.map { "<p class=\"flash\" role=\"status\">\($0)</p>" } ?? ""
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
            <title>\(page.title) · Couplet</title><link rel="stylesheet" href="/console.css"><script src="/console.js" defer></script></head>
            <body data-refresh-seconds="\(refreshSeconds)">
            <header><strong class="brand">Couplet</strong><nav>\(session == nil ? [] : links)</nav><div class="session">\(signedIn)</div></header>
            \(flashHTML)
            <main data-refresh="\(page.refreshes ? "on" : "off")">\(fragment(page))</main>
            </body></html>
            """
    }

    /// What `<main>` holds: the heading and the content (a refresh fetches just this).
    static func fragment(_ page: Page) -> HTML {
        "<h1>\(page.title)</h1>\(page.main)"
    }

    /// The hidden field every POST form carries.
    static func csrfField(_ session: ConsoleSession) -> HTML {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(session.csrfToken)\">"
    }

    /// A table with a header row; `rows` already hold their cells' markup.
    static func table(_ header: [String], _ rows: [[HTML]], empty: String) -> HTML {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(empty)</p>" }
        let head = header.map { "<th>\($0)</th>" as HTML }
        let body = rows.map { cells in "<tr>\(cells.map { "<td>\($0)</td>" as HTML })</tr>" as HTML }
        return "<table><thead><tr>\(head)</tr></thead><tbody>\(body)</tbody></table>"
    }

    /// A state or status as a coloured badge.
    static func badge(_ text: String) -> HTML { badge(text, coloured: text) }

    /// `text` as a badge coloured as `state` would be.
    static func badge(_ text: String, coloured state: String) -> HTML {
        "<span class=\"badge \(badgeClass(state))\">\(text)</span>"
    }

    private static func badgeClass(_ text: String) -> String {
        switch text {
        case "failed", "stale", "invalid", "blocked", "expired": "bad"
        case "running", "cancelling", "retryable", "waiting", "on_hold", "held", "disabled", "skipped_overlap": "warn"
        case "completed", "succeeded", "finished", "live", "enabled", "enqueued": "good"
        default: "plain"
        }
    }

    /// A duration in seconds as `45s`, `12m`, `3h20m`, `2d4h`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(max(0, min(seconds, 1e9)))
        switch total {
        case ..<60: return "\(total)s"
        case ..<3600: return "\(total / 60)m\(total % 60 == 0 ? "" : " \(total % 60)s")"
        case ..<86_400: return "\(total / 3600)h\((total % 3600) / 60)m"
        default: return "\(total / 86_400)d\((total % 86_400) / 3600)h"
        }
    }

    /// A moment as ISO 8601 in UTC, or `-`.
    static func moment(_ date: Date?) -> String {
        date.map { $0.formatted(.iso8601) } ?? "-"
    }

    /// A link to a job's page.
    static func jobLink(_ id: Int64) -> HTML { "<a href=\"/job?id=\(id)\">\(id)</a>" }

    /// A query string from fields, each value percent-encoded; fields without a value are left out.
    static func query(_ fields: [(String, String?)]) -> String {
        let parts = fields.compactMap { name, value in value.map { "\(name)=\(percentEncoded($0))" } }
        return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
    }

    /// `text` with everything but unreserved characters percent-encoded, for a query value.
    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// ASCII letters, digits and `-._~`.
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
