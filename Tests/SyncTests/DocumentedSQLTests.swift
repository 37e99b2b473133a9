import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

/// A statement the documentation shows: every one of a ```sql block, and every inline one a reader
/// could run (see `SQLStatements.isRunnableStatement`).
private struct DocumentedStatement {
    let location: String
    let sql: String
    var key: String { SQLStatements.normalized(sql) }

    /// Every documented statement of README.md, SECURITY.md and docs/*.md, read from the pages themselves.
    static func all() throws -> [DocumentedStatement] {
        try DocumentationPage.all().flatMap { page in
            page.codeBlocks.filter { $0.language == "sql" }.flatMap { block in
                SQLStatements.split(block.text).map { DocumentedStatement(location: block.location, sql: $0) }
            } + page.inlineCode.filter(SQLStatements.isRunnableStatement).map { DocumentedStatement(location: page.path, sql: $0) }
        }
    }
}

/// What a documented statement answered, inside its own transaction (rolled back afterwards, so that
/// every statement meets the same coordination database).
struct DocumentedAnswer {
    /// The rows, each value as Postgres prints it (NULL as nil).
    let rows: [[String?]]
    /// The columns' names.
    let columns: [String]
    /// The connection, still inside the statement's transaction: what the statement changed is visible.
    let connection: PostgresConnection

    /// The values of column `name`, row by row (the test fails when there is no such column).
    func column(_ name: String) -> [String?] {
        guard let index = columns.firstIndex(of: name) else {
            Issue.record("no column \(name) among \(columns)")
            return []
        }
        return rows.map { $0[index] }
    }

    /// The values of `names`, row by row.
    func values(_ names: String...) -> [[String?]] {
        let values = names.map(column)
        return rows.indices.map { row in values.map { $0.indices.contains(row) ? $0[row] : nil } }
    }

    /// The answer's only value (a function's result).
    var value: String? { rows.count == 1 && rows[0].count == 1 ? rows[0][0] : nil }

    /// The first value of `sql`, run inside the statement's transaction.
    func lookUp(_ sql: PostgresQuery) async throws -> String? {
        try await connection.query(sql).first?.values.first ?? nil
    }
}

/// What a documented statement must answer on the prepared coordination database.
typealias AnswerCheck = @Sendable (DocumentedAnswer) async throws -> Void

/// A documented statement, as a page shows it, and what it must answer.
private func check(_ sql: String, _ answer: @escaping AnswerCheck) -> (String, AnswerCheck) { (sql, answer) }

@Suite("The documentation's SQL")
struct DocumentedSQLTests {
    @Test("every SQL statement in README.md and docs/*.md runs on a prepared coordination database and answers as the page says")
    func everyStatementAnswers() async throws {
        let statements = try DocumentedStatement.all()
        #expect(statements.count >= 25, "the pages' statements are found: \(statements.count)")
        try await SyncFixture.with { f in
            try await DocumentedDatabase.prepare(f)
            let database = try await f.coordination.query("SELECT current_database()").single().decode(String.self, at: 0)
            for statement in statements {
                guard let check = DocumentedDatabase.checks[statement.key] else {
                    Issue.record("\(statement.location): no test checks what this statement answers; add it to DocumentedDatabase.checks:\n\(statement.sql)")
                    continue
                }
                try await run(statement, database: database, on: f.coordination, check: check)
            }
            let shown = Set(statements.map(\.key))
            for stale in DocumentedDatabase.checks.keys where !shown.contains(stale) {
                Issue.record("DocumentedDatabase.checks holds a statement that no page shows any more: \(stale)")
            }
        }
    }

