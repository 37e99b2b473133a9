import Foundation
import Postgres

/// The queue's statements on `couplet.jobs`: enqueue, claim, finish, heartbeat and maintenance.
///
/// Every statement takes the connection to run on, so enqueueing can share the caller's
/// transaction: the job exists exactly when the caller's own writes commit.
public enum JobQueue {
    /// The channel that wakes workers; the payload is the queue that has new work.
    public static let wakeChannel = try! PostgresIdentifier("couplet_jobs")
    /// The channel that asks a worker to stop a running job; the payload is the job id.
    public static let cancelChannel = try! PostgresIdentifier("couplet_cancel")

    // MARK: Enqueue

    /// Enqueues one job and returns its id. With a `uniqueKey` that a pending or running job
    /// holds, nothing is inserted and that job's id is returned (race-free: a unique index decides).
    /// Arguments beyond `limits` are refused before they are sent (`JobArgumentsRefusal`).
    @discardableResult
    public static func enqueue(
        _ job: NewJob, limits: JobArgumentLimits = JobArgumentLimits(), on connection: PostgresConnection
    ) async throws -> Int64 {
        try limits.check(job.arguments)
        return try await connection.query(
            """
            SELECT couplet.enqueue(\(job.kind), \(job.arguments)::jsonb, \(job.queue), \(job.priority)::int, \(job.runAt),
                \(job.maxAttempts)::int, \(job.uniqueKey), \(job.concurrencyKey),
                \(job.timeout), \(job.expiresAt), \(job.scheduleName))
            """, name: "enqueue job"
        ).single().decode(Int64.self, at: 0)
    }

    /// Enqueues many jobs in one statement and returns the ids of those inserted; a job whose
    /// `uniqueKey` is held by a pending or running job is skipped. Arguments beyond `limits` are
    /// refused, and nothing enqueued, before anything is sent.
    @discardableResult
    public static func enqueue(
        _ jobs: [NewJob], limits: JobArgumentLimits = JobArgumentLimits(), on connection: PostgresConnection
    ) async throws -> [Int64] {
        guard !jobs.isEmpty else { return [] }
        for job in jobs { try limits.check(job.arguments) }
        // Rows without a unique key cannot conflict; without any, the insert skips the speculative
        // insertion ON CONFLICT costs every row (a fifth of the statement's time).
        let skipHeldKeys: PostgresQuery = jobs.contains { $0.uniqueKey != nil } ? """
            ON CONFLICT (unique_key)
                WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'available', 'running', 'retryable', 'on_hold')
                DO NOTHING
            """ : ""
        return try await connection.query(
            """
            INSERT INTO couplet.jobs (kind, args, queue, priority, run_at, state, max_attempts, unique_key,
                                      concurrency_key, timeout, expires_at, schedule_name)
            SELECT kind, args::jsonb, queue, priority, coalesce(run_at, now()),
                   CASE WHEN run_at > now() THEN 'scheduled' ELSE 'available' END,
                   max_attempts, unique_key, concurrency_key, timeout, expires_at, schedule_name
            FROM unnest(\(jobs.map(\.kind)), \(jobs.map(\.arguments)), \(jobs.map(\.queue)), \(jobs.map(\.priority)),
                        \(jobs.map(\.runAt)), \(jobs.map(\.maxAttempts)), \(jobs.map(\.uniqueKey)),
                        \(jobs.map(\.concurrencyKey)), \(jobs.map(\.timeout)), \(jobs.map(\.expiresAt)),
                        \(jobs.map(\.scheduleName)))
                 AS j(kind, args, queue, priority, run_at, max_attempts, unique_key, concurrency_key, timeout,
                      expires_at, schedule_name)
            \(skipHeldKeys)
            RETURNING id
            """, name: "enqueue jobs"
        ).map { try $0.decode(Int64.self, at: 0) }
    }

    // MARK: Claim and finish

    /// The queues that hold pending (available, scheduled or retryable) jobs, in name order: a skip
    /// scan of the claim index, one index probe per queue, however many jobs wait.
    public static func pendingQueues(on connection: PostgresConnection) async throws -> [String] {
        try await connection.query(
            """
            WITH RECURSIVE pending(queue) AS (
                (SELECT queue FROM couplet.jobs WHERE state IN ('available', 'scheduled', 'retryable') ORDER BY queue LIMIT 1)
                UNION ALL
                SELECT (SELECT j.queue FROM couplet.jobs j
                        WHERE j.state IN ('available', 'scheduled', 'retryable') AND j.queue > pending.queue
                        ORDER BY j.queue LIMIT 1)
                FROM pending WHERE pending.queue IS NOT NULL
            )
            SELECT queue FROM pending WHERE queue IS NOT NULL
            """, name: "pending queues"
        ).map { try $0.decode(String.self, at: 0) }
    }

