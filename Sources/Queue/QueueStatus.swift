import Foundation
import Postgres

/// One queue's jobs that need no history to count.
public struct QueueLine: Sendable, Equatable {
    public var queue: String
    /// Due and not running (they wait for a worker, or for their concurrency key).
    public var waiting: Int
    /// Pending, not due yet.
    public var scheduled: Int
    public var running: Int
    public var onHold: Int
    /// Failed for good and not yet pruned.
    public var failed: Int
    /// How long the longest-waiting due job has been due, in seconds.
    public var oldestWaiting: Double?
    /// Jobs completed in the last five minutes.
    public var completedRecently: Int
}

/// A worker process as `couplet.workers` knows it.
public struct WorkerLine: Sendable, Equatable {
    public var id: UUID
    public var hostname: String
    public var pid: Int
    public var queues: [String]
    public var concurrency: Int
    public var running: Int
    /// Seconds since its last heartbeat.
    public var heartbeatAge: Double
    /// Shutting down gracefully.
    public var isStopping: Bool
    /// Heartbeating within its lease (`couplet.workers_live`); else stale: it died or lost the database.
    public var isLive: Bool
}

/// Jobs of one queue that finished within one time bucket.
public struct ThroughputBucket: Sendable, Equatable {
    public var queue: String
    /// The bucket's start.
    public var start: Date
    /// Completed in the bucket.
    public var completed: Int
    /// Failed for good in the bucket.
    public var failed: Int
    /// Cancelled in the bucket.
    public var cancelled: Int
}

/// The queue's read models for status screens: per queue counts, the workers, recent throughput.
public enum QueueStatus {
    /// Per queue: pending jobs split into due and not yet due, running, on hold and failed jobs, and
    /// those completed in the last five minutes — what `couplet.queue_summary` counts, each state read
    /// through the partial index that holds just it (jobs_claimable and jobs_held_or_failed as
    /// index-only scans), never the finished history.
    public static func queues(on connection: PostgresConnection) async throws -> [QueueLine] {
        try await connection.query(
            """
            WITH pending AS (
                SELECT queue, count(*) FILTER (WHERE run_at <= now()) AS waiting, count(*) FILTER (WHERE run_at > now()) AS scheduled,
                       extract(epoch FROM now() - min(run_at) FILTER (WHERE run_at <= now()))::float8 AS oldest_waiting
                FROM couplet.jobs WHERE state IN ('available', 'scheduled', 'retryable') GROUP BY queue
            ), running AS (
                SELECT queue, count(*) AS running FROM couplet.jobs WHERE state = 'running' GROUP BY queue
            ), held_or_failed AS (
                SELECT queue, count(*) FILTER (WHERE state = 'on_hold') AS on_hold, count(*) FILTER (WHERE state = 'failed') AS failed
                FROM couplet.jobs WHERE state IN ('on_hold', 'failed') GROUP BY queue
            ), recent AS (
                SELECT queue, count(*) FILTER (WHERE outcome = 'completed') AS completed
                FROM couplet.job_attempts WHERE finished_at > now() - interval '5 minutes' GROUP BY queue
            ), queues AS (
                SELECT queue FROM pending UNION SELECT queue FROM running UNION SELECT queue FROM held_or_failed UNION SELECT queue FROM recent
            )
            SELECT q.queue, coalesce(p.waiting, 0)::int8, coalesce(p.scheduled, 0)::int8, coalesce(r.running, 0)::int8,
                   coalesce(h.on_hold, 0)::int8, coalesce(h.failed, 0)::int8, p.oldest_waiting, coalesce(c.completed, 0)::int8
            FROM queues q
            LEFT JOIN pending p ON p.queue = q.queue
            LEFT JOIN running r ON r.queue = q.queue
            LEFT JOIN held_or_failed h ON h.queue = q.queue
            LEFT JOIN recent c ON c.queue = q.queue
            ORDER BY 1
            """, name: "status queues"
        ).map { row in
            let (queue, waiting, scheduled, running, onHold, failed, oldest, completed) = try row.decode(
                (String, Int, Int, Int, Int, Int, Double?, Int).self)
            return QueueLine(
                queue: queue, waiting: waiting, scheduled: scheduled, running: running, onHold: onHold, failed: failed,
                oldestWaiting: oldest, completedRecently: completed)
        }
    }

