import ArgumentParser
import AsyncHTTPClient
import CommandSupport
import Console
import CoupletSchema
import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// `couplet bench console`: how long the web console takes to render its overview over a big job table.
struct ConsoleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Time the web console's overview over N jobs (median and p95 through HTTP) and print its statements' plans.",
        discussion: """
            Runs in a scratch database it creates and drops: N jobs inserted in one statement across four \
            queues and every state (most completed, their finished_at spread over the past day), two \
            mappings, then VACUUM ANALYZE. Signs in through the sign-in form as a couplet_reader login it \
            creates and drops (the server's user must have CREATEROLE), and GETs the overview --requests \
            times after five warm-ups. Then runs the overview once more on its own connection with \
            auto_explain (ANALYZE, BUFFERS): the plans arrive as the server's LOG messages on standard \
            error. Use a release build.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Jobs in couplet.jobs.")
    var jobs = 1_000_000

    @Option(help: "Timed requests.")
    var requests = 50

    func validate() throws {
        guard (1...50_000_000).contains(jobs) else { throw ValidationError("--jobs must be from 1 to 50000000") }
        guard (1...10_000).contains(requests) else { throw ValidationError("--requests must be from 1 to 10000") }
    }

    func run() async throws {
        let logger = try global.makeLogger("couplet.bench")
        let server = try BenchSupport.server(global)
        try await BenchSupport.withScratchDatabase(on: server) { database in
            let db = try await PostgresConnection.connect(database, applicationName: "couplet bench")
            defer { db.close() }
            try await CoupletSchema.migrator.migrate(on: db)
            let fill = ContinuousClock.now
            try await Self.fill(jobs: jobs, on: db)
            print("Filled \(jobs) jobs and vacuumed in \(String(format: "%.1f", BenchSupport.seconds(since: fill))) s.")
            try await BenchLogin.with(role: "couplet_reader", on: db) { login in
                let times = try await measure(database: database, login: login, logger: logger)
                print(Self.summary(times))
            }
            try await Self.explain(on: db)
        }
    }

    /// One INSERT … SELECT generate_series: per thousand jobs 850 completed, 50 failed, 30 cancelled,
    /// 20 due, 20 scheduled, 10 on hold, 19 retryable (due), 1 running; four queues; finished jobs
    /// spread evenly over the past day (about 35,000 in the last hour at a million), in random order
    /// on the heap: a queue that has run for a while finds room for a job's new row versions wherever
    /// pruning and vacuum freed it, so the last hour's jobs are scattered, not side by side.
    static func fill(jobs: Int, on db: PostgresConnection) async throws {
        try await db.runScript(
            """
            INSERT INTO couplet.jobs (kind, queue, args, state, run_at, attempt, created_at, attempted_at, finished_at)
            SELECT 'bench.kind' || (n % 7), (ARRAY['default', 'sync', 'erp', 'crm'])[1 + n % 4],
                   CASE WHEN n % 4 = 1 THEN jsonb_build_object('mapping', 'CUSTOMER') ELSE '{}' END, s.state,
                   CASE WHEN s.state = 'scheduled' THEN now() + interval '1 hour' ELSE now() - (n % 86400) * interval '1 second' END,
                   CASE WHEN s.state IN ('available', 'scheduled') THEN 0 ELSE 1 END,
                   now() - (n % 86400) * interval '1 second' - interval '2 seconds',
                   CASE WHEN s.state IN ('available', 'scheduled') THEN NULL ELSE now() - (n % 86400) * interval '1 second' - interval '1 second' END,
                   CASE WHEN s.state IN ('completed', 'failed', 'cancelled') THEN now() - (n % 86400) * interval '1 second' END
            FROM generate_series(1, \(jobs)) AS n,
                 LATERAL (SELECT CASE
                     WHEN n % 1000 < 850 THEN 'completed' WHEN n % 1000 < 900 THEN 'failed' WHEN n % 1000 < 930 THEN 'cancelled'
                     WHEN n % 1000 < 950 THEN 'available' WHEN n % 1000 < 970 THEN 'scheduled' WHEN n % 1000 < 980 THEN 'on_hold'
                     WHEN n % 1000 < 999 THEN 'retryable' ELSE 'running' END AS state) AS s
            ORDER BY random();
            INSERT INTO couplet.endpoints (name) VALUES ('erp'), ('crm');
            INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified,
                integration_endpoint, integration_table, integration_key, integration_modified, direction)
            VALUES ('CUSTOMER', 'erp', 'customer', 'no', 'modified_at', 'crm', 'account', 'id', 'modified_at', 'to_integration'),
                   ('ITEM', 'erp', 'item', 'no', 'modified_at', 'crm', 'product', 'id', 'modified_at', 'to_integration');
            """, name: "fill bench jobs")
        try await db.runScript("VACUUM ANALYZE couplet.jobs", name: "vacuum bench jobs")
    }

    /// Serves the console in this process, signs in through the form, and times `requests` GETs of the overview.
    private func measure(database: PostgresConfiguration, login: BenchLogin, logger: Logger) async throws -> [Double] {
        var quiet = logger
        quiet.logLevel = .warning
        let port = AsyncStream.makeStream(of: Int.self)
        let configuration = ConsoleConfiguration(host: "127.0.0.1", port: 0, database: database, isReadOnly: true)
        let group = ServiceGroup(services: ConsoleServer.services(configuration, logger: quiet) { port.continuation.yield($0) }, logger: quiet)
        let serving = Task { try await group.run() }
        var ports = port.stream.makeAsyncIterator()
        guard let bound = await ports.next() else { throw ValidationError("the console did not start") }
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        defer { Task { await group.triggerGracefulShutdown() } }
        do {
            let times = try await time(ConsoleClient(http: http, base: "http://127.0.0.1:\(bound)"), login: login)
            try await http.shutdown()
            return times
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// Signs in, warms up with five requests, then times `requests` GETs of the overview; in milliseconds, sorted.
    private func time(_ client: ConsoleClient, login: BenchLogin) async throws -> [Double] {
        try await client.signIn(user: login.name, password: login.password)
        for _ in 0..<5 { _ = try await client.get("/") }
        var times: [Double] = []
        for _ in 0..<requests {
            let start = ContinuousClock.now
            let status = try await client.get("/")
            times.append(BenchSupport.seconds(since: start) * 1000)
            guard status == 200 else { throw ValidationError("the overview answered HTTP \(status)") }
        }
        return times.sorted()
    }

    /// `overview over HTTP: median 12.3 ms, p95 15.0 ms, min …, max … (50 requests)`.
    static func summary(_ sorted: [Double]) -> String {
        func at(_ fraction: Double) -> Double { BenchSupport.quantile(sorted, fraction) }
        let format = { (value: Double) in String(format: "%.1f ms", value) }
        return "Overview over HTTP: median \(format(at(0.5))), p95 \(format(at(0.95))), min \(format(at(0))), max \(format(at(1))) "
            + "(\(sorted.count) requests)"
    }

    /// Renders the overview once on `db` with auto_explain logging every statement's plan with ANALYZE
    /// and BUFFERS to this client (standard error).
    static func explain(on db: PostgresConnection) async throws {
        try await db.runScript(
            """
            LOAD 'auto_explain';
            SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on;
            SET auto_explain.log_nested_statements = on; SET client_min_messages = log;
            """, name: "auto_explain")
        print("The overview's statements' plans follow on standard error (auto_explain).")
        _ = try await ConsoleServer.overview(on: db)
        try await db.runScript("SET client_min_messages = notice", name: "auto_explain off")
    }
}

/// A LOGIN role with a random password and one of Couplet's roles, for the length of a benchmark.
struct BenchLogin {
    let name: String
    let password: String

    /// Creates the login, runs `body`, and drops it.
    static func with(role: String, on db: PostgresConnection, _ body: (BenchLogin) async throws -> Void) async throws {
        let login = BenchLogin(name: "couplet_bench_\(UInt32.random(in: 0...UInt32.max))", password: UUID().uuidString)
        let create = try await db.query(
            "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE %I', \(login.name)::text, \(login.password)::text, \(role)::text)")
            .single().decode(String.self, at: 0)
        try await db.runScript(create, name: "create bench login")
        let drop = "DROP ROLE \(try PostgresIdentifier(login.name))"
        do {
            try await body(login)
        } catch {
            _ = try? await db.query(PostgresQuery(stringLiteral: drop))
            throw error
        }
        try await db.runScript(drop, name: "drop bench login")
    }
}

/// A browser's part, as far as the benchmark needs it: the session cookie and GETs.
struct ConsoleClient {
    /// A client that does not follow redirects (it would not send the cookies it was just given).
    let http: HTTPClient
    let base: String
    private let cookies = CookieJar()

    /// Loads the sign-in form, posts the login, and keeps the session cookie.
    func signIn(user: String, password: String) async throws {
        let form = try await request("/sign-in")
        guard let token = form.body.firstMatch(of: /name="csrf" value="([0-9a-f]+)"/)?.output.1 else {
            throw ValidationError("the sign-in form has no token")
        }
        let fields = ["csrf": String(token), "user": user, "password": password]
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        let answer = try await request("/sign-in", body: fields)
        guard answer.status == 303, cookies.value(SessionCookie.name) != nil else { throw ValidationError("sign-in failed: HTTP \(answer.status)") }
    }

    /// GETs `path` with the cookies; returns the status.
    func get(_ path: String) async throws -> Int { try await request(path).status }

    private func request(_ path: String, body: String? = nil) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: base + path)
        if let body {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(.init(string: body))
        }
        if let header = cookies.header { request.headers.add(name: "Cookie", value: header) }
        let response = try await http.execute(request, timeout: .seconds(30))
        cookies.store(response.headers["Set-Cookie"])
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return (Int(response.status.code), String(buffer: bytes))
    }
}

/// The session cookie's name, as `couplet web` sets it.
enum SessionCookie {
    static let name = "__Host-couplet-session"
}

/// Cookies by name, from Set-Cookie headers.
final class CookieJar: @unchecked Sendable {
    private var values: [String: String] = [:]
    private let lock = NSLock()

    func store(_ headers: [String]) {
        lock.withLock {
            for header in headers {
                let pair = header.split(separator: ";").first?.split(separator: "=", maxSplits: 1).map(String.init) ?? []
                if pair.count == 2 { values[pair[0]] = pair[1] }
            }
        }
    }

    func value(_ name: String) -> String? { lock.withLock { values[name].flatMap { $0.isEmpty ? nil : $0 } } }

    var header: String? {
        lock.withLock { values.isEmpty ? nil : values.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
    }
}