    /// Claims up to `limit` due jobs from `queue` for `workerID`, in priority order, in one
    /// statement: `FOR NO KEY UPDATE SKIP LOCKED` on the partial index of pending jobs (one queue
    /// per statement, so the scan follows the index's order and stops after `limit` rows), at
    /// most one job per concurrency key and none whose key is already running, none past `expires_at`.
    /// The jobs are covered by the worker's lease (`couplet.workers`), not one of their own.
    public static func claim(
        limit: Int, queue: String, workerID: UUID, on connection: PostgresConnection
    ) async throws -> [ClaimedJob] {
        let rows = try await connection.query(
            """
            WITH candidates AS MATERIALIZED (
                SELECT j.id, j.concurrency_key, j.priority, j.run_at
                FROM couplet.jobs j
                WHERE j.state IN ('available', 'scheduled', 'retryable')
                  AND j.queue = \(queue)
                  AND j.run_at <= now()
                  AND (j.expires_at IS NULL OR j.expires_at > now())
                  AND (j.concurrency_key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM couplet.jobs r WHERE r.concurrency_key = j.concurrency_key AND r.state = 'running'))
                ORDER BY j.priority, j.run_at, j.id
                LIMIT \(limit)
                FOR NO KEY UPDATE OF j SKIP LOCKED
            ), chosen AS (
                SELECT id FROM (
                    SELECT id, concurrency_key,
                           row_number() OVER (PARTITION BY concurrency_key ORDER BY priority, run_at, id) AS rank
                    FROM candidates) ranked
                WHERE concurrency_key IS NULL OR rank = 1
            )
            UPDATE couplet.jobs j
            SET state = 'running', attempt = j.attempt + 1, worker_id = \(workerID), attempted_at = now(),
                cancel_requested_at = NULL
            FROM chosen
            WHERE j.id = chosen.id
            RETURNING j.id, j.kind, j.queue, j.args::text, j.attempt, j.max_attempts,
                      extract(epoch FROM j.timeout)::float8, j.created_at, j.concurrency_key,
                      extract(epoch FROM j.retry_delay)::float8, greatest(extract(epoch FROM now() - j.run_at), 0)::float8
            """, name: "claim jobs")
        return try rows.map { row in
            let (id, kind, queue, arguments, attempt, maxAttempts, timeout, createdAt, concurrencyKey, retryDelay, waited) = try row.decode(
                (Int64, String, String, String, Int, Int, Double?, Date, String?, Double?, Double).self)
            return ClaimedJob(
                id: id, kind: kind, queue: queue, arguments: arguments, attempt: attempt, maxAttempts: maxAttempts,
                timeout: timeout.map { .milliseconds(Int64($0 * 1000)) }, createdAt: createdAt,
                concurrencyKey: concurrencyKey, retryDelay: retryDelay.map { .milliseconds(Int64($0 * 1000)) },
                queueWait: .seconds(waited))
        }
    }

    /// Writes the outcomes of many attempts in one statement and logs each in `couplet.job_attempts`.
    ///
    /// Each write is fenced on `state = 'running' AND attempt = n`: an outcome for an attempt that
    /// was rescued (and perhaps claimed again) is refused, so an old owner can never overwrite it.
    /// The jobs are reached through their primary key (`id = ANY`) and joined to the outcomes'
    /// `unnest` directly, in id order, so the statement touches only its own rows, locks them in the
    /// same order as any other finish, and re-checks a row another transaction changed on its own.
    /// Returns the ids whose outcome was accepted.
    @discardableResult
    public static func finish(_ outcomes: [JobOutcome], on connection: PostgresConnection) async throws -> Set<Int64> {
        guard !outcomes.isEmpty else { return [] }
        let outcomes = outcomes.sorted { $0.jobID < $1.jobID }
        let rows = try await connection.query(
            """
            WITH finished AS (
                UPDATE couplet.jobs j
                SET state = o.state,
                    run_at = coalesce(o.run_at, j.run_at),
                    attempt = CASE WHEN o.state = 'available' THEN j.attempt - 1 ELSE j.attempt END,
                    errors = CASE WHEN o.error_message IS NULL THEN j.errors ELSE j.errors || jsonb_build_array(
                        jsonb_build_object('attempt', j.attempt, 'at', now(), 'kind', o.error_code, 'error', o.error_message)) END,
                    finished_at = CASE WHEN o.state IN ('completed', 'failed', 'cancelled') THEN now() END,
                    cancel_requested_at = NULL,
                    result = CASE WHEN o.state = 'completed' AND o.idle THEN '{"idle": true}'::jsonb END
                FROM unnest(\(outcomes.map(\.jobID)), \(outcomes.map(\.attempt)), \(outcomes.map(\.state.rawValue)),
                            \(outcomes.map(\.runAt)), \(outcomes.map { $0.error?.code.description }),
                            \(outcomes.map { $0.error?.message }), \(outcomes.map(\.isIdle)))
                     AS o(id, attempt, state, run_at, error_code, error_message, idle)
                WHERE j.id = ANY(\(outcomes.map(\.jobID))) AND j.id = o.id AND j.state = 'running' AND j.attempt = o.attempt
                RETURNING j.id, o.attempt, j.kind, j.queue, j.worker_id, j.attempted_at, o.state, o.error_code,
                          o.error_message, j.concurrency_key
            ), logged AS (
                INSERT INTO couplet.job_attempts (job_id, attempt, kind, queue, worker_id, started_at, outcome, error)
                SELECT id, attempt, kind, queue, worker_id, attempted_at,
                       CASE state WHEN 'retryable' THEN 'retry' WHEN 'available' THEN 'released' ELSE state END,
                       CASE WHEN error_message IS NOT NULL THEN jsonb_build_object('kind', error_code, 'error', error_message) END
                FROM finished
            )
            SELECT id, CASE WHEN concurrency_key IS NOT NULL OR state = 'available' THEN pg_notify('couplet_jobs', queue) END
            FROM finished
            """, name: "finish jobs")
        return Set(try rows.map { try $0.decode(Int64.self, at: 0) })
    }

