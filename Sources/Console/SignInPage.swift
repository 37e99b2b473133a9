/// The sign-in page, and the page for a request refused before anyone signed in.
enum SignInPage {
    /// The form: database user name and password, and the token its cookie carries too.
    static func document(token: String, problem: String?) -> HTML {
        let problemHTML: HTML = problem.map { "<p class=\"error\" role=\"alert\">\($0)</p>" } ?? ""
        return shell(
            "Sign in",
            """
            <h1>Sign in to Couplet</h1>
            <p class="muted">With your own database login: what you may see and do is what its role allows
            (couplet_reader reads, couplet_admin acts).</p>
            \(problemHTML)
            <form method="post" action="/sign-in">
            <input type="hidden" name="csrf" value="\(token)">
            <label>User name <input name="user" id="user" autocomplete="username" required maxlength="63" autofocus></label>
            <label>Password <input name="password" id="password" type="password" autocomplete="current-password" required maxlength="1000"></label>
            <button type="submit" class="primary" id="sign-in">Sign in</button>
            </form>
            """)
    }

    /// A refusal shown without a session (no navigation).
    static func failure(_ message: String) -> HTML {
        shell("Not allowed", "<h1>Not allowed</h1><p class=\"error\" role=\"alert\">\(message)</p><p><a href=\"/\">Back to the console</a></p>")
    }

    private static func shell(_ title: String, _ content: HTML) -> HTML {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>\(title) · Couplet</title>
        <link rel="stylesheet" href="/console.css"></head>
        <body><div class="signin">\(content)</div></body></html>
        """
    }
}
