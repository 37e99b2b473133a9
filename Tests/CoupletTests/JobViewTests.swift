import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("couplet.job_status, queue_summary and workers_live")
struct JobViewTests {
    @Test("job_status: a due job whose concurrency key a running job holds is waiting on that job")
    func waiting() async throws {
        try await withMigratedDatabase { _, db in
            let running = try await db.insert(TestJob(state: "running", concurrencyKey: "CUSTOMER"))
            let waiting = try await db.insert(TestJob(state: "available", concurrencyKey: "CUSTOMER"))
            let notDue = try await db.insert(TestJob(state: "retryable", concurrencyKey: "CUSTOMER", runIn: 600))
            let otherKey = try await db.insert(TestJob(state: "available", concurrencyKey: "VENDOR"))
            let rows = try await db.query("SELECT id, status, waiting_on_job FROM couplet.job_status ORDER BY id")
                .map { try $0.decode((Int64, String, Int64?).self) }
            #expect(rows.map(\.0) == [running, waiting, notDue, otherKey])
            #expect(rows.map(\.1) == ["running", "waiting", "scheduled", "available"])
            #expect(rows.map(\.2) == [nil, running, nil, nil])
        }
    }

    @Test("job_status: scheduled, cancelling and expired")
    func statuses() async throws {
        try await withMigratedDatabase { _, db in
            let cases: [(TestJob, String, String)] = [
                (TestJob(state: "scheduled", runIn: 600), "scheduled", "not due yet"),
                (TestJob(state: "available", runIn: 600), "scheduled", "an available job with run_at ahead is not due"),
                (TestJob(state: "scheduled", runIn: -5), "scheduled", "due: the state shows"),
                (TestJob(state: "running", cancelRequested: true), "cancelling", "cancel requested"),
                (TestJob(state: "running"), "running", "no cancel requested"),
                (TestJob(state: "available", expiresIn: -1), "expired", "past expires_at"),
                (TestJob(state: "retryable", runIn: 600, expiresIn: -1), "expired", "expiry wins over not due"),
                (TestJob(state: "available", expiresIn: 600), "available", "expires later"),
                (TestJob(state: "on_hold", expiresIn: -1), "on_hold", "a held job shows as held"),
                (TestJob(state: "failed"), "failed", "finished"),
            ]
            for (job, status, why) in cases {
                let id = try await db.insert(job)
                #expect(try await db.state(of: id).status == status, "\(why)")
            }
        }
    }