    // MARK: Workers

    /// Records a starting worker process.
    static func register(_ worker: WorkerRegistration, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO couplet.workers (id, hostname, pid, queues, concurrency, lease)
            VALUES (\(worker.id), \(worker.hostname), \(worker.pid), \(worker.queues), \(worker.concurrency),
                    \(worker.lease))
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), stopping_at = NULL
            """, name: "register worker")
    }

    /// Marks the worker as stopping, for people watching `workers_live`.
    static func markStopping(_ workerID: UUID, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE couplet.workers SET stopping_at = now() WHERE id = \(workerID)", name: "mark worker stopping")
    }

    /// Removes a worker that stopped cleanly.
    static func deregister(_ workerID: UUID, on connection: PostgresConnection) async throws {
        try await connection.query("DELETE FROM couplet.workers WHERE id = \(workerID)", name: "deregister worker")
    }

    /// Proves the worker alive, which extends the lease of all its running jobs: it updates the
    /// worker's own row and only reads its jobs, so it never waits on a statement writing them (a
    /// finish). Returns whether the worker's row still exists and which of its attempts a person
    /// asked to cancel.
    static func heartbeat(
        _ workerID: UUID, on connection: PostgresConnection
    ) async throws -> (registered: Bool, cancelRequested: [JobAttemptID]) {
        let (registered, jobs, attempts) = try await connection.query(
            """
            WITH worker AS (
                UPDATE couplet.workers SET heartbeat_at = now() WHERE id = \(workerID) RETURNING id
            )
            SELECT EXISTS (SELECT 1 FROM worker), coalesce(array_agg(id), '{}'), coalesce(array_agg(attempt), '{}')
            FROM couplet.jobs
            WHERE worker_id = \(workerID) AND state = 'running' AND cancel_requested_at IS NOT NULL
            """, name: "heartbeat"
        ).single().decode((Bool, [Int64], [Int]).self)
        return (registered, zip(jobs, attempts).map { JobAttemptID(job: $0, attempt: $1) })
    }

    /// The running jobs of `workerID` that a person asked to cancel (`couplet.cancel_job`): read when
    /// a cancel notification arrives, and by a listener that was not listening (starting, reconnecting).
    static func cancelRequested(_ workerID: UUID, on connection: PostgresConnection) async throws -> [JobAttemptID] {
        try await connection.query(
            """
            SELECT id, attempt FROM couplet.jobs
            WHERE worker_id = \(workerID) AND state = 'running' AND cancel_requested_at IS NOT NULL
            """, name: "cancel requests"
        ).map { row in
            let (job, attempt) = try row.decode((Int64, Int).self)
            return JobAttemptID(job: job, attempt: attempt)
        }
    }

    // MARK: Maintenance

    /// Runs `body` only if no other process is doing maintenance right now (a transaction-level
    /// advisory lock, so it also works behind PgBouncer in transaction mode). Returns nil when skipped.
    static func asMaintenanceLeader<T: Sendable>(
        on connection: PostgresConnection, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T? {
        try await connection.withTransaction { transaction in
            let leader = try await transaction.query(
                "SELECT pg_try_advisory_xact_lock(\(Self.maintenanceLockKey))", name: "lock maintenance"
            ).single().decode(Bool.self, at: 0)
            return leader ? try await body(transaction) : nil
        }
    }

    private static let maintenanceLockKey = 0x636F_7570_6C65_7401

    /// Puts running jobs whose worker's lease expired (it died or lost the database: its last
    /// heartbeat is older than its lease, or its row is gone) back to available, or to failed when
    /// their attempts are used up; logs each as `rescued`. Returns how many jobs were rescued.
    static func rescueExpiredLeases(on connection: PostgresConnection) async throws -> Int {
        try await connection.query(
            """
            WITH lost AS (
                UPDATE couplet.jobs j
                SET state = CASE WHEN j.attempt >= j.max_attempts THEN 'failed' ELSE 'available' END,
                    run_at = now(),
                    finished_at = CASE WHEN j.attempt >= j.max_attempts THEN now() END,
                    errors = j.errors || jsonb_build_array(jsonb_build_object(
                        'attempt', j.attempt, 'at', now(), 'kind', 'rescued',
                        'error', 'the worker running it stopped heartbeating; its lease expired'))
                WHERE j.state = 'running'
                  AND NOT EXISTS (SELECT 1 FROM couplet.workers w WHERE w.id = j.worker_id AND w.heartbeat_at > now() - w.lease)
                RETURNING j.id, j.attempt, j.kind, j.queue, j.worker_id, j.attempted_at
            ), logged AS (
                INSERT INTO couplet.job_attempts (job_id, attempt, kind, queue, worker_id, started_at, outcome, error)
                SELECT id, attempt, kind, queue, worker_id, attempted_at, 'rescued',
                       jsonb_build_object('kind', 'rescued', 'error', 'the worker stopped heartbeating; its lease expired')
                FROM lost
            )
            SELECT count(pg_notify('couplet_jobs', queue)) FROM lost
            """, name: "rescue jobs"
        ).single().decode(Int.self, at: 0)
    }

    /// Cancels pending jobs that were not started before their `expires_at`; returns how many.
    static func cancelExpired(on connection: PostgresConnection) async throws -> Int {
        try await connection.query(
            """
            UPDATE couplet.jobs
            SET state = 'cancelled', finished_at = now(),
                errors = errors || jsonb_build_array(jsonb_build_object(
                    'attempt', attempt, 'at', now(), 'kind', 'expired', 'error', 'not started before it expired at ' || expires_at))
            WHERE expires_at <= now() AND state IN ('scheduled', 'available', 'retryable', 'on_hold')
            """, name: "cancel expired jobs"
        ).affectedRows
    }

    /// Deletes finished jobs, their attempts and long-gone workers older than `retention`, at most
    /// `batch` jobs per call so the delete never holds locks for long. Returns the jobs deleted.
    static func prune(olderThan retention: Duration, batch: Int = 10_000, on connection: PostgresConnection) async throws -> Int {
        try await connection.query(
            """
            WITH old AS (
                SELECT id FROM couplet.jobs
                WHERE state IN ('completed', 'failed', 'cancelled')
                  AND finished_at < now() - \(retention)
                ORDER BY finished_at
                LIMIT \(batch)
            ), jobs AS (
                DELETE FROM couplet.jobs j USING old WHERE j.id = old.id RETURNING j.id
            ), attempts AS (
                DELETE FROM couplet.job_attempts a USING jobs WHERE a.job_id = jobs.id
            ), workers AS (
                DELETE FROM couplet.workers WHERE heartbeat_at < now() - \(retention)
            )
            SELECT count(*) FROM jobs
            """, name: "prune jobs"
        ).single().decode(Int.self, at: 0)
    }
}

/// A worker process as it registers in `couplet.workers`.
struct WorkerRegistration: Sendable {
    var id: UUID
    var hostname: String
    var pid: Int32
    var queues: [String]
    var concurrency: Int
    var lease: Duration
}

/// The result of one attempt, as a worker writes it back.
public struct JobOutcome: Sendable {
    /// The job.
    public var jobID: Int64
    /// The attempt this outcome belongs to: the fence.
    public var attempt: Int
    /// completed, retryable, failed, cancelled, or available (released on shutdown).
    public var state: JobState
    /// When a retryable job runs next.
    public var runAt: Date?
    /// What went wrong, for any state but completed.
    public var error: JobError?
    /// The completed attempt found nothing to do (`JobContext.reportIdle()`).
    public var isIdle: Bool

    /// Describes an outcome.
    public init(jobID: Int64, attempt: Int, state: JobState, runAt: Date? = nil, error: JobError? = nil, isIdle: Bool = false) {
        self.jobID = jobID
        self.attempt = attempt
        self.state = state
        self.runAt = runAt
        self.error = error
        self.isIdle = isIdle
    }
}