    /// Runs `statement` in a transaction of its own (the docs' coordination database `couplet` is
    /// the test's `database`), checks its answer and rolls back.
    private func run(_ statement: DocumentedStatement, database: String, on db: PostgresConnection, check: AnswerCheck) async throws {
        let sql = statement.sql.replacingOccurrences(of: "ALTER DATABASE couplet ", with: "ALTER DATABASE \(database) ")
        try await db.runScript("BEGIN", name: "documented statement")
        do {
            let rows = try await db.query(PostgresQuery(unsafeSQL: sql))
            try await check(DocumentedAnswer(rows: rows.map(\.values), columns: rows.columns.names, connection: db))
        } catch {
            Issue.record("\(statement.location): \(String(reflecting: error))\n\(statement.sql)")
        }
        try await db.runScript("ROLLBACK", name: "documented statement")
    }
}

/// A coordination database holding a case of each kind the documented statements ask about, and
/// what each statement must answer on it.
///
/// The sync state is made by the engine itself: mapping CUSTOMER (to the integration, its
/// salesperson looked up in SALESPEOPLE, where only PS is coupled) and five customers — C10003 and
/// 2 wait for salesperson RM (open errors, never skipped), 3 is refused by the CRM on insert twice
/// (skipped, not coupled: `couplet.sync_failures`), 4 waits for JR until JR is coupled (its error
/// closed as synced), 5 syncs, then is refused twice on update (a skipped coupling). The queue,
/// workers, schedules, a chunked full run, the review and the record actions are written as rows: workers a (live) and b
/// (lease run out); jobs 40 (running on a), 41 (running on b), 42 (failed an hour ago), 43
/// (available), 44 (failed two days ago).
enum DocumentedDatabase {
    static func prepare(_ f: SyncFixture) async throws {
        try await f.addSalespersonLookup()
        try await f.erp.runScript(
            """
            INSERT INTO customer (no, name, salesperson_code, credit_limit)
            VALUES ('C10003', 'a', 'RM', '1'), ('2', 'b', 'RM', '1'), ('3', 'c', 'PS', 'lots'), ('4', 'd', 'JR', '1'), ('5', 'e', 'PS', '1')
            """, name: "customers")
        try await f.sync(.full)
        try await f.sync()
        try await f.coupleSalesperson("JR")
        try await f.sync()
        try await f.erp.query("UPDATE customer SET credit_limit = 'plenty' WHERE no = '5'")
        try await f.sync()
        try await f.sync()
        try await f.coordination.runScript(queueAndSchedules, name: "queue, workers, schedules, chunks, review")
    }

