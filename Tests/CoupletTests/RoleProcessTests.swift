import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Queue

/// A LOGIN role of one test's own, with a password that only a passfile holds.
///
/// The test cluster authenticates with passwords. The login's password goes into a file of its own
/// (mode 0600) that the connection string names, so it is never in a URL, an argument or a log; a
/// `PGPASSWORD` would not do, since it would also apply to the endpoints' connections as `postgres`.
struct TestLogin {
    let name: String
    /// The password, for the tests that must put it on a command line.
    let password: String
    let passfile: String

    /// Creates the login, runs `body`, and drops the login (its databases must be gone by then).
    static func with(isolation: isolated (any Actor)? = #isolation, _ body: (TestLogin) async throws -> Void) async throws {
        let name = "couplet_test_login_" + String(UUID().uuidString.lowercased().prefix(8))
        let password = UUID().uuidString
        let passfile = try temporaryFile("*:*:*:\(name):\(password)\n", name: "pgpass")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: passfile)
        let server = try await PostgresConnection.connect(try TestDatabase.server(), applicationName: "couplet tests")
        defer { server.close() }
        // CREATE ROLE takes no parameters: the server quotes the values (format %I, %L) before running it.
        let create = try await server.query("SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', \(name)::text, \(password)::text)")
            .single().decode(String.self, at: 0)
        try await server.runScript(create, name: "create test login")
        do {
            try await body(TestLogin(name: name, password: password, passfile: passfile))
        } catch {
            _ = try? await server.query("DROP ROLE \(try PostgresIdentifier(name))")
            throw error
        }
        try await server.query("DROP ROLE \(try PostgresIdentifier(name))")
    }

    /// The connection string for the database of `url` as this login.
    func connectionString(like url: String) throws -> String {
        let configuration = try PostgresConfiguration(url)
        let keywords = [
            "host": configuration.host ?? "127.0.0.1", "port": configuration.port ?? "5432", "dbname": configuration.database ?? "",
            "user": name, "passfile": passfile, "sslmode": "disable",
        ]
        return keywords.sorted { $0.key < $1.key }.map { "\($0.key)='\($0.value)'" }.joined(separator: " ")
    }
}

/// A mappings file for the sync fixture's ERP customer and CRM account tables.
private let customerMappingYAML = """
    endpoints:
      - name: erp
      - name: crm
    mappings:
      - name: CUSTOMER
        local: {endpoint: erp, table: customer, key: no, modified: modified_at}
        integration: {endpoint: crm, table: account, key: id, modified: modified_at}
        direction: to_integration
        fields:
          - {local: no, integration: account_number}
          - {local: name, integration: name}
    """

