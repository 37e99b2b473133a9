import AsyncHTTPClient
import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// A `couplet web` process over a sync fixture's coordination database, with an administrator's and
/// a reader's login, and failing jobs a worker process has run.
struct ConsoleFixture {
    let sync: SyncProcessFixture
    let admin: TestLogin
    let reader: TestLogin

    /// The sync fixture with `customers`, two logins, and three `diagnostic.record` jobs that failed for good
    /// (their table does not exist yet); a worker on every queue runs until `body` returns.
    static func with(customers: Int = 20, _ body: (ConsoleFixture) async throws -> Void) async throws {
        try await TestLogin.with { admin in
            try await TestLogin.with { reader in
                try await SyncProcessFixture.with(customers: customers) { sync in
                    try await sync.coordination.runScript(
                        "GRANT couplet_admin TO \(admin.name); GRANT couplet_reader TO \(reader.name)", name: "grant console roles")
                    let fixture = ConsoleFixture(sync: sync, admin: admin, reader: reader)
                    for _ in 1...3 {
                        try await sync.coordination.query(
                            #"SELECT couplet.enqueue('diagnostic.record', '{"table": "console_runs"}', max_attempts => 1)"#)
                    }
                    let worker = try CoupletProcess.start(["worker", "--queues", "default,sync"], environment: sync.environment)
                    defer { worker.terminate() }
                    let failed = try await eventually(within: .seconds(30)) { try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE state = 'failed'") == 3 }
                    try #require(failed, "the diagnostic jobs did not fail: \(worker.standardError.suffix(2000))")
                    try await body(fixture)
                    worker.terminate()
                    _ = try await worker.waitForExit()
                }
            }
        }
    }

    /// Starts `couplet web` on a free port (refreshing every second); returns it and its address.
    func startWeb(_ extra: [String] = []) async throws -> (CoupletProcess.Running, String) {
        let configuration = try PostgresConfiguration(sync.environment["COUPLET_DATABASE_URL"] ?? "")
        let server = "postgres://\(configuration.host ?? "127.0.0.1"):\(configuration.port ?? "5432")/\(configuration.database ?? "")?sslmode=disable"
        let web = try CoupletProcess.start(
            ["web", "--database-url", server, "--http-address", "127.0.0.1:0", "--refresh-seconds", "1"] + extra, environment: [:])
        return (web, try await MonitoringProcessTests.address(of: web, logged: "web console listening"))
    }

    /// Signs `login` in through the form and waits for the overview.
    func signIn(_ browser: Browser, at address: String, as login: TestLogin) async throws {
        try await browser.open("http://\(address)/sign-in")
        try await browser.type("#user", login.name)
        try await browser.type("#password", login.password)
        try await browser.click("#sign-in")
        try await browser.waitForText("h1") { $0 == "Overview" }
    }

    func count(_ sql: PostgresQuery) async throws -> Int { try await sync.count(sync.coordination, sql) }

    /// POSTs `fields` to `path` with the browser's session cookie but as a script of one's own would,
    /// outside the page; returns the status.
    func post(_ address: String, _ path: String, _ fields: String, cookie: String?) async throws -> Int {
        var request = HTTPClientRequest(url: "http://\(address)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        if let cookie { request.headers.add(name: "Cookie", value: "__Host-couplet-session=\(cookie)") }
        request.body = .bytes(.init(string: fields))
        return Int(try await HTTPClient.shared.execute(request, timeout: .seconds(30)).status.code)
    }
}

@Suite("The web console in headless Chromium", .serialized)
struct ConsoleBrowserTests {
    @Test("a reader signs in, sees the failed jobs and a job's attempts with its error, and is refused a retry with the server's words")
    func reader() async throws {
        try await ConsoleFixture.with { f in
            let (web, address) = try await f.startWeb()
            defer { web.terminate() }
            try await Browser.with { browser in
                try await browser.open("http://\(address)/")
                #expect(try await browser.currentURL().hasSuffix("/sign-in"), "signed out, a page sends one to sign in")
                try await browser.screenshot("sign-in")
                try await f.signIn(browser, at: address, as: f.reader)
                #expect(try await browser.text("header .who") == f.reader.name)
                #expect(try await browser.text("main").contains("default"))
                try await browser.screenshot("overview")
                try await browser.open("http://\(address)/jobs?state=failed")
                #expect(try await browser.count("main tbody tr") == 3)
                try await browser.screenshot("jobs")
                let id = try await browser.text("main tbody tr td a")
                try await browser.open("http://\(address)/job?id=\(id)")
                let timeline = try await browser.text("#timeline")
                #expect(timeline.contains("Attempt 1") && timeline.contains("console_runs"), "\(timeline)")
                try await browser.screenshot("job")
                try await browser.click("main form[action='/jobs/change'] button")
                #expect(try await browser.text("h1") == "Not allowed")
                #expect(try await browser.text("main .error").contains("permission denied"))
            }
            #expect(try await f.count("SELECT count(*) FROM couplet.jobs WHERE state = 'failed'") == 3, "nothing changed")
            #expect(web.standardError.contains("login=\(f.reader.name)"), "the refusal is logged with the login")
            #expect(!web.standardError.contains(f.reader.password), "the password is never logged")
        }
    }

    @Test("an administrator retries every failed job of a kind from the filtered list, and sees them run")
    func bulkRetry() async throws {
        try await ConsoleFixture.with { f in
            try await f.sync.coordination.runScript(
                "CREATE TABLE console_runs (job_id bigint, attempt int, worker_id uuid, exclusive boolean)", name: "runs table")
            let (web, address) = try await f.startWeb()
            defer { web.terminate() }
            try await Browser.with { browser in
                try await f.signIn(browser, at: address, as: f.admin)
                try await browser.open("http://\(address)/jobs?state=failed&kind=diagnostic.record")
                try await browser.click("#bulk-retry")
                #expect(try await browser.text("#bulk-count") == "3")
                try await browser.screenshot("jobs-confirm")
                try await browser.click("main form[action='/jobs/bulk'] button")
                #expect(try await browser.text(".flash").contains("3 changed, 0 refused"))
                try await browser.open("http://\(address)/jobs?kind=diagnostic.record")
                try await browser.waitForText("main tbody") { $0.components(separatedBy: "completed").count - 1 == 3 }
            }
            #expect(try await f.count("SELECT count(*) FROM console_runs") == 3, "each job ran once more")
            let logged = try await f.sync.coordination.query("SELECT login, action, outcome FROM couplet.console_actions")
                .map { try $0.decode((String, String, String).self) }
            #expect(logged.count == 1 && logged.first?.0 == f.admin.name && logged.first?.1 == "retry jobs", "\(logged)")
            #expect(logged.first?.2 == "3 changed, 0 refused")
        }
    }

    @Test("an administrator starts a full sync and the review, watches their counters move, sees the failing records by class, and disables a schedule whose ticks show")
    func syncCounters() async throws {
        try await ConsoleFixture.with(customers: 2_000) { f in
            try await f.sync.coordination.runScript(
                """
                INSERT INTO couplet.schedules (name, expression, timezone, job_kind)
                VALUES ('heartbeat', '* * * * * *', 'Europe/Oslo', 'diagnostic.noop');
                """, name: "schedule")
            try await f.sync.erp.query("UPDATE customer SET credit_limit = 'lots' WHERE no IN ('1', '2', '3')")
            let scheduler = try CoupletProcess.start(["scheduler"], environment: f.sync.environment)
            defer { scheduler.terminate() }
            let (web, address) = try await f.startWeb()
            defer { web.terminate() }
            try await Browser.with { browser in
                try await f.signIn(browser, at: address, as: f.admin)
                try await browser.open("http://\(address)/mapping?name=CUSTOMER")
                // The CRM's table stays locked until the page has shown the sync under way.
                try await f.sync.crm.runScript("BEGIN; LOCK TABLE account IN ACCESS EXCLUSIVE MODE", name: "hold the CRM")
                try await browser.click("main form[action='/mappings/action'] input[value='full-sync'] ~ button")
                #expect(try await browser.text(".flash").contains("Enqueued full sync of CUSTOMER"))
                let running = try await eventually(within: .seconds(30)) {
                    try await f.count("SELECT count(*) FROM couplet.jobs WHERE kind = 'sync.full' AND state = 'running'") == 1
                }
                #expect(running, "a worker took the full sync")
                try await Task.sleep(for: .seconds(2))
                let during = try await browser.text("main")
                try await f.sync.crm.runScript("COMMIT", name: "release the CRM")
                let after = try await browser.waitForText("main table tbody", within: .seconds(60)) { $0.contains("succeeded") && $0.contains("1997") }
                #expect(!during.contains("1997") && after.contains("1997"), "the page showed the run's counters move by itself: \(during)")
                let errors = try await browser.waitForText("#errors") { $0.contains("records 3") }
                #expect(errors.contains("write_refused") && errors.contains("customer 2"), "the class and its records: \(errors)")
                try await browser.screenshot("mapping")
                try await browser.open("http://\(address)/mappings")
                #expect(try await browser.text("main").contains("CUSTOMER"))
                try await browser.screenshot("mappings")
                try await browser.open("http://\(address)/review")
                try await browser.click("main form[action='/review/start'] button")
                try await browser.acceptDialog()
                #expect(try await browser.text(".flash").contains("Review started: CUSTOMER first."))
                try await browser.waitForText("main tbody", within: .seconds(60)) { $0.contains("finished: 0 inserted, 0 modified, 1997 unchanged, 3 failed") }
                try await browser.screenshot("review")
                try await browser.open("http://\(address)/schedules")
                try await browser.waitForText("main tbody") { $0.contains("completed") }
                try await browser.screenshot("schedules")
                try await browser.click("main form[action='/schedules/enabled'] button")
                #expect(try await browser.text(".flash") == "Schedule heartbeat is disabled.")
                try await browser.open("http://\(address)/")
                #expect(try await browser.text("main").contains("Leader"))
                try await browser.screenshot("overview-after-sync")
            }
            #expect(try await f.count("SELECT count(*) FROM couplet.schedules WHERE NOT enabled") == 1)
            #expect(try await f.count("SELECT count(*) FROM couplet.console_actions WHERE action IN ('full-sync', 'start review', 'disable schedule')") == 3)
        }
    }

    @Test("a POST without the session's CSRF token is refused with 403, from the page or from outside it")
    func csrf() async throws {
        try await ConsoleFixture.with { f in
            let (web, address) = try await f.startWeb()
            defer { web.terminate() }
            try await Browser.with { browser in
                try await f.signIn(browser, at: address, as: f.admin)
                try await browser.open("http://\(address)/jobs?state=failed")
                try await browser.run("document.querySelectorAll('main input[name=csrf]').forEach(function (input) { input.remove(); })")
                try await browser.click("main form[action='/jobs/change'] button")
                #expect(try await browser.text("h1") == "Not allowed")
                #expect(try await browser.text(".error").contains("CSRF token"))
                let cookie = try await browser.cookie("__Host-couplet-session")
                #expect(cookie != nil, "the browser keeps the session cookie on http://127.0.0.1")
                #expect(try await f.post(address, "/jobs/bulk", "state=failed&change=retry&expected=3", cookie: cookie) == 403)
                #expect(try await f.post(address, "/jobs/bulk", "csrf=\(String(repeating: "0", count: 64))&state=failed&change=retry&expected=3", cookie: cookie) == 403)
            }
            #expect(try await f.count("SELECT count(*) FROM couplet.jobs WHERE state = 'failed'") == 3)
        }
    }

    @Test("read-only: an administrator sees every page but no action, and a POST with a good token is refused")
    func readOnly() async throws {
        try await ConsoleFixture.with { f in
            let (web, address) = try await f.startWeb(["--read-only"])
            defer { web.terminate() }
            try await Browser.with { browser in
                try await f.signIn(browser, at: address, as: f.admin)
                #expect(try await browser.text("header .who").contains("read-only"))
                for page in ["/jobs?state=failed", "/mapping?name=CUSTOMER", "/schedules", "/review"] {
                    try await browser.open("http://\(address)\(page)")
                    #expect(try await browser.count("main form[method=post]") == 0, "\(page) shows an action")
                }
                try await browser.open("http://\(address)/jobs?state=failed")
                #expect(try await browser.count("main tbody tr") == 3)
                let token = try await browser.run("return document.querySelector('header input[name=csrf]').value") as? String ?? ""
                let cookie = try await browser.cookie("__Host-couplet-session")
                #expect(try await f.post(address, "/jobs/bulk", "csrf=\(token)&state=failed&change=retry&expected=3", cookie: cookie) == 403)
            }
            #expect(try await f.count("SELECT count(*) FROM couplet.jobs WHERE state = 'failed'") == 3)
        }
    }
}