    private static let queueAndSchedules = """
        INSERT INTO couplet.console_actions (at, login, action, target, outcome) VALUES
            (now() - interval '8 days', 'alice', 'hold job', 'job 40', 'now on_hold'),
            (now() - interval '1 hour', 'bob', 'retry jobs', 'every job with state failed', '2 changed, 0 refused');
        INSERT INTO couplet.workers (id, hostname, pid, queues, concurrency, lease, heartbeat_at) VALUES
            ('00000000-0000-0000-0000-00000000000a', 'app-1', 101, '{}', 4, '30 seconds', now()),
            ('00000000-0000-0000-0000-00000000000b', 'app-2', 202, '{sync}', 4, '30 seconds', now() - interval '5 minutes');
        INSERT INTO couplet.endpoint_limits (worker_id, endpoint, waiting, in_flight, paused, waited, throttled) VALUES
            ('00000000-0000-0000-0000-00000000000a', 'crm', 4, 1, true, '42 seconds', 3),
            ('00000000-0000-0000-0000-00000000000a', 'erp-api', 0, 0, false, '0', 0),
            ('00000000-0000-0000-0000-00000000000b', 'crm', 9, 0, true, '1 hour', 40);
        INSERT INTO couplet.jobs (id, kind, queue, args, state, attempt, worker_id, attempted_at, concurrency_key, created_at) VALUES
            (40, 'sync.full', 'sync', '{"mapping": "CUSTOMER"}', 'running', 1, '00000000-0000-0000-0000-00000000000a',
             now() - interval '2 minutes', 'sync:CUSTOMER', now() - interval '2 minutes'),
            (41, 'diagnostic.sleep', 'sync', '{"milliseconds": 600000}', 'running', 1, '00000000-0000-0000-0000-00000000000b',
             now() - interval '10 minutes', NULL, now() - interval '10 minutes');
        INSERT INTO couplet.jobs (id, kind, queue, args, state, attempt, errors, finished_at, created_at) VALUES
            (42, 'sync.delta', 'sync', '{"mapping": "CUSTOMER"}', 'failed', 5,
             '[{"attempt": 5, "error": "endpoint crm is down"}]', now() - interval '1 hour', now() - interval '2 hours'),
            (44, 'statistics.customers', 'default', '{"mapping": "CUSTOMER"}', 'failed', 5,
             '[{"attempt": 5, "error": "long ago"}]', now() - interval '2 days', now() - interval '2 days');
        INSERT INTO couplet.jobs (id, kind, created_at) VALUES (43, 'diagnostic.noop', now() - interval '1 minute');
        INSERT INTO couplet.jobs (id, kind, queue, args, state, attempt, result, finished_at, schedule_name, created_at) VALUES
            (45, 'sync.delta', 'sync', '{"mapping": "SALESPEOPLE"}', 'completed', 1, '{"idle": true}', now() - interval '1 hour',
             'salespeople-delta', now() - interval '1 hour');
        INSERT INTO couplet.schedules (name, expression, job_kind, args, queue, next_fire_at) VALUES
            ('customer-full', '0 2 * * *', 'sync.full', '{"mapping": "CUSTOMER"}', 'sync', now() + interval '10 hours'),
            ('statistics', '*/30 * * * *', 'statistics.customers', '{"mapping": "CUSTOMER"}', 'default', now() + interval '20 minutes');
        INSERT INTO couplet.schedules (name, expression, job_kind, args, queue, inactivity_timeout) VALUES
            ('salespeople-delta', '0,30 * * * *', 'sync.delta', '{"mapping": "SALESPEOPLE"}', 'sync', '24 hours');
        INSERT INTO couplet.schedule_ticks (schedule_name, fire_time, outcome, job_id, scheduler_id)
        VALUES ('statistics', now() - interval '2 days', 'enqueued', 44, '00000000-0000-0000-0000-0000000000cc'),
               ('salespeople-delta', now() - interval '1 hour', 'enqueued', 45, '00000000-0000-0000-0000-0000000000cc');
        WITH run AS (
            INSERT INTO couplet.sync_runs (mapping, kind, direction, job_id, state)
            VALUES ('CUSTOMER', 'full', 'to_integration', 40, 'running') RETURNING id)
        INSERT INTO couplet.sync_chunks (run_id, chunk, after_key, up_to_key, state, job_id, records)
        SELECT id, chunk, after_key, up_to_key, state, job_id, records FROM run,
            (VALUES (1, NULL, '2', 'done', 40, 2), (2, '2', '4', 'running', 40, 1), (3, '4', NULL, 'pending', NULL, 0))
                AS c(chunk, after_key, up_to_key, state, job_id, records);
        INSERT INTO couplet.sync_review (mapping, depends_on, state, job_id, message) VALUES
            ('SALESPEOPLE', '{}', 'finished', NULL, 'full sync finished'),
            ('CUSTOMER', '{SALESPEOPLE}', 'enqueued', 40, 'full sync running');
        INSERT INTO couplet.record_actions (mapping, action, local_id, integration_id, requested_by, requested_at, job_id, state,
                                           settled_at, outcome) VALUES
            ('CUSTOMER', 'sync', 'C10003', NULL, 'alice', now() - interval '10 days', 42, 'done', now() - interval '10 days',
             'enqueued sync.records job 42 (both directions)'),
            ('CUSTOMER', 'delete', '3', NULL, 'bob', now() - interval '3 days', NULL, 'not_applicable', now() - interval '3 days',
             'customer 3 is not coupled in mapping CUSTOMER any more, so the pending delete has no pair to act on.'),
            ('CUSTOMER', 'use_local', '4', 'acc-4', 'bob', now() - interval '2 days', NULL, 'done', now() - interval '2 days',
             'updated account acc-4 (name)'),
            ('CUSTOMER', 'restore', '5', 'acc-5', 'alice', now() - interval '1 hour', 43, 'pending', NULL, NULL);
        """

