import CoupletSchema
import Foundation
import Postgres
import PostgresTestSupport
import Testing

/// A job row as a test sets it up: only what the test cares about differs from the defaults.
struct TestJob {
    var state = "available"
    var queue = "default"
    var kind = "test.job"
    var uniqueKey: String?
    var concurrencyKey: String?
    /// Seconds from now to run_at (negative: due already).
    var runIn = -1
    /// Seconds from now to expires_at, when it expires.
    var expiresIn: Int?
    var attempt: Int32 = 0
    var maxAttempts: Int32 = 5
    /// The errors column, as JSON.
    var errors = "[]"
    var cancelRequested = false
    var workerID: UUID?
}

extension PostgresConnection {
    /// Inserts `job` directly (any state, bypassing couplet.enqueue) and returns its id.
    func insert(_ job: TestJob) async throws -> Int64 {
        try await query("""
            INSERT INTO couplet.jobs (kind, queue, state, unique_key, concurrency_key, run_at, expires_at, attempt,
                                      max_attempts, errors, cancel_requested_at, worker_id, finished_at)
            VALUES (\(job.kind), \(job.queue), \(job.state), \(job.uniqueKey), \(job.concurrencyKey),
                    now() + \(job.runIn) * interval '1 second', now() + \(job.expiresIn) * interval '1 second',
                    \(job.attempt), \(job.maxAttempts), \(job.errors)::jsonb,
                    CASE WHEN \(job.cancelRequested) THEN now() END, \(job.workerID),
                    CASE WHEN \(job.state)::text IN ('completed', 'failed', 'cancelled') THEN now() END)
            RETURNING id
            """).single().decode(Int64.self, at: 0)
    }

    /// Calls `couplet.<function>(id)` (retry_job, cancel_job, hold_job, resume_job) and returns the state it reports.
    func change(_ function: String, _ id: Int64) async throws -> String {
        let name = try PostgresIdentifier(function, schema: "couplet")
        return try await query("SELECT \(name)(\(id))").single().decode(String.self, at: 0)
    }

    /// The job's state and its status in couplet.job_status.
    func state(of id: Int64) async throws -> (state: String, status: String) {
        try await query("SELECT state, status FROM couplet.job_status WHERE id = \(id)").single().decode((String, String).self)
    }

    /// Inserts a worker whose last heartbeat was `heartbeatAgo` seconds ago, with a 30 s lease.
    func insertWorker(hostname: String, pid: Int32, heartbeatAgo: Int = 0, stopping: Bool = false) async throws -> UUID {
        let id = UUID()
        try await query("""
            INSERT INTO couplet.workers (id, hostname, pid, queues, concurrency, lease, heartbeat_at, stopping_at)
            VALUES (\(id), \(hostname), \(pid), '{default}', 4, interval '30 seconds',
                    now() - \(heartbeatAgo) * interval '1 second', CASE WHEN \(stopping) THEN now() END)
            """)
        return id
    }
}

/// Expects `body` to fail with a server error carrying `sqlState` and exactly `message`.
func expectRefusal(
    _ sqlState: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    let error = await #expect(throws: PostgresError.self, sourceLocation: sourceLocation) { try await body() }
    #expect(error?.sqlState == sqlState, sourceLocation: sourceLocation)
    #expect(error?.message == message, sourceLocation: sourceLocation)
}