    @Test("job_status: last_error is the message of the last error")
    func lastError() async throws {
        try await withMigratedDatabase { _, db in
            let cases: [(errors: String, lastError: String?)] = [
                ("[]", nil),
                (#"[{"attempt": 1, "at": "2025-06-01T09:00:00Z", "error": "timeout"}]"#, "timeout"),
                (#"[{"attempt": 1, "error": "timeout"}, {"attempt": 2, "error": "connection refused"}]"#, "connection refused"),
                (#"[{"attempt": 1, "error": "timeout"}, {"attempt": 2, "code": 7}]"#, #"{"code": 7, "attempt": 2}"#),
            ]
            for (errors, expected) in cases {
                let id = try await db.insert(TestJob(state: "retryable", errors: errors))
                let lastError = try await db.query("SELECT last_error FROM couplet.job_status WHERE id = \(id)")
                    .single().decode(String?.self, at: 0)
                #expect(lastError == expected, "errors \(errors)")
            }
        }
    }

    @Test("job_status: worker_host names the worker while it is live")
    func workerHost() async throws {
        try await withMigratedDatabase { _, db in
            let live = try await db.insertWorker(hostname: "erp-sync-1", pid: 4242)
            let gone = try await db.insertWorker(hostname: "erp-sync-2", pid: 77, heartbeatAgo: 120)
            let onLive = try await db.insert(TestJob(state: "running", workerID: live))
            let onGone = try await db.insert(TestJob(state: "running", workerID: gone))
            let hosts = try await db.query("SELECT worker_host FROM couplet.job_status WHERE id IN (\(onLive), \(onGone)) ORDER BY id")
                .map { try $0.decode(String?.self, at: 0) }
            #expect(hosts == ["erp-sync-1:4242", nil])
        }
    }

    @Test("queue_summary counts open and failed jobs per queue and state, and the last five minutes of attempts")
    func queueSummary() async throws {
        try await withMigratedDatabase { _, db in
            for job in [
                TestJob(state: "available"), TestJob(state: "available"), TestJob(state: "running"),
                TestJob(state: "failed"), TestJob(state: "completed"), TestJob(state: "cancelled"),
                TestJob(state: "on_hold", queue: "crm"), TestJob(state: "scheduled", queue: "crm", runIn: 60),
            ] { _ = try await db.insert(job) }
            try await db.query("UPDATE couplet.jobs SET created_at = now() - interval '1 hour' WHERE id = 1")
            try await db.query("""
                INSERT INTO couplet.job_attempts (job_id, attempt, kind, queue, outcome, finished_at)
                SELECT 1, 1, 'test.job', queue, outcome, now() - age
                FROM (VALUES ('default', 'completed', interval '1 minute'), ('default', 'completed', interval '4 minutes'),
                             ('default', 'failed', interval '2 minutes'), ('default', 'retry', interval '2 minutes'),
                             ('default', 'completed', interval '10 minutes'), ('erp', 'completed', interval '1 minute'))
                     AS attempts (queue, outcome, age)
                """)
            let rows = try await db.query("""
                SELECT queue, state, jobs, extract(epoch FROM oldest_age)::float8, completed_last_5_min, failed_last_5_min,
                       retried_last_5_min, jobs_per_second_last_5_min::float8
                FROM couplet.queue_summary
                """).map { try $0.decode((String, String?, Int, Double?, Int, Int, Int, Double).self) }
            let summary = rows.map { "\($0.0) \($0.1 ?? "-") \($0.2) | \($0.4) \($0.5) \($0.6) \($0.7)" }
            #expect(summary == [
                "crm on_hold 1 | 0 0 0 0.0",
                "crm scheduled 1 | 0 0 0 0.0",
                "default available 2 | 2 1 1 0.01",
                "default failed 1 | 2 1 1 0.01",
                "default running 1 | 2 1 1 0.01",
                "erp - 0 | 1 0 0 0.003",
            ])
            let oldestAvailable = try #require(rows.first { $0.0 == "default" && $0.1 == "available" }?.3)
            #expect((3600..<3610).contains(oldestAvailable), "the oldest available job was created an hour ago")
        }
    }

    @Test("workers_live shows only workers whose heartbeat is within their lease, with their running jobs")
    func workersLive() async throws {
        try await withMigratedDatabase { _, db in
            let live = try await db.insertWorker(hostname: "erp-sync-1", pid: 11)
            let stopping = try await db.insertWorker(hostname: "erp-sync-2", pid: 22, heartbeatAgo: 20, stopping: true)
            let gone = try await db.insertWorker(hostname: "erp-sync-3", pid: 33, heartbeatAgo: 31)
            for worker in [live, live, gone] { _ = try await db.insert(TestJob(state: "running", workerID: worker)) }
            _ = try await db.insert(TestJob(state: "completed", workerID: live))
            let rows = try await db.query("""
                SELECT id, hostname, pid, running, stopping, extract(epoch FROM heartbeat_age)::float8
                FROM couplet.workers_live ORDER BY hostname
                """).map { try $0.decode((UUID, String, Int, Int, Bool, Double).self) }
            #expect(rows.map(\.0) == [live, stopping])
            #expect(rows.map(\.1) == ["erp-sync-1", "erp-sync-2"])
            #expect(rows.map(\.3) == [2, 0])
            #expect(rows.map(\.4) == [false, true])
            // The heartbeats were written a moment ago: allow for the time the test itself takes.
            let ages = rows.map(\.5)
            #expect(ages.count == 2 && (0..<10).contains(ages[0]) && (20..<30).contains(ages[1]), "heartbeat ages \(ages)")
        }
    }
}