    /// What each documented statement answers, by its text with white space collapsed
    /// (`SQLStatements.normalized`). A statement a page shows without an entry here fails the test,
    /// and so does an entry no page shows.
    static let checks: [String: AnswerCheck] = {
        var checks: [String: AnswerCheck] = [:]
        for (sql, check) in queueChecks + syncChecks + errorChecks + changeChecks + recordActionChecks {
            precondition(checks.updateValue(check, forKey: SQLStatements.normalized(sql)) == nil, "two checks for \(sql)")
        }
        return checks
    }()

    /// The job queue, workers, schedules, chunks and the review.
    private static let queueChecks: [(String, AnswerCheck)] = [
        check("""
         SELECT id, kind, args->>'mapping' AS mapping, worker_id, now() - attempted_at AS running_for
         FROM couplet.jobs WHERE state = 'running' ORDER BY attempted_at;
         """) { answer async throws in
            #expect(answer.values("id", "mapping") == [["41", nil], ["40", "CUSTOMER"]], "the running jobs, longest running first")
        },
        check("""
         SELECT at, login, action, target, outcome
         FROM couplet.console_actions
         WHERE at > now() - interval '7 days'
         ORDER BY at DESC
         LIMIT 50;
         """) { answer async throws in
            #expect(answer.values("login", "action", "outcome") == [["bob", "retry jobs", "2 changed, 0 refused"]], "the last week's actions only")
        },
        check("SELECT * FROM couplet.queue_summary;") { answer async throws in
            #expect(answer.values("queue", "state", "jobs") == [
                ["default", "available", "1"], ["default", "failed", "1"], ["sync", "failed", "1"], ["sync", "running", "2"],
            ])
        },
        check("""
         SELECT coalesce(sum(jobs), 0)::bigint AS jobs
         FROM couplet.queue_summary
         WHERE state IN ('available', 'retryable', 'running');
         """) { answer async throws in
            #expect(answer.value == "3", "KEDA's query (docs/deployment.md): job 43 available, 40 and 41 running; not the failed 42 and 44")
        },
        check("""
         SELECT id, kind, args, errors->-1->>'error' AS last_error, finished_at
         FROM couplet.jobs WHERE state = 'failed' AND finished_at > now() - interval '1 day' ORDER BY finished_at DESC;
         """) { answer async throws in
            #expect(answer.values("id", "last_error") == [["42", "endpoint crm is down"]], "not job 44, which failed two days ago")
        },
        check("SELECT name, expression, next_fire_time, last_fire_time, last_job_state FROM couplet.schedule_status ORDER BY next_fire_time;") { answer async throws in
            #expect(answer.values("name", "last_job_state") == [["statistics", "failed"], ["customer-full", nil], ["salespeople-delta", "completed"]])
        },
        check("SELECT * FROM couplet.schedule_status;") { answer async throws in
            #expect(Set(answer.column("name")) == ["statistics", "customer-full", "salespeople-delta"])
            #expect(answer.values("name", "last_outcome", "last_job_state").contains(["statistics", "enqueued", "failed"]))
        },
        check("SELECT name, held_until FROM couplet.schedule_status WHERE held_until IS NOT NULL;") { answer async throws in
            #expect(answer.column("name") == ["salespeople-delta"], "the schedule whose last job found nothing, for 24 hours from its tick")
            #expect(try await answer.lookUp(
                "SELECT held_until = (SELECT fire_time + interval '24 hours' FROM couplet.schedule_ticks WHERE job_id = 45) FROM couplet.schedule_status WHERE name = 'salespeople-delta'")
                == "t")
        },
        check("SELECT couplet.wake_schedule('salespeople-delta');") { answer async throws in
            let job = try #require(answer.value)
            #expect(try await answer.lookUp("SELECT concat_ws(' ', kind, args->>'mapping', schedule_name) FROM couplet.jobs WHERE id = \(Int64(job) ?? 0)")
                == "sync.delta SALESPEOPLE salespeople-delta")
            #expect(try await answer.lookUp("SELECT outcome FROM couplet.schedule_ticks WHERE job_id = \(Int64(job) ?? 0)") == "woken")
            #expect(try await answer.lookUp("SELECT held_until FROM couplet.schedule_status WHERE name = 'salespeople-delta'") == nil)
        },
        check("SELECT * FROM couplet.sync_chunk_progress;") { answer async throws in
            #expect(answer.values("mapping", "job_id", "chunks", "chunks_done", "chunks_running", "jobs_working", "records_read")
                == [["CUSTOMER", "40", "3", "1", "1", "1", "3"]])
        },
        check("SELECT mapping, state, message FROM couplet.sync_review;") { answer async throws in
            #expect(Set(answer.rows) == [["SALESPEOPLE", "finished", "full sync finished"], ["CUSTOMER", "enqueued", "full sync running"]])
        },
        check("""
         SELECT l.endpoint, w.hostname, w.pid, l.waiting, l.paused, l.waited, l.throttled
         FROM couplet.endpoint_limits l JOIN couplet.workers_live w ON w.id = l.worker_id ORDER BY l.waiting DESC, l.waited DESC;
         """) { answer async throws in
            #expect(answer.values("endpoint", "hostname", "waiting", "paused", "waited", "throttled")
                == [["crm", "app-1", "4", "t", "00:00:42", "3"], ["erp-api", "app-1", "0", "f", "00:00:00", "0"]],
                "live workers only, the one held back first")
        },
        check("SELECT * FROM couplet.workers_live;") { answer async throws in
            #expect(answer.values("hostname", "running", "stopping") == [["app-1", "1", "f"]], "worker b's lease ran out")
        },
        check("""
         SELECT id, kind, worker_id, lease_expires_at FROM couplet.job_status
         WHERE state = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < now());
         """) { answer async throws in
            #expect(answer.column("id") == ["41"], "the job of the worker whose lease ran out")
        },
    ]

    /// `couplet.sync_health` as each page shows it.
    private static let syncChecks: [(String, AnswerCheck)] = [
        check("SELECT mapping, last_delta_state, open_errors, skipped_records, couplings FROM couplet.sync_health ORDER BY mapping;") { answer async throws in
            #expect(answer.rows == [["CUSTOMER", "succeeded", "4", "2", "2"], ["SALESPEOPLE", nil, "0", "0", "2"]])
        },
        check("SELECT * FROM couplet.sync_health ORDER BY mapping;", checkHealth),
        check("SELECT * FROM couplet.sync_health;", checkHealth),
    ]

    /// CUSTOMER: 4 records failing now (C10003, 2, 3, 5), 5 seen in the last 24 hours (4's closed),
    /// 2 skipped (3 and 5), the full run that is running now.
    private static let checkHealth: AnswerCheck = { answer async throws in
        let customer = answer.values("mapping", "last_full_state", "open_errors", "errors_last_24h", "skipped_records")
        #expect(customer.contains(["CUSTOMER", "running", "4", "5", "2"]), "\(customer)")
        #expect(customer.contains(["SALESPEOPLE", nil, "0", "0", "0"]), "\(customer)")
    }

    /// The error log and the skipped records.
    private static let errorChecks: [(String, AnswerCheck)] = [
        check("""
         SELECT mapping, error_class, message, count(*) AS records, sum(occurrences) AS occurrences
         FROM couplet.sync_errors WHERE closed_at IS NULL GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 20;
         """) { answer async throws in
            #expect(answer.values("error_class", "records", "occurrences") == [
                ["uncoupled_reference:salesperson_code", "2", "10"], ["write_refused:22P02:credit_limit", "1", "2"],
                ["write_refused:22P02:credit_limit", "1", "2"],
            ], "one line per kind, most records first; 4's closed error is not among them")
            #expect(Set(answer.column("message")).count == 3, "a refused insert (3) and a refused update (5) say different things")
        },
        check("SELECT error_class, count(*) FROM couplet.sync_errors WHERE closed_at IS NULL GROUP BY 1") { answer async throws in
            #expect(Set(answer.rows) == [["uncoupled_reference:salesperson_code", "2"], ["write_refused:22P02:credit_limit", "2"]])
        },
        check("""
         SELECT direction, error_class, record_message, occurrences, first_seen_at, last_seen_at, closed_at, closed_reason
         FROM couplet.sync_errors WHERE mapping = 'CUSTOMER' AND 'C10003' IN (local_id, integration_id) ORDER BY last_seen_at DESC;
         """) { answer async throws in
            #expect(answer.values("direction", "error_class", "occurrences", "closed_at")
                == [["to_integration", "uncoupled_reference:salesperson_code", "5", nil]], "open, counted once in each of 5 runs")
            #expect(answer.column("record_message").first??.contains("C10003") == true)
        },
        check("SELECT * FROM couplet.sync_errors_recent;") { answer async throws in
            #expect(Set(answer.column("local_id")) == ["C10003", "2", "3", "4", "5"], "one per record and class, 4's closed one too")
            #expect(answer.values("local_id", "closed_reason").contains(["4", "synced"]))
        },
        check("""
         SELECT mapping, 'coupled' AS kind, local_id, integration_id, coalesce(local_error, integration_error) AS error
         FROM couplet.couplings WHERE skipped
         UNION ALL
         SELECT mapping, 'not coupled', CASE side WHEN 'local' THEN record_id END, CASE side WHEN 'integration' THEN record_id END, error
         FROM couplet.sync_failures WHERE skipped
         ORDER BY mapping, local_id, integration_id;
         """) { answer async throws in
            #expect(answer.values("mapping", "kind", "local_id") == [["CUSTOMER", "not coupled", "3"], ["CUSTOMER", "coupled", "5"]],
                    "both kinds of skipped record")
            #expect(answer.column("integration_id").map { $0 == nil } == [true, false], "the coupled one names its CRM record")
            #expect(answer.column("error").allSatisfy { $0?.contains("credit_limit") == true }, "\(answer.column("error"))")
            let counted = try await answer.lookUp("SELECT sum(skipped_records)::text FROM couplet.sync_health")
            #expect(counted == String(answer.rows.count), "as many as couplet status and couplet.sync_health count")
        },
    ]

    /// Statements that change something: what each changed, seen inside its transaction.
    private static let changeChecks: [(String, AnswerCheck)] = [
        check("""
         SELECT couplet.enqueue('sync.delta', '{"mapping": "CUSTOMER"}', queue => 'sync',
                                unique_key => 'delta:CUSTOMER', concurrency_key => 'CUSTOMER');
         """) { answer async throws in
            let id = try #require(answer.value.flatMap { Int64($0) })
            #expect(try await answer.lookUp("SELECT concat_ws(' ', kind, queue, state, args->>'mapping') FROM couplet.jobs WHERE id = \(id)")
                == "sync.delta sync available CUSTOMER")
            let again = try await answer.lookUp(
                "SELECT couplet.enqueue('sync.delta', '{\"mapping\": \"CUSTOMER\"}', queue => 'sync', unique_key => 'delta:CUSTOMER')::text")
            #expect(again == String(id), "the unique key returns the pending job")
        },
        check("SELECT couplet.retry_job(42);") { answer async throws in
            #expect(answer.value == "available")
            #expect(try await answer.lookUp("SELECT state FROM couplet.jobs WHERE id = 42") == "available")
        },
        check("SELECT couplet.cancel_job(43);") { answer async throws in
            #expect(answer.value == "cancelled")
            #expect(try await answer.lookUp("SELECT state FROM couplet.jobs WHERE id = 43") == "cancelled")
        },
        check("""
         INSERT INTO couplet.schedules (name, expression, timezone, job_kind, args, queue, misfire_policy, no_overlap)
         VALUES ('customer-delta', '*/5 * * * *', 'Europe/Oslo', 'sync.delta', '{"mapping": "CUSTOMER"}', 'sync', 'run_once', true);
         """) { answer async throws in
            #expect(try await answer.lookUp(
                "SELECT concat_ws(' ', expression, timezone, job_kind, misfire_policy, no_overlap::text) FROM couplet.schedule_status WHERE name = 'customer-delta'")
                == "*/5 * * * * Europe/Oslo sync.delta run_once true")
        },
        check("""
         INSERT INTO couplet.schedules (name, expression, job_kind, args, queue, no_overlap)
         VALUES ('customer-statistics', '*/30 * * * *', 'statistics.customers', '{"mapping": "CUSTOMER"}', 'sync', true),
                ('item-availability', '*/30 * * * *', 'availability.items', '{"mapping": "ITEM-PRODUCT"}', 'sync', true),
                ('customer-statistics-full', '15 2 * * *', 'statistics.customers', '{"mapping": "CUSTOMER", "full": true}', 'sync', true),
                ('item-availability-full', '20 2 * * *', 'availability.items', '{"mapping": "ITEM-PRODUCT", "full": true}', 'sync', true);
         """) { answer async throws in
            #expect(try await answer.lookUp(
                """
                SELECT string_agg(name || ' ' || coalesce(args->>'full', 'delta'), ', ' ORDER BY name) FROM couplet.schedules
                WHERE job_kind IN ('statistics.customers', 'availability.items') AND name <> 'statistics'
                """) == "customer-statistics delta, customer-statistics-full true, item-availability delta, item-availability-full true")
        },
        check("ALTER DATABASE couplet SET couplet.max_job_args_bytes = '4194304'") { answer async throws in
            #expect(try await answer.lookUp(
                """
                SELECT array_to_string(setconfig, ' ') FROM pg_db_role_setting
                WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND setrole = 0
                """) == "couplet.max_job_args_bytes=4194304")
        },
        check("CREATE ROLE couplet_worker_1 LOGIN PASSWORD '…';") { answer async throws in
            #expect(try await answer.lookUp("SELECT rolcanlogin::text FROM pg_roles WHERE rolname = 'couplet_worker_1'") == "true")
        },
    ]

    /// The record actions (docs/resolving-errors.md): alice's restore of 5 pending on job 43, bob's
    /// use_local of 4 done two days ago, bob's delete of 3 not applicable, alice's sync of C10003 ten days ago.
    private static let recordActionChecks: [(String, AnswerCheck)] = [
        check("SELECT id, state, job_id FROM couplet.resolve_conflict('CUSTOMER', '5', 'local');") { answer async throws in
            #expect(answer.column("state") == ["pending"])
            let job = try #require(answer.column("job_id").first ?? nil)
            #expect(try await answer.lookUp("SELECT args->>'direction' FROM couplet.jobs WHERE id = \(job)::bigint") == "to_integration")
            #expect(try await answer.lookUp("SELECT skipped::text FROM couplet.couplings WHERE local_id = '5'") == "false", "released")
            #expect(try await answer.lookUp("SELECT state FROM couplet.record_actions WHERE action = 'restore'") == "superseded")
        },
        check("SELECT id, state, job_id FROM couplet.restore_record('CUSTOMER', '5');") { answer async throws in
            #expect(answer.column("state") == ["pending"])
            let job = try #require(answer.column("job_id").first ?? nil)
            #expect(try await answer.lookUp("SELECT (args ? 'direction')::text FROM couplet.jobs WHERE id = \(job)::bigint") == "false", "both passes")
        },
        check("SELECT id, state, job_id FROM couplet.delete_survivor('CUSTOMER', '5');") { answer async throws in
            #expect(answer.column("state") == ["pending"] && answer.column("job_id").first != nil)
        },
        check("SELECT id, state, outcome FROM couplet.uncouple_record('CUSTOMER', '4');") { answer async throws in
            #expect(answer.values("state", "outcome") == [["done", "uncoupled"]])
            #expect(try await answer.lookUp("SELECT count(*)::text FROM couplet.couplings WHERE local_id = '4'") == "0")
        },
        check("SELECT id, state, outcome FROM couplet.couple_records('CUSTOMER', 'C10003', 'ACC-C10003');") { answer async throws in
            #expect(answer.values("state", "outcome") == [["done", "coupled"]])
            #expect(try await answer.lookUp("SELECT integration_id FROM couplet.couplings WHERE local_id = 'C10003'") == "ACC-C10003")
        },
        check("SELECT id, local_id, job_id FROM couplet.sync_records('CUSTOMER', 'local', ARRAY['C10003', '2'], 'to_integration');") { answer async throws in
            #expect(answer.column("local_id") == ["C10003", "2"])
            #expect(Set(answer.column("job_id")).count == 1, "one job for both")
        },
        check("""
         SELECT r.local_id, r.state, r.job_id FROM unnest(ARRAY['4', '5']) AS chosen(id), couplet.restore_record('CUSTOMER', chosen.id) AS r;
         """) { answer async throws in
            #expect(answer.values("local_id", "state") == [["4", "pending"], ["5", "pending"]])
        },
        check("""
         SELECT requested_at, requested_by, mapping, local_id, integration_id, action, state, outcome
         FROM couplet.record_actions WHERE requested_at > now() - interval '7 days' ORDER BY requested_at DESC;
         """) { answer async throws in
            #expect(answer.values("local_id", "requested_by", "state") == [["5", "alice", "pending"], ["4", "bob", "done"], ["3", "bob", "not_applicable"]],
                    "newest first, not the sync of ten days ago")
        },
        check("""
         SELECT a.id, a.mapping, a.local_id, a.action, now() - a.requested_at AS waiting, j.state AS job_state
         FROM couplet.record_actions a LEFT JOIN couplet.jobs j ON j.id = a.job_id
         WHERE a.state = 'pending' ORDER BY a.requested_at;
         """) { answer async throws in
            #expect(answer.values("local_id", "action", "job_state") == [["5", "restore", "available"]])
        },
        check("""
         SELECT e.direction, e.error_class, e.record_message, e.last_seen_at
         FROM couplet.record_actions a
         JOIN couplet.sync_errors e ON e.mapping = a.mapping AND e.local_id = a.local_id AND e.closed_at IS NULL
         WHERE a.state = 'pending';
         """) { answer async throws in
            #expect(answer.values("direction", "error_class") == [["to_integration", "write_refused:22P02:credit_limit"]], "5's refused update")
        },
        check("""
         SELECT a.requested_at, a.requested_by, a.action, a.state, a.outcome, r.kind, r.direction, r.finished_at
         FROM couplet.record_actions a LEFT JOIN couplet.sync_runs r ON r.id = a.run_id
         WHERE a.mapping = 'CUSTOMER' AND '5' IN (a.local_id, a.integration_id) ORDER BY a.id;
         """) { answer async throws in
            #expect(answer.values("action", "state", "kind") == [["restore", "pending", nil]], "not settled by a run yet")
        },
        check("SELECT mapping, local_id, action, outcome FROM couplet.record_actions WHERE state = 'not_applicable' ORDER BY settled_at DESC;") { answer async throws in
            #expect(answer.values("local_id", "action") == [["3", "delete"]])
            #expect(answer.column("outcome").first??.contains("not coupled") == true)
        },
    ]
}
