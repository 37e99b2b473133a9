import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("couplet enqueue and couplet jobs, as processes")
struct JobsCommandTests {
    /// The environment that points the binary at the test's database.
    private static func environment(_ database: TestDatabase) -> [String: String] {
        ["COUPLET_DATABASE_URL": database.configuration.connectionString]
    }

    @Test("enqueue passes every option to couplet.enqueue and prints the job id")
    func enqueue() async throws {
        try await withMigratedDatabase { database, db in
            let outcome = try await CoupletProcess.run([
                "enqueue", "sync.delta", "--args", #"{"mapping": "CUSTOMER", "mode": "delta"}"#, "--queue", "sync",
                "--priority", "2", "--in", "1h30m", "--max-attempts", "3", "--unique-key", "delta:CUSTOMER",
                "--concurrency-key", "CUSTOMER", "--timeout", "15m", "--expires-in", "2d",
            ], environment: Self.environment(database))
            #expect(outcome.status == 0, "\(outcome.standardError)")
            let id = try #require(Int64(outcome.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)))
            let row = try await db.query("""
                SELECT kind, queue, args ->> 'mapping', state, priority, max_attempts, unique_key, concurrency_key,
                       extract(epoch FROM timeout)::int, extract(epoch FROM run_at - created_at)::int,
                       extract(epoch FROM expires_at - created_at)::int
                FROM couplet.jobs WHERE id = \(id)
                """).single().decode((String, String, String, String, Int, Int, String, String, Int, Int, Int).self)
            #expect(row.0 == "sync.delta" && row.1 == "sync" && row.2 == "CUSTOMER")
            #expect(row.3 == "scheduled")
            #expect(row.4 == 2 && row.5 == 3)
            #expect(row.6 == "delta:CUSTOMER" && row.7 == "CUSTOMER")
            #expect(row.8 == 15 * 60)
            #expect(row.9 == 90 * 60)
            #expect(row.10 == 2 * 86_400)

            let again = try await CoupletProcess.run(
                ["enqueue", "sync.delta", "--unique-key", "delta:CUSTOMER"], environment: Self.environment(database))
            #expect(again.status == 0)
            #expect(again.standardOutput == "\(id)\n")
            #expect(again.standardError.contains("Job \(id) (scheduled) already holds unique key \"delta:CUSTOMER\": no new job was enqueued."))
        }
    }

