import Cron
import Foundation
import Postgres
import Sync

/// What `couplet status` shows, read from the coordination database at one moment.
struct StatusSnapshot {
    /// One queue's jobs that need no history to count.
    struct QueueLine {
        var queue: String
        /// Due and not running (they wait for a worker, or for their concurrency key).
        var waiting: Int
        /// Pending, not due yet.
        var scheduled: Int
        var running: Int
        var onHold: Int
        /// Failed for good and not yet pruned.
        var failed: Int
        /// How long the longest-waiting due job has been due, in seconds.
        var oldestWaiting: Double?
        /// Jobs completed in the last five minutes.
        var completedRecently: Int
    }

    /// A worker process as `couplet.workers` knows it.
    struct WorkerLine {
        var id: UUID
        var hostname: String
        var pid: Int
        var queues: [String]
        var concurrency: Int
        var running: Int
        /// Seconds since its last heartbeat.
        var heartbeatAge: Double
        /// Shutting down gracefully.
        var isStopping: Bool
        /// Heartbeating within its lease (`couplet.workers_live`); else stale: it died or lost the database.
        var isLive: Bool
    }

    var takenAt: Date
    var queues: [QueueLine]
    /// Live workers, and stale ones last heard of in the past 24 hours.
    var workers: [WorkerLine]
    var schedules: [StoredSchedule]
    /// Every mapping's health, by name.
    var mappings: [(name: String, health: MappingHealth)]
    /// How live workers' requests stand against the Web API endpoints' service protection limits.
    var endpointLimits: [StoredEndpointLimits]

    /// The Web API endpoints whose limits hold back requests of `worker` right now.
    func endpointsHolding(_ worker: UUID) -> [String] {
        endpointLimits.filter { $0.workerID == worker && $0.statistics.isWaiting }.map(\.statistics.endpoint)
    }

    /// Reads every section.
    static func load(on connection: PostgresConnection) async throws -> StatusSnapshot {
        StatusSnapshot(
            takenAt: Date(), queues: try await queues(on: connection), workers: try await workers(on: connection),
            schedules: try await ScheduleStore.list(on: connection),
            mappings: try await MappingStore.health(on: connection).sorted { $0.key < $1.key }.map { (name: $0.key, health: $0.value) },
            endpointLimits: try await EndpointLimitLog.live(on: connection))
    }

    /// Per queue: the counts of `couplet.queue_summary`, with pending jobs split into due and not yet due.
    private static func queues(on connection: PostgresConnection) async throws -> [QueueLine] {
        try await connection.query(
            """
            WITH summary AS (
                SELECT queue, sum(jobs) FILTER (WHERE state = 'running') AS running,
                       sum(jobs) FILTER (WHERE state = 'on_hold') AS on_hold, sum(jobs) FILTER (WHERE state = 'failed') AS failed,
                       max(completed_last_5_min) AS completed
                FROM couplet.queue_summary GROUP BY queue
            ), pending AS (
                SELECT queue, count(*) FILTER (WHERE run_at <= now()) AS waiting, count(*) FILTER (WHERE run_at > now()) AS scheduled,
                       extract(epoch FROM now() - min(run_at) FILTER (WHERE run_at <= now()))::float8 AS oldest_waiting
                FROM couplet.jobs WHERE state IN ('available', 'scheduled', 'retryable') GROUP BY queue
            )
            SELECT coalesce(s.queue, p.queue), coalesce(p.waiting, 0)::int8, coalesce(p.scheduled, 0)::int8,
                   coalesce(s.running, 0)::int8, coalesce(s.on_hold, 0)::int8, coalesce(s.failed, 0)::int8, p.oldest_waiting,
                   coalesce(s.completed, 0)::int8
            FROM summary s FULL JOIN pending p ON p.queue = s.queue
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
    private static func workers(on connection: PostgresConnection) async throws -> [WorkerLine] {
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
}