@Suite("Database roles used by real processes", .serialized)
struct RoleProcessTests {
    @Test("a worker and a scheduler logged in as a couplet_worker member run a job, fire a schedule and run a sync")
    func workerLogin() async throws {
        try await TestLogin.with { login in
            try await SyncProcessFixture.with(customers: 50) { f in
                let granted = try await CoupletProcess.run(["roles", "grant", "couplet_worker", login.name], environment: f.environment)
                #expect(granted.status == 0, "\(granted.standardError)")
                var asWorker = f.environment
                asWorker["COUPLET_DATABASE_URL"] = try login.connectionString(like: f.environment["COUPLET_DATABASE_URL"]!)
                try await f.coordination.query(
                    "INSERT INTO couplet.schedules (name, expression, job_kind) VALUES ('every-second', '* * * * * *', 'diagnostic.noop')")
                let worker = try CoupletProcess.start(["worker", "--queues", "default,sync"], environment: asWorker)
                let scheduler = try CoupletProcess.start(["scheduler"], environment: asWorker)
                let job = try await f.coordination.query("SELECT couplet.enqueue('diagnostic.noop')").single().decode(Int64.self, at: 0)

                #expect(try await eventually(within: .seconds(30)) {
                    try await f.count(f.coordination, "SELECT count(*) FROM couplet.jobs WHERE id = \(job) AND state = 'completed'") == 1
                })
                #expect(try await eventually(within: .seconds(30)) {
                    try await f.count(f.coordination, """
                        SELECT count(*) FROM couplet.schedule_ticks t JOIN couplet.jobs j ON j.id = t.job_id
                        WHERE t.schedule_name = 'every-second' AND j.state = 'completed'
                        """) > 0
                })
                let synced = try await CoupletProcess.run(["sync", "CUSTOMER", "--full", "--wait"], environment: f.environment)
                #expect(synced.standardOutput.contains("50 inserted"), "\(synced.standardOutput)\(synced.standardError)")
                #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 50)
                #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.couplings") == 50)
                #expect(try await f.count(
                    f.coordination, "SELECT count(DISTINCT application_name) FROM pg_stat_activity WHERE usename = \(login.name)") >= 2,
                    "the worker and the scheduler are connected as the login")

                worker.terminate()
                scheduler.terminate()
                for process in [worker, scheduler] {
                    let outcome = try await process.waitForExit()
                    #expect(outcome.status == 0)
                    #expect(!outcome.standardError.contains("permission denied"), "\(outcome.standardError)")
                }
            }
        }
    }

    @Test("an administrator login applies schedules and mappings; a reader login reads status and cannot enqueue")
    func adminAndReaderLogins() async throws {
        try await TestLogin.with { login in
            try await SyncProcessFixture.with(customers: 1) { f in
                var asLogin = f.environment
                asLogin["COUPLET_DATABASE_URL"] = try login.connectionString(like: f.environment["COUPLET_DATABASE_URL"]!)
                let schedules = try temporaryFile("schedules:\n  - name: nightly\n    cron: \"0 2 * * *\"\n    job: sync.full\n")
                let mappings = try temporaryFile(customerMappingYAML, name: "mappings.yaml")

                _ = try await CoupletProcess.run(["roles", "grant", "couplet_reader", login.name], environment: f.environment)
                #expect(try await CoupletProcess.run(["status"], environment: asLogin).status == 0)
                let refused = try await CoupletProcess.run(["sync", "CUSTOMER"], environment: asLogin)
                #expect(refused.status != 0 && refused.standardError.contains("permission denied"), "\(refused.standardError)")
                #expect(try await CoupletProcess.run(["schedules", "apply", schedules], environment: asLogin).status != 0)

                _ = try await CoupletProcess.run(["roles", "revoke", "couplet_reader", login.name], environment: f.environment)
                _ = try await CoupletProcess.run(["roles", "grant", "couplet_admin", login.name], environment: f.environment)
                let applied = try await CoupletProcess.run(["schedules", "apply", schedules], environment: asLogin)
                #expect(applied.status == 0, "\(applied.standardError)")
                let mapped = try await CoupletProcess.run(["mappings", "apply", mappings, "--prune"], environment: asLogin)
                #expect(mapped.status == 0, "\(mapped.standardError)")
                #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.schedules WHERE name = 'nightly'") == 1)
                #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.field_mappings WHERE mapping = 'CUSTOMER'") == 2)
                #expect(try await CoupletProcess.run(["sync", "CUSTOMER"], environment: asLogin).status == 0)
            }
        }
    }

    @Test("roles grant, list and revoke; an unknown role, a missing user or a grantor without the right is refused with a message that says so")
    func grantListRevoke() async throws {
        try await TestLogin.with { login in
            try await withMigratedDatabase { database, _ in
                let environment = ["COUPLET_DATABASE_URL": database.configuration.connectionString]
                let granted = try await CoupletProcess.run(["roles", "grant", "couplet_reader", login.name], environment: environment)
                #expect(granted.standardOutput == "\(login.name) is a member of couplet_reader.\n", "\(granted.standardError)")
                let listed = try await CoupletProcess.run(["roles", "list"], environment: environment)
                let readerLine = try #require(lines(listed.standardOutput).first { $0.hasPrefix("couplet_reader ") })
                #expect(readerLine.contains(login.name))
                #expect(lines(listed.standardOutput).map { String($0.prefix { $0 != " " }) }
                    == ["couplet_admin", "couplet_worker", "couplet_reader", "couplet_availability"])

                let revoked = try await CoupletProcess.run(["roles", "revoke", "couplet_reader", login.name], environment: environment)
                #expect(revoked.standardOutput == "\(login.name) is not a member of couplet_reader.\n")
                let relisted = try await CoupletProcess.run(["roles", "list"], environment: environment)
                #expect(!relisted.standardOutput.contains(login.name))

                let unknown = try await CoupletProcess.run(["roles", "grant", "pg_read_all_data", login.name], environment: environment)
                #expect(unknown.status != 0)
                #expect(unknown.standardError.contains("couplet_admin"), "\(unknown.standardError)")
                // A login needs one of Couplet's roles to connect at all: as a reader it asks for more.
                _ = try await CoupletProcess.run(["roles", "grant", "couplet_reader", login.name], environment: environment)
                let asLogin = ["COUPLET_DATABASE_URL": try login.connectionString(like: database.configuration.connectionString)]
                let selfService = try await CoupletProcess.run(["roles", "grant", "couplet_admin", login.name], environment: asLogin)
                #expect(selfService.status != 0)
                #expect(selfService.standardError.contains("run this as a superuser, a role with CREATEROLE"), "\(selfService.standardError)")
                let missing = try await CoupletProcess.run(["roles", "grant", "couplet_worker", "Nobody Here"], environment: environment)
                #expect(missing.status != 0)
                #expect(missing.standardError.contains(#"there is no role "Nobody Here": create the login first"#), "\(missing.standardError)")
            }
        }
    }

    @Test("a NOTIFY couplet_cancel from the availability user or a login with no Couplet role stops nothing; couplet.cancel_job still does, promptly")
    func forgedCancel() async throws {
        try await TestLogin.with { login in
            try await WorkerFixture.with { fixture in
                let worker = try fixture.startWorker(["--concurrency", "2"])
                let asLogin = try login.connectionString(like: fixture.database.configuration.connectionString)
                let sleeper = try await runningSleep(milliseconds: 5000, on: fixture)

                let refused = await #expect(throws: PostgresError.self, "a login with no Couplet role may not connect") {
                    let intruder = try await PostgresConnection.connect(asLogin)
                    defer { intruder.close() }
                    try await intruder.query("SELECT pg_notify('couplet_cancel', \(String(sleeper)))")
                }
                #expect(refused?.message.contains("permission denied for database") == true, "\(String(describing: refused))")
                try await fixture.db.query("GRANT couplet_availability TO \(try PostgresIdentifier(login.name))")
                let availability = try await PostgresConnection.connect(asLogin)
                defer { availability.close() }
                try await availability.query("SELECT pg_notify('couplet_cancel', \(String(sleeper)))")

                #expect(try await eventually(within: .seconds(20)) {
                    try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE id = \(sleeper) AND state <> 'running'") == 1
                })
                let ended = try await fixture.db.query("SELECT state::text FROM couplet.jobs WHERE id = \(sleeper)").single().decode(String.self, at: 0)
                #expect(ended == "completed", "a notification is a wake-up: the job ran to its end")

                let cancelled = try await runningSleep(milliseconds: 60000, on: fixture)
                let answer = try await fixture.db.acting(as: "couplet_admin") {
                    try await fixture.db.query("SELECT couplet.cancel_job(\(cancelled))").single().decode(String.self, at: 0)
                }
                #expect(answer == "cancelling")
                let cancelledAt = ContinuousClock.now
                #expect(try await eventually(within: .seconds(10)) {
                    try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE id = \(cancelled) AND state = 'cancelled'") == 1
                })
                #expect(cancelledAt.duration(to: .now) < .seconds(6), "the worker heard the cancel (NOTIFY), not the 10 s heartbeat")
                worker.terminate()
                #expect(try await worker.waitForExit().status == 0)
            }
        }
    }

    /// Enqueues a `diagnostic.sleep` job of `milliseconds` and waits until a worker runs it; returns its id.
    private func runningSleep(milliseconds: Int, on fixture: WorkerFixture) async throws -> Int64 {
        let id = try await JobQueue.enqueue(
            NewJob(kind: "diagnostic.sleep", argumentsJSON: #"{"milliseconds": \#(milliseconds)}"#), on: fixture.db)
        #expect(try await eventually(within: .seconds(10)) {
            try await fixture.count("SELECT count(*) FROM couplet.jobs WHERE id = \(id) AND state = 'running'") == 1
        })
        return id
    }
}
