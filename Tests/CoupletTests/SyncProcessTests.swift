import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// Coordination, ERP and CRM databases with the CUSTOMER mapping, for sync runs by real processes.
struct SyncProcessFixture {
    let coordination: PostgresConnection
    let erp: PostgresConnection
    let crm: PostgresConnection
    let environment: [String: String]

    static func with(customers: Int, _ body: (SyncProcessFixture) async throws -> Void) async throws {
        try await withMigratedDatabase { coordinationDatabase, coordination in
            try await SampleEndpoints.with { sample in
                try await sample.erp.query(
                    "INSERT INTO customer (no, name, city) SELECT n::text, 'Customer ' || n, 'City ' || (n % 50) FROM generate_series(1, \(customers)) n")
                try await coordination.runScript(
                    """
                    INSERT INTO couplet.endpoints (name) VALUES ('erp'), ('crm');
                    INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified,
                        integration_endpoint, integration_table, integration_key, integration_modified, direction, batch_size,
                        sync_only_coupled)
                    VALUES ('CUSTOMER', 'erp', 'customer', 'no', 'modified_at', 'crm', 'account', 'id', 'modified_at', 'to_integration', 100, false);
                    """ + SampleTables.customerFields, name: "mapping")
                var environment = sample.environment
                environment["COUPLET_DATABASE_URL"] = coordinationDatabase.configuration.connectionString
                try await body(SyncProcessFixture(coordination: coordination, erp: sample.erp, crm: sample.crm, environment: environment))
            }
        }
    }

    func count(_ connection: PostgresConnection, _ sql: PostgresQuery) async throws -> Int {
        try await connection.query(sql).single().decode(Int.self, at: 0)
    }
}

