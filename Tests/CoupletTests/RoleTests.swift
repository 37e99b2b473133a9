import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Cron
@testable import Queue

extension PostgresConnection {
    /// Runs `body` with this session acting as `role` (SET ROLE), and acts as itself again afterwards.
    func acting<T>(
        as role: String, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async throws -> T {
        try await query("SET ROLE \(try PostgresIdentifier(role))")
        do {
            let result = try await body()
            try await query("RESET ROLE")
            return result
        } catch {
            try await query("RESET ROLE")
            throw error
        }
    }

    /// Expects `sql` to be refused for want of a privilege (SQLSTATE 42501).
    func expectDenied(_ sql: PostgresQuery, sourceLocation: SourceLocation = #_sourceLocation) async {
        let error = await #expect(throws: PostgresError.self, "\(sql)", sourceLocation: sourceLocation) { try await self.query(sql) }
        #expect(error?.sqlState == "42501", "\(sql): \(String(describing: error))", sourceLocation: sourceLocation)
    }

    /// Sets up what the role tests act on: two endpoints, the CUSTOMER mapping with one field, a
    /// schedule, and a failed job. Returns the job's id.
    func seedIntegration() async throws -> Int64 {
        try await runScript(
            """
            INSERT INTO couplet.endpoints (name) VALUES ('erp'), ('crm');
            INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified,
                integration_endpoint, integration_table, integration_key, integration_modified)
            VALUES ('CUSTOMER', 'erp', 'customer', 'no', 'modified_at', 'crm', 'account', 'id', 'modified_at');
            INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field) VALUES ('CUSTOMER', 1, 'name', 'name');
            INSERT INTO couplet.schedules (name, expression, job_kind) VALUES ('nightly', '0 2 * * *', 'sync.full');
            """, name: "seed integration")
        return try await insert(TestJob(state: "failed", errors: #"[{"error": "boom"}]"#))
    }
}

/// The tables and views that a person reads, for the reader's and the availability user's checks.
private let readableRelations = [
    "job_status", "queue_summary", "workers_live", "schedule_status", "sync_health", "sync_errors_recent",
    "jobs", "job_attempts", "workers", "schedules", "schedule_ticks", "endpoints", "table_mappings", "field_mappings",
    "couplings", "sync_runs", "sync_errors", "sync_failures", "schema_migrations", "sync_chunks", "sync_chunk_progress",
    "sync_review", "integration_watermarks", "item_availability", "record_actions",
]

@Suite("Database roles: each may do what it must and is refused the rest")
struct RoleTests {
    @Test("the reader reads every view and table, and is refused changing a mapping, a schedule or a job, and enqueueing")
    func reader() async throws {
        try await withMigratedDatabase { _, db in
            let job = try await db.seedIntegration()
            try await db.acting(as: "couplet_reader") {
                for relation in readableRelations {
                    _ = try await db.query("SELECT count(*) FROM \(try PostgresIdentifier(relation, schema: "couplet"))")
                }
                #expect(try await db.query("SELECT status FROM couplet.job_status WHERE id = \(job)").single().decode(String.self, at: 0) == "failed")
                await db.expectDenied("UPDATE couplet.table_mappings SET enabled = false WHERE name = 'CUSTOMER'")
                await db.expectDenied("UPDATE couplet.schedules SET expression = '* * * * *'")
                await db.expectDenied("SELECT couplet.enqueue('sync.delta', '{\"mapping\": \"CUSTOMER\"}')")
                await db.expectDenied("INSERT INTO couplet.jobs (kind) VALUES ('sync.delta')")
                await db.expectDenied("SELECT couplet.retry_job(\(job))")
                await db.expectDenied("DELETE FROM couplet.couplings")
            }
        }
    }

    @Test("the availability user calls the availability function and reads nothing else")
    func availability() async throws {
        try await withMigratedDatabase { _, db in
            let job = try await db.seedIntegration()
            try await db.query(
                "INSERT INTO couplet.item_availability (item_no, product_id, inventory, reserved, available, computed_at) VALUES ('1000', 'p', 10, 3, 7, now())")
            try await db.acting(as: "couplet_availability") {
                let available = try await db.query("SELECT available FROM couplet.item_availability('1000')").single().decode(Double.self, at: 0)
                #expect(available == 7)
                await db.expectDenied("SELECT FROM couplet.jobs")
                for relation in readableRelations {
                    await db.expectDenied("SELECT FROM \(try PostgresIdentifier(relation, schema: "couplet"))")
                }
                await db.expectDenied("SELECT couplet.enqueue('sync.delta')")
                await db.expectDenied("SELECT couplet.cancel_job(\(job))")
            }
        }
    }

    @Test("the administrator sets up and prunes endpoints, mappings, schedules and couplings, and retries, holds and cancels jobs")
    func admin() async throws {
        try await withMigratedDatabase { _, db in
            let failed = try await db.seedIntegration()
            try await db.query(
                "INSERT INTO couplet.schedule_ticks (schedule_name, fire_time, outcome, scheduler_id) VALUES ('nightly', now(), 'enqueued', gen_random_uuid())")
            try await db.acting(as: "couplet_admin") {
                try await db.runScript(
                    """
                    INSERT INTO couplet.endpoints (name) VALUES ('shop');
                    UPDATE couplet.table_mappings SET update_conflict = 'send_to_integration' WHERE name = 'CUSTOMER';
                    DELETE FROM couplet.field_mappings WHERE mapping = 'CUSTOMER';
                    INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field) VALUES ('CUSTOMER', 1, 'no', 'number');
                    UPDATE couplet.schedules SET expression = '0 3 * * *', concurrency_key = 'sync:CUSTOMER' WHERE name = 'nightly';
                    INSERT INTO couplet.schedules (name, expression, job_kind, concurrency_key)
                    VALUES ('hourly', '@hourly', 'sync.delta', 'sync:CUSTOMER');
                    INSERT INTO couplet.couplings (mapping, local_id, integration_id) VALUES ('CUSTOMER', '1', 'a');
                    UPDATE couplet.sync_failures SET skipped = false;
                    """, name: "administer")
                #expect(try await db.change("retry_job", failed) == "available")
                #expect(try await db.change("hold_job", failed) == "on_hold")
                let enqueued = try await db.query("SELECT couplet.enqueue('sync.delta')").single().decode(Int64.self, at: 0)
                #expect(try await db.change("cancel_job", enqueued) == "cancelled")
                #expect(try await db.query("SELECT count(*) FROM couplet.sync_health").single().decode(Int.self, at: 0) == 1)
                await db.expectDenied("DELETE FROM couplet.jobs")
                await db.expectDenied("UPDATE couplet.scheduler_leader SET holder = gen_random_uuid()")
                await db.expectDenied("SELECT * FROM couplet.fire_schedule_ticks('{nightly}', ARRAY[now()], gen_random_uuid())")
                await db.expectDenied("INSERT INTO couplet.schedule_ticks (schedule_name, fire_time, outcome, scheduler_id) VALUES ('nightly', now() + interval '1 day', 'held', gen_random_uuid())")
                #expect(try await db.query("SELECT couplet.wake_schedule('nightly')").single().decode(Int64?.self, at: 0) == nil,
                        "the administrator may wake a schedule (this one is not on hold)")
                // Pruning by apply: the ticks, field mappings and couplings go with their schedule and mapping.
                try await db.runScript(
                    "DELETE FROM couplet.schedules WHERE name = 'nightly'; DELETE FROM couplet.table_mappings WHERE name = 'CUSTOMER'",
                    name: "prune")
            }
            #expect(try await db.query("SELECT count(*) FROM couplet.schedules").single().decode(Int.self, at: 0) == 1)
            #expect(try await db.query("SELECT count(*) FROM couplet.couplings").single().decode(Int.self, at: 0) == 0)
        }
    }

    @Test("the worker claims, heartbeats, finishes, rescues and prunes jobs, and is refused changing mappings and schedules")
    func workerQueue() async throws {
        try await withMigratedDatabase { _, db in
            _ = try await db.seedIntegration()
            let job = try await JobQueue.enqueue(NewJob(kind: "test.job"), on: db)
            try await db.acting(as: "couplet_worker") {
                let worker = WorkerRegistration(
                    id: UUID(), hostname: "test", pid: 1, queues: ["default"], concurrency: 1, lease: .seconds(30))
                try await JobQueue.register(worker, on: db)
                let claimed = try await JobQueue.claim(limit: 5, queue: "default", workerID: worker.id, on: db)
                #expect(claimed.map(\.id) == [job])
                #expect(try await JobQueue.heartbeat(worker.id, on: db).registered)
                #expect(try await JobQueue.finish([JobOutcome(jobID: job, attempt: 1, state: .completed)], on: db) == [job])
                _ = try await JobQueue.asMaintenanceLeader(on: db) { leader in
                    (try await JobQueue.rescueExpiredLeases(on: leader), try await JobQueue.cancelExpired(on: leader),
                     try await JobQueue.prune(olderThan: .zero, on: leader))
                }
                try await JobQueue.markStopping(worker.id, on: db)
                try await JobQueue.deregister(worker.id, on: db)
                _ = try await JobQueue.enqueue(NewJob(kind: "follow.up"), on: db)
                await db.expectDenied("UPDATE couplet.table_mappings SET enabled = false")
                await db.expectDenied("DELETE FROM couplet.field_mappings")
                await db.expectDenied("UPDATE couplet.schedules SET expression = '* * * * *'")
                await db.expectDenied("UPDATE couplet.schedules SET concurrency_key = 'k'")
                await db.expectDenied("INSERT INTO couplet.schedules (name, expression, job_kind) VALUES ('x', '@daily', 'k')")
                await db.expectDenied("UPDATE couplet.endpoints SET settings = '{}'")
                await db.expectDenied("INSERT INTO couplet.endpoints (name) VALUES ('other')")
                _ = try await db.query("SELECT name, kind, settings FROM couplet.endpoints")  // to open each endpoint with its connector
                await db.expectDenied("SELECT couplet.retry_job(\(job))")
                try await db.query("UPDATE couplet.table_mappings SET local_watermark = now() WHERE name = 'CUSTOMER'")
            }
            #expect(try await db.query("SELECT count(*) FROM couplet.jobs WHERE id = \(job)").single().decode(Int.self, at: 0) == 0, "pruned")
        }
    }

    @Test("the worker leads the schedulers, fires ticks and records next fire times")
    func workerScheduler() async throws {
        try await withMigratedDatabase { _, db in
            _ = try await db.seedIntegration()
            try await db.query("UPDATE couplet.schedules SET concurrency_key = 'sync:CUSTOMER' WHERE name = 'nightly'")
            let scheduler = UUID()
            let fireTime = Date(timeIntervalSince1970: 1_800_000_000)
            try await db.acting(as: "couplet_worker") {
                #expect(try await SchedulerStatements.lead(scheduler, hostname: "test", pid: 1, lease: .seconds(10), on: db))
                #expect(try await SchedulerStatements.enabledSchedules(on: db).map(\.name) == ["nightly"])
                let fired = try await SchedulerStatements.fire([(schedule: "nightly", fireTime: fireTime)], by: scheduler, on: db)
                #expect(fired.map(\.outcome) == ["enqueued"])
                try await SchedulerStatements.record(next: [(schedule: "nightly", fireTime: fireTime, error: nil)], on: db)
                try await SchedulerStatements.resign(scheduler, on: db)
            }
            // On hold after an idle job: the scheduler holds the next tick, a worker's waker ends the hold.
            try await db.runScript(
                """
                UPDATE couplet.schedules SET inactivity_timeout = '0 seconds' WHERE name = 'nightly';
                UPDATE couplet.jobs SET state = 'completed', result = '{"idle": true}', finished_at = now() WHERE schedule_name = 'nightly'
                """, name: "idle job")
            try await db.acting(as: "couplet_worker") {
                let held = try await SchedulerStatements.fire([(schedule: "nightly", fireTime: fireTime + 86400)], by: scheduler, on: db)
                #expect(held.map(\.outcome) == ["held"])
                #expect(try await ScheduleStore.held(kinds: ["sync.full"], on: db).map(\.name) == ["nightly"])
                #expect(try await ScheduleStore.wake("nightly", by: UUID(), on: db) != nil)
            }
            let keys = try await db.query("SELECT concurrency_key FROM couplet.jobs WHERE schedule_name = 'nightly'").map { try $0.decode(String.self) }
            #expect(keys == ["sync:CUSTOMER", "sync:CUSTOMER"], "the tick's job, and the woken one")
        }
    }

    @Test("every table and view is readable by the reader and the administrator, and the reader (so PUBLIC) runs no function")
    func everyRelationGranted() async throws {
        try await withMigratedDatabase { _, db in
            let unreadable = try await db.query(
                """
                SELECT c.relname::text || ' by ' || r.name FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace,
                unnest(ARRAY['couplet_reader', 'couplet_admin']) AS r(name)
                WHERE n.nspname = 'couplet' AND c.relkind IN ('r', 'v', 'm', 'p')
                  AND NOT has_table_privilege(r.name, c.oid, 'SELECT')
                ORDER BY 1
                """
            ).map { try $0.decode(String.self, at: 0) }
            #expect(unreadable == [], "a later migration must GRANT SELECT on new tables and views to couplet_reader and couplet_admin")
            let callable = try await db.query(
                """
                SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'couplet' AND has_function_privilege('couplet_reader', p.oid, 'EXECUTE')
                ORDER BY 1
                """
            ).map { try $0.decode(String.self, at: 0) }
            #expect(callable == [], "a later migration must REVOKE EXECUTE ON its functions FROM PUBLIC and grant them by role")
        }
    }

    @Test("PUBLIC may neither connect to the coordination database nor create temporary tables in it; Couplet's four roles may connect")
    func databasePrivileges() async throws {
        try await withMigratedDatabase { _, db in
            let privileges = try await db.query(
                """
                SELECT r.name, has_database_privilege(r.name, current_database(), 'CONNECT'),
                       has_database_privilege(r.name, current_database(), 'TEMP')
                FROM unnest(ARRAY['public', 'couplet_admin', 'couplet_worker', 'couplet_reader', 'couplet_availability']) AS r(name)
                ORDER BY r.name
                """
            ).map { "\(try $0.decode(String.self, at: 0)) \(try $0.decode(Bool.self, at: 1)) \(try $0.decode(Bool.self, at: 2))" }
            #expect(privileges == [
                "couplet_admin true false", "couplet_availability true false", "couplet_reader true false",
                "couplet_worker true false", "public false false",
            ])
        }
    }

    @Test("every SECURITY DEFINER function belongs to a NOLOGIN role that is no superuser, not to the migrating user")
    func definerOwners() async throws {
        try await withMigratedDatabase { _, db in
            let owners = try await db.query(
                """
                SELECT p.oid::regprocedure::text || ' owned by ' || r.rolname
                       || CASE WHEN r.rolcanlogin THEN ' (LOGIN)' ELSE '' END || CASE WHEN r.rolsuper THEN ' (SUPERUSER)' ELSE '' END
                FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_roles r ON r.oid = p.proowner
                WHERE n.nspname = 'couplet' AND p.prosecdef
                ORDER BY 1
                """
            ).map { try $0.decode(String.self, at: 0) }
            #expect(owners == [
                "couplet.item_availability(text) owned by couplet_definer", "couplet.wake_schedule(text,uuid) owned by couplet_definer",
            ])
        }
    }
}