    @Test("enqueue refuses bad input with a message that names the problem", arguments: [
        (["--args", #"{"mapping": }"#], #"--args is not valid JSON: Expected JSON value, but found "}"."#),
        (["--args", #"["CUSTOMER"]"#], "--args must be a JSON object, such as {\"mapping\": \"CUSTOMER\"}, not an array."),
        (["--priority", "10"], "--priority must be from 0 (runs first) to 9 (runs last), not 10."),
        (["--in", "5 minutes"], #""5 minutes" is not a duration"#),
        (["--timeout", "1m1h"], #""1m1h" is not a duration"#),
        (["--expires-in", "0s"], "--expires-in must be longer than 0s."),
        (["--run-at", "tomorrow"], #""tomorrow" is not an ISO 8601 time"#),
        (["--run-at", "2030-01-01T00:00:00Z", "--in", "5m"], "--run-at and --in both say when the job may run"),
        (["--max-attempts", "0"], "--max-attempts must be at least 1, not 0."),
        (["--in", "2h", "--expires-in", "1h"], "--expires-in 1h ends before the job may run: it would never start."),
        (["--queue", "sync queue"], #"--queue "sync queue" is not a valid name"#),
        (["--args", #"{"a": "# + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"],
         "--args: job args nest arrays and objects deeper than 64 levels"),
    ])
    func enqueueRefusals(arguments: [String], message: String) async throws {
        try await withMigratedDatabase { database, db in
            let outcome = try await CoupletProcess.run(["enqueue", "sync.delta"] + arguments, environment: Self.environment(database))
            #expect(outcome.status != 0)
            #expect(outcome.standardError.contains(message), "\(outcome.standardError)")
            #expect(try await db.query("SELECT count(*) FROM couplet.jobs").single().decode(Int.self, at: 0) == 0)
        }
    }

    @Test("enqueue refuses args longer than the database's limit before sending them")
    func enqueueArgsLimit() async throws {
        try await withMigratedDatabase { database, db in
            try await db.runScript("ALTER DATABASE \(database.name) SET couplet.max_job_args_bytes = '1000'", name: "lower the limit")
            let args = #"{"ids": ""# + String(repeating: "x", count: 1_000) + #""}"#
            let outcome = try await CoupletProcess.run(["enqueue", "sync.records", "--args", args], environment: Self.environment(database))
            #expect(outcome.status != 0)
            #expect(outcome.standardError.contains("--args: job args are 1011 bytes, more than the 1000 that couplet.max_job_args_bytes allows"),
                    "\(outcome.standardError)")
            #expect(try await db.query("SELECT count(*) FROM couplet.jobs").single().decode(Int.self, at: 0) == 0)
        }
    }

    @Test("jobs list shows status, attempts, age, worker and last error, newest first, with filters")
    func list() async throws {
        try await withMigratedDatabase { database, db in
            let running = try await db.insert(TestJob(state: "running", kind: "sync.delta", concurrencyKey: "CUSTOMER"))
            let waiting = try await db.insert(TestJob(state: "available", kind: "sync.delta", concurrencyKey: "CUSTOMER"))
            let failed = try await db.insert(TestJob(
                state: "failed", queue: "crm", kind: "sync.full", attempt: 3, maxAttempts: 3,
                errors: #"[{"attempt": 3, "at": "2025-06-01T09:00:00Z", "error": "account 42: owner not coupled"}]"#))
            try await db.query("UPDATE couplet.jobs SET created_at = now() - interval '2 hours 5 minutes' WHERE id = \(failed)")

            let all = try await CoupletProcess.run(["jobs", "list"], environment: Self.environment(database))
            #expect(all.status == 0, "\(all.standardError)")
            let lines = all.standardOutput.split(separator: "\n").map(String.init)
            #expect(lines.count == 4)
            #expect(lines[0].hasPrefix("ID  KIND"))
            let ids: [String] = lines.dropFirst().map { line in String(line.prefix { $0 != " " }) }
            #expect(ids == [String(failed), String(waiting), String(running)])
            #expect(lines[1].contains("failed") && lines[1].contains("3/3") && lines[1].contains("2h5m"))
            #expect(lines[1].contains("account 42: owner not coupled"))
            #expect(lines[2].contains("waiting on \(running)"))

            let onlyFailed = try await CoupletProcess.run(["jobs", "list", "--state", "failed"], environment: Self.environment(database))
            #expect(onlyFailed.standardOutput.split(separator: "\n").count == 2)
            let waitingOnes = try await CoupletProcess.run(["jobs", "list", "--state", "waiting"], environment: Self.environment(database))
            let waitingLines = waitingOnes.standardOutput.split(separator: "\n").dropFirst()
            #expect(waitingLines.count == 1)
            #expect(waitingLines.first?.hasPrefix("\(waiting) ") == true)
            let byQueue = try await CoupletProcess.run(["jobs", "list", "--queue", "nowhere"], environment: Self.environment(database))
            #expect(byQueue.standardOutput == "No jobs match.\n")
            let byKind = try await CoupletProcess.run(["jobs", "list", "--kind", "sync.delta", "--limit", "1"], environment: Self.environment(database))
            #expect(byKind.standardOutput.split(separator: "\n").count == 2)
        }
    }

    @Test("jobs show prints every field, the arguments, every error and every attempt")
    func show() async throws {
        try await withMigratedDatabase { database, db in
            let id = try await db.insert(TestJob(
                state: "retryable", kind: "sync.delta", uniqueKey: "delta:CUSTOMER", attempt: 2,
                errors: #"[{"attempt": 1, "at": "2025-06-01T09:00:00Z", "error": "timeout"}, {"attempt": 2, "at": "2025-06-01T09:05:00Z", "error": "connection refused\nby 10.0.0.5"}]"#))
            try await db.query("UPDATE couplet.jobs SET args = '{\"mapping\": \"CUSTOMER\"}' WHERE id = \(id)")
            try await db.query("""
                INSERT INTO couplet.job_attempts (job_id, attempt, kind, queue, outcome, started_at, finished_at, error)
                VALUES (\(id), 1, 'sync.delta', 'default', 'retry', now() - interval '90 seconds', now() - interval '30 seconds', '{"error": "timeout"}'),
                       (\(id), 2, 'sync.delta', 'default', 'retry', now() - interval '20 seconds', now() - interval '10 seconds', '"connection refused"')
                """)
            let outcome = try await CoupletProcess.run(["jobs", "show", String(id)], environment: Self.environment(database))
            #expect(outcome.status == 0, "\(outcome.standardError)")
            let text = outcome.standardOutput
            for expected in [
                "Job \(id): sync.delta on queue default", "status            retryable", "attempt           2 of 5",
                "unique key        delta:CUSTOMER", #""mapping": "CUSTOMER""#, "errors (2)",
                "attempt 1 at 2025-06-01T09:00:00Z: timeout", "attempt 2 at 2025-06-01T09:05:00Z: connection refused",
                "      by 10.0.0.5", "attempts (2)", "1        retry", "1m", "2        retry",
            ] {
                #expect(text.contains(expected), "missing \(expected) in\n\(text)")
            }

            let missing = try await CoupletProcess.run(["jobs", "show", String(id + 1)], environment: Self.environment(database))
            #expect(missing.status != 0)
            #expect(missing.standardError.contains("job \(id + 1) does not exist"))
        }
    }

    @Test("jobs retry, hold, resume and cancel change the job and print its new state")
    func changes() async throws {
        try await withMigratedDatabase { database, db in
            let id = try await db.insert(TestJob(state: "failed"))
            let steps: [(String, String, String)] = [
                ("retry", "Job \(id) is available", "available"),
                ("hold", "Job \(id) is on hold", "on_hold"),
                ("resume", "Job \(id) is available", "available"),
                ("cancel", "Job \(id) is cancelled", "cancelled"),
            ]
            for (command, printed, state) in steps {
                let outcome = try await CoupletProcess.run(["jobs", command, String(id)], environment: Self.environment(database))
                #expect(outcome.status == 0, "\(command): \(outcome.standardError)")
                #expect(outcome.standardOutput.contains(printed), "\(command)")
                #expect(try await db.state(of: id).state == state, "\(command)")
            }
        }
    }

    @Test("a refused change exits non-zero with the server's message and hint")
    func refusals() async throws {
        try await withMigratedDatabase { database, db in
            let completed = try await db.insert(TestJob(state: "completed"))
            let running = try await db.insert(TestJob(state: "running"))
            let cases: [([String], String)] = [
                (["cancel", String(completed)], "cannot cancel job \(completed): it is completed\nHint: A finished job cannot be cancelled"),
                (["hold", String(running)], "cannot hold job \(running): it is running"),
                (["resume", String(completed)], "cannot resume job \(completed): it is completed"),
                (["retry", String(running)], "cannot retry job \(running): it is running"),
                (["retry", "424242"], "job 424242 does not exist"),
            ]
            for (arguments, message) in cases {
                let outcome = try await CoupletProcess.run(["jobs"] + arguments, environment: Self.environment(database))
                #expect(outcome.status == 1, "\(arguments)")
                #expect(outcome.standardError.contains(message), "\(arguments): \(outcome.standardError)")
                #expect(outcome.standardOutput.isEmpty)
            }
            #expect(try await db.state(of: completed).state == "completed")
            #expect(try await db.state(of: running).state == "running")
        }
    }

    @Test("the job commands' help reads and exits 0", arguments: [
        ["enqueue", "--help"], ["jobs", "--help"], ["jobs", "list", "--help"], ["jobs", "show", "--help"],
        ["jobs", "retry", "--help"], ["jobs", "cancel", "--help"], ["jobs", "hold", "--help"], ["jobs", "resume", "--help"],
    ])
    func help(arguments: [String]) async throws {
        let outcome = try await CoupletProcess.run(arguments)
        #expect(outcome.status == 0)
        #expect(outcome.standardOutput.contains("USAGE: couplet"))
    }
}