@Suite("Sync jobs run by worker processes", .serialized)
struct SyncProcessTests {
    @Test("couplet sync --full --wait runs on a worker and reports the counts")
    func syncAndWait() async throws {
        try await SyncProcessFixture.with(customers: 120) { f in
            let worker = try CoupletProcess.start(["worker", "--queues", "sync"], environment: f.environment)
            let outcome = try await CoupletProcess.run(["sync", "CUSTOMER", "--full", "--wait"], environment: f.environment)
            #expect(outcome.status == 0, "\(outcome.standardError)")
            #expect(outcome.standardOutput.contains("120 inserted"), "\(outcome.standardOutput)")
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 120)
            let missing = try await CoupletProcess.run(["sync", "NOPE"], environment: f.environment)
            #expect(missing.status != 0 && missing.standardError.contains("there is no mapping \"NOPE\""))
            worker.terminate()
            #expect(try await worker.waitForExit().status == 0)
        }
    }

    @Test("couplet sync --all-modified: every enabled mapping's delta in one job, each after the mappings it depends on")
    func allModified() async throws {
        try await SyncProcessFixture.with(customers: 7) { f in
            try await f.coordination.runScript(
                """
                INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified,
                    integration_endpoint, integration_table, integration_key, integration_modified, direction, enabled)
                VALUES ('FIRST', 'erp', 'customer', 'no', 'modified_at', 'crm', 'account', 'id', 'modified_at', 'from_integration', true),
                       ('OFF', 'erp', 'customer', 'no', 'modified_at', 'crm', 'account', 'id', 'modified_at', 'from_integration', false);
                UPDATE couplet.table_mappings SET depends_on = '{FIRST}' WHERE name = 'CUSTOMER';
                INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field)
                SELECT m.name, f.position, f.local_field, f.integration_field
                FROM couplet.field_mappings f, (VALUES ('FIRST'), ('OFF')) AS m(name) WHERE f.mapping = 'CUSTOMER';
                """, name: "mappings")
            let worker = try CoupletProcess.start(["worker"], environment: f.environment)
            let outcome = try await CoupletProcess.run(["sync", "--all-modified", "--wait"], environment: f.environment)
            #expect(outcome.status == 0, "\(outcome.standardOutput) \(outcome.standardError)")
            #expect(outcome.standardOutput.contains("2 mappings, 2 passes so far: 7 inserted"), "\(outcome.standardOutput)")
            let order = try await f.coordination.query("SELECT mapping FROM couplet.sync_runs ORDER BY id").map { try $0.decode(String.self, at: 0) }
            #expect(order == ["FIRST", "CUSTOMER"], "dependencies first, the disabled mapping not at all")
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 7)
            let both = try await CoupletProcess.run(["sync", "CUSTOMER", "--all-modified"], environment: f.environment)
            #expect(both.status != 0 && both.standardError.contains("name one mapping, or pass --all-modified"))
            worker.terminate()
            #expect(try await worker.waitForExit().status == 0)
        }
    }

    @Test("a scheduled delta that found nothing holds its schedule; a change in the ERP wakes it within the worker's probe interval")
    func inactivityHoldAndWake() async throws {
        try await SyncProcessFixture.with(customers: 5) { f in
            let schedules = try temporaryFile(
                """
                schedules:
                  - name: customer-delta
                    cron: "@every 2s"
                    job: sync.delta
                    args: {mapping: CUSTOMER}
                    queue: sync
                    no_overlap: true
                    retry_delay: 30s
                    inactivity_timeout: 1h
                """)
            let applied = try await CoupletProcess.run(["schedules", "apply", schedules], environment: f.environment)
            #expect(applied.status == 0, "\(applied.standardError)")
            let scheduler = try CoupletProcess.start(["scheduler"], environment: f.environment)
            let worker = try CoupletProcess.start(["worker", "--wake-probe-interval", "1s"], environment: f.environment)
            func outcomes() async throws -> [String] {
                try await f.coordination.query("SELECT outcome FROM couplet.schedule_ticks ORDER BY fire_time").map { try $0.decode(String.self, at: 0) }
            }
            #expect(try await eventually(within: .seconds(60)) { try await outcomes().contains("held") },
                    "the first delta copies the five customers, the next finds nothing, and the ticks after it are held")
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 5)
            let list = try await CoupletProcess.run(["schedules", "list"], environment: f.environment)
            #expect(list.standardOutput.contains("held: previous job found nothing"), "\(list.standardOutput)")
            #expect(list.standardOutput.contains("until 20"), "the HOLD column shows when the hold ends: \(list.standardOutput)")

            try await f.erp.query("UPDATE customer SET name = 'Renamed while held' WHERE no = '3'")
            #expect(try await eventually(within: .seconds(30)) {
                try await f.count(f.crm, "SELECT count(*) FROM account WHERE name = 'Renamed while held'") == 1
            }, "the worker's probe saw the change and woke the schedule")
            #expect(try await outcomes().contains("woken"))
            let jobs = try await f.count(f.coordination, "SELECT count(*) FROM couplet.jobs WHERE schedule_name = 'customer-delta'")
            let ticks = try await f.count(f.coordination, "SELECT count(*) FROM couplet.schedule_ticks")
            #expect(jobs < ticks, "held ticks enqueued no job: \(jobs) jobs for \(ticks) ticks")
            worker.terminate()
            scheduler.terminate()
            #expect(try await worker.waitForExit().status == 0)
            #expect(try await scheduler.waitForExit().status == 0)
        }
    }

    @Test("a full sync is shared by two workers in key-range chunks, each record synced once")
    func chunkedFullSync() async throws {
        try await SyncProcessFixture.with(customers: 3_000) { f in
            let workers = try (0..<2).map { _ in try CoupletProcess.start(["worker", "--queues", "sync"], environment: f.environment) }
            let outcome = try await CoupletProcess.run(["sync", "CUSTOMER", "--full", "--chunk-rows", "100", "--wait"], environment: f.environment)
            #expect(outcome.status == 0, "\(outcome.standardError)")
            #expect(outcome.standardOutput.contains("3000 inserted"), "\(outcome.standardOutput)")
            #expect(try await f.count(f.crm, "SELECT count(DISTINCT account_number) FROM account") == 3_000)
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 3_000)
            let chunks = try await f.coordination.query(
                "SELECT count(*), count(*) FILTER (WHERE state = 'done'), sum(records)::int8, count(DISTINCT job_id) FROM couplet.sync_chunks"
            ).single().decode((Int, Int, Int, Int).self)
            #expect(chunks.0 == 31 && chunks.1 == 31, "30 boundaries cut 31 chunks, all done: \(chunks)")
            #expect(chunks.2 == 3_000, "each record read once")
            #expect(chunks.3 >= 2, "helper jobs synced chunks beside the full sync")
            let again = try await CoupletProcess.run(["sync", "CUSTOMER", "--full", "--chunk-rows", "100", "--wait"], environment: f.environment)
            #expect(again.standardOutput.contains("3000 unchanged"), "\(again.standardOutput)")
            for worker in workers { worker.terminate() }
            for worker in workers { #expect(try await worker.waitForExit().status == 0) }
        }
    }

    @Test("couplet review run: full syncs in dependency order, followed to the end")
    func reviewRun() async throws {
        try await SyncProcessFixture.with(customers: 50) { f in
            try await f.erp.runScript(
                """
                CREATE TABLE salesperson (code text PRIMARY KEY, name text NOT NULL, modified_at timestamptz NOT NULL DEFAULT now());
                INSERT INTO salesperson VALUES ('JO', 'Jo Moody'), ('AH', 'Annette Hill');
                """, name: "salespeople")
            try await f.crm.runScript(
                "CREATE TABLE systemuser (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_code text, full_name text, modified_at timestamptz NOT NULL DEFAULT now())",
                name: "users")
            try await f.coordination.runScript(
                """
                INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified,
                    integration_endpoint, integration_table, integration_key, integration_modified, direction, sync_only_coupled)
                VALUES ('SALESPEOPLE', 'erp', 'salesperson', 'code', 'modified_at', 'crm', 'systemuser', 'id', 'modified_at', 'to_integration', false);
                INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field, direction) VALUES
                    ('SALESPEOPLE', 1, 'code', 'user_code', 'to_integration'), ('SALESPEOPLE', 2, 'name', 'full_name', 'to_integration');
                UPDATE couplet.table_mappings SET depends_on = '{SALESPEOPLE}' WHERE name = 'CUSTOMER';
                """, name: "mappings")
            let before = try await CoupletProcess.run(["review"], environment: f.environment)
            #expect(before.status == 0, "\(before.standardError)")
            #expect(before.standardOutput.contains("SALESPEOPLE  to_integration  -"), "\(before.standardOutput)")
            #expect(before.standardOutput.contains("50     0            0        full sync"), "counts on both sides: \(before.standardOutput)")
            let worker = try CoupletProcess.start(["worker", "--queues", "sync"], environment: f.environment)
            let run = try await CoupletProcess.run(["review", "run"], environment: f.environment)
            #expect(run.status == 0, "\(run.standardOutput) \(run.standardError)")
            #expect(run.standardOutput.contains("CUSTOMER: finished: 50 inserted"), "\(run.standardOutput)")
            let order = try await f.coordination.query(
                """
                SELECT (SELECT min(started_at) FROM couplet.sync_runs WHERE mapping = 'CUSTOMER')
                       >= (SELECT max(finished_at) FROM couplet.sync_runs WHERE mapping = 'SALESPEOPLE')
                """).single().decode(Bool.self, at: 0)
            #expect(order, "CUSTOMER started after SALESPEOPLE finished")
            #expect(try await f.count(f.crm, "SELECT count(*) FROM systemuser") == 2)
            worker.terminate()
            #expect(try await worker.waitForExit().status == 0)
        }
    }

    @Test("couplet couple-salespeople shows matches by e-mail, then name, and couples them once confirmed")
    func coupleSalespeople() async throws {
        try await SyncProcessFixture.with(customers: 0) { f in
            try await f.erp.runScript(
                """
                CREATE TABLE salesperson (code text PRIMARY KEY, name text NOT NULL, email text, modified_at timestamptz NOT NULL DEFAULT now());
                INSERT INTO salesperson VALUES ('JO', 'Jo Moody', 'jo@cronus.example'), ('AH', 'Annette Hill', 'ah@cronus.example'),
                                               ('PS', 'Peter Saddow', 'ps@cronus.example');
                """, name: "salespeople")
            try await f.crm.runScript(
                """
                CREATE TABLE systemuser (id text PRIMARY KEY, fullname text, internalemailaddress text, modified_at timestamptz NOT NULL DEFAULT now());
                INSERT INTO systemuser VALUES ('u1', 'Josephine Moody', 'JO@cronus.example'), ('u2', 'Annette Hill', 'annette@crm.example'),
                                              ('u3', 'Integration User', 'sync@crm.example');
                """, name: "users")
            try await f.coordination.runScript(
                """
                INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified,
                    integration_endpoint, integration_table, integration_key, integration_modified, direction)
                VALUES ('SALESPEOPLE', 'erp', 'salesperson', 'code', 'modified_at', 'crm', 'systemuser', 'id', 'modified_at', 'from_integration');
                INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field, direction, match_priority) VALUES
                    ('SALESPEOPLE', 1, 'email', 'internalemailaddress', 'from_integration', 1),
                    ('SALESPEOPLE', 2, 'name', 'fullname', 'from_integration', 2);
                """, name: "mapping")
            let preview = try await CoupletProcess.run(["couple-salespeople"], environment: f.environment)
            #expect(preview.status == 0, "\(preview.standardError)")
            let lines = preview.standardOutput.split(separator: "\n").map(String.init)
            #expect(lines.contains { $0.hasPrefix("u1") && $0.hasSuffix("couple with salesperson JO") }, "by e-mail, case-insensitively: \(lines)")
            #expect(lines.contains { $0.hasPrefix("u2") && $0.hasSuffix("couple with salesperson AH") }, "then by name")
            #expect(lines.contains { $0.hasPrefix("u3") && $0.hasSuffix("no match") })
            #expect(preview.standardOutput.contains("2 to couple, 1 left as they are."))
            #expect(preview.standardOutput.contains("Not coupled: run with --yes"))
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.couplings") == 0, "nothing coupled unconfirmed")
            let confirmed = try await CoupletProcess.run(["couple-salespeople", "--yes"], environment: f.environment)
            #expect(confirmed.standardOutput.contains("Coupled 2."), "\(confirmed.standardOutput)")
            let pairs = try await f.coordination.query("SELECT local_id || '=' || integration_id FROM couplet.couplings ORDER BY 1")
                .map { try $0.decode(String.self, at: 0) }
            #expect(pairs == ["AH=u2", "JO=u1"])
        }
    }

    @Test("couple, uncouple and retry-skipped by hand")
    func couplingCommands() async throws {
        try await SyncProcessFixture.with(customers: 2) { f in
            try await f.crm.query("INSERT INTO account (id, account_number, name) VALUES ('00000000-0000-0000-0000-000000000001', '1', 'old')")
            let couple = try await CoupletProcess.run(
                ["couple", "CUSTOMER", "1", "00000000-0000-0000-0000-000000000001"], environment: f.environment)
            #expect(couple.status == 0, "\(couple.standardError)")
            let again = try await CoupletProcess.run(["couple", "CUSTOMER", "1", "other"], environment: f.environment)
            #expect(again.status != 0)
            #expect(again.standardError.contains("1 is already coupled to 00000000-0000-0000-0000-000000000001"))
            let worker = try CoupletProcess.start(["worker", "--queues", "sync"], environment: f.environment)
            let synced = try await CoupletProcess.run(["sync", "CUSTOMER", "--full", "--wait"], environment: f.environment)
            #expect(synced.standardOutput.contains("1 inserted, 1 modified"), "\(synced.standardOutput)")
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 2, "the coupled account was updated, not duplicated")

            try await f.coordination.query("UPDATE couplet.couplings SET skipped = true WHERE local_id = '2'")
            let released = try await CoupletProcess.run(["sync", "retry-skipped", "CUSTOMER"], environment: f.environment)
            #expect(released.standardOutput.contains("Released 1 skipped record"))
            let one = try await CoupletProcess.run(["uncouple", "CUSTOMER", "2"], environment: f.environment)
            #expect(one.status == 0)
            let all = try await CoupletProcess.run(["uncouple", "CUSTOMER", "--all"], environment: f.environment)
            #expect(all.status == 0)
            #expect(try await eventually(within: .seconds(10)) {
                try await f.count(f.coordination, "SELECT count(*) FROM couplet.couplings") == 0
            })
            worker.terminate()
            _ = try await worker.waitForExit()
        }
    }

    @Test("a worker killed mid-sync: the job is rescued and rerun, with no duplicate and nothing lost")
    func killedMidSync() async throws {
        try await SyncProcessFixture.with(customers: 20_000) { f in
            let victim = try CoupletProcess.start(["worker", "--queues", "sync", "--lease", "3s"], environment: f.environment)
            let enqueued = try await CoupletProcess.run(["sync", "CUSTOMER", "--full", "--chunk-rows", "2000"], environment: f.environment)
            #expect(enqueued.status == 0)
            #expect(try await eventually(within: .seconds(30), every: .milliseconds(20)) {
                try await f.count(f.crm, "SELECT count(*) FROM account") >= 2_000
            })
            victim.kill()
            let partial = try await f.count(f.crm, "SELECT count(*) FROM account")
            #expect(partial < 20_000, "killed before the end (\(partial) written)")
            let rescuer = try CoupletProcess.start(["worker", "--queues", "sync", "--lease", "3s"], environment: f.environment)
            #expect(try await eventually(within: .seconds(90), every: .milliseconds(200)) {
                try await f.count(f.coordination, "SELECT count(*) FROM couplet.jobs WHERE kind = 'sync.full' AND state = 'completed'") == 1
            })
            #expect(try await f.count(f.crm, "SELECT count(*) FROM account") == 20_000)
            #expect(try await f.count(f.crm, "SELECT count(DISTINCT account_number) FROM account") == 20_000)
            #expect(try await f.count(f.coordination, "SELECT count(*) FROM couplet.couplings") == 20_000)
            #expect(try await f.count(
                f.coordination, "SELECT count(*) FROM couplet.job_attempts a JOIN couplet.jobs j ON j.id = a.job_id WHERE j.kind = 'sync.full' AND a.outcome = 'rescued'") == 1)
            #expect(try await f.count(
                f.coordination, "SELECT count(*) FROM couplet.sync_runs WHERE state = 'failed' AND message LIKE 'interrupted:%'") == 1,
                "the killed attempt's run is marked interrupted")
            rescuer.terminate()
            #expect(try await rescuer.waitForExit().status == 0)
        }
    }
}
