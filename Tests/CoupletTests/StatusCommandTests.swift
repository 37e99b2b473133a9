import CoupletSchema
import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// The whitespace-separated words of the output line whose first word is `first`.
private func words(of output: String, startingWith first: String) -> [String]? {
    lines(output).map { $0.split(separator: " ").map(String.init) }.first { $0.first == first }
}

@Suite("couplet status, as a process")
struct StatusCommandTests {
    @Test("piped, status prints every section with the right figures, the problems with what to run next, and no escape codes")
    func sections() async throws {
        try await withMigratedDatabase { database, db in
            _ = try await db.seedIntegration()  // CUSTOMER, schedule nightly (0 2 * * * UTC), a failed job in default
            _ = try await db.insertWorker(hostname: "host-a", pid: 4242)
            try await db.runScript(
                """
                INSERT INTO couplet.jobs (kind, queue, run_at) VALUES ('sync.delta', 'sync', now() - interval '90 seconds');
                INSERT INTO couplet.sync_runs (mapping, kind, direction, state, finished_at, inserted, modified, failed)
                VALUES ('CUSTOMER', 'full', 'to_integration', 'succeeded', now() - interval '10 minutes', 120, 3, 1);
                INSERT INTO couplet.sync_errors (first_run_id, last_run_id, mapping, direction, local_id, message, error_class)
                SELECT id, id, 'CUSTOMER', 'to_integration', '7', 'the credit limit is not a number', 'write_refused:22P02'
                FROM couplet.sync_runs;
                """, name: "status fixture")
            let outcome = try await CoupletProcess.run(
                ["status"], environment: ["COUPLET_DATABASE_URL": database.configuration.connectionString])
            let output = outcome.standardOutput
            #expect(outcome.status == 0, "\(outcome.standardError)")
            #expect(!output.contains("\u{1B}"), "no escape codes when piped")

            let migrations = CoupletSchema.migrations.count
            #expect(output.contains("Schema    \(migrations) of \(migrations) migrations applied, up to date"))
            // QUEUE WAITING SCHEDULED RUNNING ON HOLD FAILED OLDEST-WAITING DONE-IN-5M
            #expect(words(of: output, startingWith: "default") == ["default", "0", "0", "0", "0", "1", "-", "0"])
            #expect(words(of: output, startingWith: "sync")?.prefix(6) == ["sync", "1", "0", "0", "0", "0"])
            #expect(output.contains("Workers (1 live)"))
            #expect(words(of: output, startingWith: "host-a") == nil, "the worker line starts with its id")
            #expect(lines(output).contains { $0.contains("host-a  4242  default  0/4") })
            let nightly = try #require(words(of: output, startingWith: "nightly"))
            #expect(nightly[1] == "sync.full")
            #expect(nightly[2].hasSuffix("T02:00:00+00:00"))
            let customer = try #require(lines(output).first { $0.hasPrefix("  CUSTOMER") })
            #expect(customer.contains("  succeeded 10m"), "finished 10 minutes ago")
            #expect(customer.contains(" ago: → integration 120 inserted, 3 modified, 1 failed  "))
            #expect(words(of: output, startingWith: "CUSTOMER")?.suffix(4) == ["1", "0", "0", "-"], "errors, skipped, couplings, lag")

            #expect(output.contains("! default: 1 failed job(s)\n      next: couplet jobs list --state failed"))
            #expect(output.contains("! sync: 1 job(s) due and no live worker claims this queue\n      next: couplet worker --queues sync"))
            #expect(output.contains("! CUSTOMER: 1 open error(s): records failing now, one per record and kind\n      next: couplet errors CUSTOMER"))
            #expect(!output.contains("All well"))
        }
    }

    @Test("a worker whose requests wait for a Web API's limits: its line says so, the API limits section shows the waits, and it needs attention")
    func apiLimits() async throws {
        try await withMigratedDatabase { database, db in
            let held = try await db.insertWorker(hostname: "host-a", pid: 4242)
            let calm = try await db.insertWorker(hostname: "host-b", pid: 77)
            let gone = try await db.insertWorker(hostname: "host-c", pid: 5, heartbeatAgo: 120)
            try await db.query(
                """
                INSERT INTO couplet.endpoint_limits (worker_id, endpoint, waiting, in_flight, paused, waited, throttled)
                VALUES (\(held), 'crm', 3, 2, true, interval '95 seconds', 7),
                       (\(calm), 'crm', 0, 1, false, interval '0', 0),
                       (\(gone), 'crm', 9, 0, true, interval '1 hour', 40)
                """)
            let outcome = try await CoupletProcess.run(
                ["status"], environment: ["COUPLET_DATABASE_URL": database.configuration.connectionString])
            let output = outcome.standardOutput
            #expect(outcome.status == 0, "\(outcome.standardError)")
            #expect(lines(output).contains { $0.contains("host-a  4242  default  0/4, waiting for crm's API limits") })
            #expect(!lines(output).contains { $0.contains("host-b") && $0.contains("waiting for") }, "nothing holds host-b back")
            #expect(output.contains("API limits"))
            // ENDPOINT WORKER WAITING-NOW IN-FLIGHT WAITED 429-ANSWERS, live workers only
            #expect(lines(output).contains { $0.contains("crm       host-a:4242  3 request(s), paused by Retry-After  2          1m35s   7") })
            #expect(lines(output).contains { $0.contains("host-b:77") && $0.contains("0 request(s)") })
            #expect(!lines(output).contains { $0.contains("host-c:5") && $0.contains("request(s)") }, "a stale worker's waits are not shown")
            #expect(output.contains(
                "! crm: 3 request(s) of worker host-a:4242 wait for the API's service protection limits (the service answered 429 Too Many Requests and asked it to wait); its syncs are slowed, not stuck"))
            #expect(!output.contains("worker host-b:77 wait"))
        }
    }

    @Test("a healthy coordination database says all is well; SECONDS without --watch is refused")
    func allWell() async throws {
        try await withMigratedDatabase { database, db in
            _ = try await db.insertWorker(hostname: "host-a", pid: 1)
            let environment = ["COUPLET_DATABASE_URL": database.configuration.connectionString]
            let outcome = try await CoupletProcess.run(["status"], environment: environment)
            #expect(outcome.standardOutput.contains("no pending, running or failed jobs"))
            #expect(outcome.standardOutput.contains("All well: no failed jobs"))
            let refused = try await CoupletProcess.run(["status", "5"], environment: environment)
            #expect(refused.status != 0 && refused.standardError.contains("SECONDS goes with --watch"))
        }
    }

    @Test("--watch refuses an interval no clock can sleep, as a usage error", arguments: ["0.05", "86401", "1e300", "inf", "nan"])
    func watchInterval(seconds: String) async throws {
        try await withMigratedDatabase { database, _ in
            let outcome = try await CoupletProcess.run(
                ["status", "--watch", seconds], environment: ["COUPLET_DATABASE_URL": database.configuration.connectionString])
            #expect(outcome.status == 64, "\(outcome.standardError)")
            #expect(outcome.standardError.contains("--watch takes 0.1 to 86400 seconds between redraws"))
        }
    }
}