    /// Live workers, and the stale ones heard of in the last 24 hours (older ones are history).
    public static func workers(on connection: PostgresConnection) async throws -> [WorkerLine] {
        try await connection.query(
            """
            SELECT w.id, w.hostname, w.pid::int8, w.queues, w.concurrency::int8,
                   (SELECT count(*) FROM couplet.jobs j WHERE j.worker_id = w.id AND j.state = 'running'),
                   extract(epoch FROM now() - w.heartbeat_at)::float8, w.stopping_at IS NOT NULL,
                   EXISTS (SELECT FROM couplet.workers_live l WHERE l.id = w.id)
            FROM couplet.workers w
            WHERE w.heartbeat_at > now() - interval '24 hours'
            ORDER BY w.hostname, w.pid
            """, name: "status workers"
        ).map { row in
            let (id, hostname, pid, queues, concurrency, running, age, stopping, live) = try row.decode(
                (UUID, String, Int, [String], Int, Int, Double, Bool, Bool).self)
            return WorkerLine(
                id: id, hostname: hostname, pid: pid, queues: queues, concurrency: concurrency, running: running,
                heartbeatAge: age, isStopping: stopping, isLive: live)
        }
    }

    /// Jobs that finished (completed, failed for good, cancelled) in the last `buckets` × `bucketMinutes`
    /// minutes, per queue and bucket, buckets aligned to the epoch; buckets without a job are absent.
    ///
    /// Reads only the window's jobs, through the index `jobs_finished_recently` (finished_at with queue
    /// and state included, so an index-only scan), however much history the table keeps.
    public static func throughput(
        buckets: Int = 12, bucketMinutes: Int = 5, on connection: PostgresConnection
    ) async throws -> [ThroughputBucket] {
        let interval = "\(bucketMinutes) minutes"
        return try await connection.query(
            """
            SELECT queue, date_bin(\(interval)::interval, finished_at, 'epoch') AS bucket,
                   count(*) FILTER (WHERE state = 'completed')::int8, count(*) FILTER (WHERE state = 'failed')::int8,
                   count(*) FILTER (WHERE state = 'cancelled')::int8
            FROM couplet.jobs
            WHERE state IN ('completed', 'failed', 'cancelled')
              AND finished_at >= date_bin(\(interval)::interval, now(), 'epoch') - \(interval)::interval * \(buckets - 1)
            GROUP BY 1, 2
            ORDER BY 1, 2
            """, name: "throughput"
        ).map { row in
            let (queue, start, completed, failed, cancelled) = try row.decode((String, Date, Int, Int, Int).self)
            return ThroughputBucket(queue: queue, start: start, completed: completed, failed: failed, cancelled: cancelled)
        }
    }

    /// Whether job `id` will be run: it is past waiting, or a live worker that is not stopping
    /// claims its queue (a worker's empty `queues` claims every queue). Returns the job's queue too;
    /// nil when there is no such job.
    public static func isServed(job id: Int64, on connection: PostgresConnection) async throws -> (queue: String, served: Bool)? {
        try await connection.query(
            """
            SELECT j.queue, j.state NOT IN ('available', 'scheduled', 'retryable') OR EXISTS (
                SELECT FROM couplet.workers_live w WHERE NOT w.stopping AND (cardinality(w.queues) = 0 OR j.queue = ANY(w.queues)))
            FROM couplet.jobs j WHERE j.id = \(id)
            """, name: "find a worker for the job"
        ).first.map { try $0.decode((String, Bool).self) }
    }
}
