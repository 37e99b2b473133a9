import Foundation
import Postgres

/// A job's status as `couplet.job_status` tells it: its state, or a refinement of it — `waiting`
/// (due, another job with its concurrency key runs), `scheduled` (pending, not due yet),
/// `cancelling` (running, cancel requested) or `expired` (pending past its expiry).
public enum JobStatus: String, Sendable, CaseIterable {
    case scheduled, available, running, retryable, completed, failed, cancelled
    case onHold = "on_hold"
    case waiting, cancelling, expired
}

/// Which jobs a list or a bulk change covers; every condition given must hold.
public struct JobFilter: Sendable, Equatable {
    /// Jobs in this state or with this status.
    public var status: JobStatus?
    /// Jobs of this kind, e.g. `sync.delta`.
    public var kind: String?
    /// Jobs on this queue.
    public var queue: String?
    /// Jobs whose arguments name this mapping (`args ->> 'mapping'`).
    public var mapping: String?
    /// At most this many jobs in a list (1 … `maximumLimit`).
    public var limit: Int

    /// The most jobs one list shows.
    public static let maximumLimit = 10_000
    /// The longest kind, queue or mapping name a filter takes; longer text matches nothing anyone stored.
    public static let maximumValueLength = 200

    /// A filter; `limit` is clamped to 1 … `maximumLimit` and text values are cut at `maximumValueLength`.
    public init(status: JobStatus? = nil, kind: String? = nil, queue: String? = nil, mapping: String? = nil, limit: Int = 50) {
        self.status = status
        self.kind = kind.map(Self.bounded)
        self.queue = queue.map(Self.bounded)
        self.mapping = mapping.map(Self.bounded)
        self.limit = min(max(limit, 1), Self.maximumLimit)
    }

    private static func bounded(_ text: String) -> String { String(text.prefix(maximumValueLength)) }

    /// The WHERE condition on `couplet.job_status` (`true` when no condition is set).
    var condition: PostgresQuery {
        var conditions: [PostgresQuery] = ["true"]
        if let status { conditions.append("(state = \(status.rawValue) OR status = \(status.rawValue))") }
        if let queue { conditions.append("queue = \(queue)") }
        if let kind { conditions.append("kind = \(kind)") }
        if let mapping { conditions.append("args ->> 'mapping' = \(mapping)") }
        return PostgresQuery.joined(conditions, separator: " AND ")
    }
}

/// One job in a list, from `couplet.job_status`.
public struct JobSummary: Sendable, Equatable {
    public var id: Int64
    public var kind: String
    /// The mapping its arguments name, if any.
    public var mapping: String?
    public var queue: String
    public var status: String
    /// The running job that holds its concurrency key, while it waits for it.
    public var waitingOnJob: Int64?
    public var priority: Int
    public var attempt: Int
    public var maxAttempts: Int
    /// Seconds since it was created.
    public var ageSeconds: Double
    /// Seconds from now until its `run_at` (negative: in the past).
    public var runAtFromNowSeconds: Double
    /// `host:pid` of its worker while that worker is live.
    public var workerHost: String?
    /// Its last error's message.
    public var lastError: String?
}

/// One error of a job, from `couplet.jobs.errors`, oldest first.
public struct JobErrorEntry: Sendable, Equatable {
    /// The attempt it ended, as stored (text; nil when the element has none).
    public var attempt: String?
    /// When, as stored.
    public var at: String?
    /// The message (an element without one shows as its JSON text).
    public var message: String
}

/// One attempt of a job, from `couplet.job_attempts`.
public struct JobAttemptRecord: Sendable, Equatable {
    public var attempt: Int
    /// `completed`, `retry`, `failed`, `cancelled`, …
    public var outcome: String
    /// The worker's id, or `-`.
    public var worker: String
    public var startedAt: Date?
    public var finishedAt: Date
    /// Seconds from start to finish.
    public var tookSeconds: Double?
    public var error: String?
}

/// Every field of one job as a person reads it, from `couplet.job_status`.
public struct JobDetail: Sendable {
    public var id: Int64
    public var kind: String
    public var queue: String
    public var state: String
    public var status: String
    public var waitingOnJob: Int64?
    public var priority: Int
    public var attempt: Int
    public var maxAttempts: Int
    public var createdAt: Date?
    public var runAt: Date?
    public var attemptedAt: Date?
    public var finishedAt: Date?
    /// The worker's id (text), if it was ever claimed.
    public var workerID: String?
    /// `host:pid` while the worker is live.
    public var workerHost: String?
    public var leaseExpiresAt: Date?
    public var cancelRequestedAt: Date?
    /// The job's own time limit as the server writes an interval.
    public var timeout: String?
    public var expiresAt: Date?
    public var uniqueKey: String?
    public var concurrencyKey: String?
    public var scheduleName: String?
    public var lastError: String?
    /// The mapping its arguments name, if any.
    public var mapping: String?
    /// Its arguments as indented JSON (`{}` when empty).
    public var prettyArguments: String
    /// Its result as indented JSON, if it has one.
    public var prettyResult: String?
    /// The server's clock when read, so ages do not depend on the reader's.
    public var serverNow: Date
}

/// The queue's read models for people: jobs listed by filter, one job's fields, errors and attempts.
public enum JobList {
    /// The jobs matching `filter`, newest first, at most `filter.limit`.
    public static func jobs(_ filter: JobFilter, on connection: PostgresConnection) async throws -> [JobSummary] {
        try await connection.query(
            """
            SELECT id, kind, args ->> 'mapping', queue, status, waiting_on_job, priority, attempt, max_attempts,
                   extract(epoch FROM age)::float8, extract(epoch FROM run_at - now())::float8, worker_host, last_error
            FROM couplet.job_status
            WHERE \(filter.condition)
            ORDER BY id DESC
            LIMIT \(filter.limit)
            """, name: "list jobs"
        ).map { row in
            let (id, kind, mapping, queue, status, waitingOn, priority, attempt, maxAttempts, age, runAt, worker, lastError) = try row.decode(
                (Int64, String, String?, String, String, Int64?, Int, Int, Int, Double, Double, String?, String?).self)
            return JobSummary(
                id: id, kind: kind, mapping: mapping, queue: queue, status: status, waitingOnJob: waitingOn, priority: priority,
                attempt: attempt, maxAttempts: maxAttempts, ageSeconds: age, runAtFromNowSeconds: runAt, workerHost: worker,
                lastError: lastError)
        }
    }

    /// How many jobs match `filter` (all of them, not only a list's `limit`).
    public static func count(_ filter: JobFilter, on connection: PostgresConnection) async throws -> Int {
        try await connection.query("SELECT count(*) FROM couplet.job_status WHERE \(filter.condition)", name: "count jobs")
            .single().decode(Int.self, at: 0)
    }

    /// The job `id`, or nil when there is no such job (never was, or pruned).
    public static func detail(_ id: Int64, on connection: PostgresConnection) async throws -> JobDetail? {
        let rows = try await connection.query(
            """
            SELECT *, timeout::text AS timeout_text, args ->> 'mapping' AS mapping,
                   CASE WHEN args = '{}' THEN '{}' ELSE jsonb_pretty(args) END AS pretty_args,
                   jsonb_pretty(result) AS pretty_result, now() AS server_now
            FROM couplet.job_status WHERE id = \(id)
            """, name: "show job")
        return try rows.first.map(JobDetail.init(row:))
    }

    /// The job's errors, oldest first.
    public static func errors(of id: Int64, on connection: PostgresConnection) async throws -> [JobErrorEntry] {
        try await connection.query(
            """
            SELECT element ->> 'attempt', element ->> 'at', coalesce(element ->> 'error', element #>> '{}')
            FROM couplet.jobs,
                 jsonb_array_elements(CASE jsonb_typeof(errors) WHEN 'array' THEN errors ELSE jsonb_build_array(errors) END) AS element
            WHERE id = \(id)
            """, name: "job errors"
        ).map { row in
            let (attempt, at, message) = try row.decode((String?, String?, String?).self)
            return JobErrorEntry(attempt: attempt, at: at, message: message ?? "")
        }
    }

    /// The job's attempts, in order.
    public static func attempts(of id: Int64, on connection: PostgresConnection) async throws -> [JobAttemptRecord] {
        try await connection.query(
            """
            SELECT attempt, outcome, coalesce(worker_id::text, '-'), started_at, finished_at,
                   extract(epoch FROM finished_at - started_at)::float8, coalesce(error ->> 'error', error #>> '{}')
            FROM couplet.job_attempts WHERE job_id = \(id) ORDER BY attempt, id
            """, name: "job attempts"
        ).map { row in
            let (attempt, outcome, worker, started, finished, took, error) = try row.decode(
                (Int, String, String, Date?, Date, Double?, String?).self)
            return JobAttemptRecord(
                attempt: attempt, outcome: outcome, worker: worker, startedAt: started, finishedAt: finished, tookSeconds: took, error: error)
        }
    }

    /// The job's state and its last error's message; nil when there is no such job.
    public static func state(of id: Int64, on connection: PostgresConnection) async throws -> (state: String, lastError: String?)? {
        try await connection.query("SELECT state, errors -> -1 ->> 'error' FROM couplet.jobs WHERE id = \(id)", name: "job state")
            .first.map { try $0.decode((String, String?).self) }
    }
}

extension JobDetail {
    /// Reads a row of `JobList.detail`'s statement.
    init(row: PostgresRow) throws {
        func column<Value: PostgresDecodable>(_ name: String) throws -> Value { try row.decode(Value.self, column: name) }
        self.init(
            id: try column("id"), kind: try column("kind"), queue: try column("queue"), state: try column("state"),
            status: try column("status"), waitingOnJob: try column("waiting_on_job"), priority: try column("priority"),
            attempt: try column("attempt"), maxAttempts: try column("max_attempts"), createdAt: try column("created_at"),
            runAt: try column("run_at"), attemptedAt: try column("attempted_at"), finishedAt: try column("finished_at"),
            workerID: try column("worker_id"), workerHost: try column("worker_host"), leaseExpiresAt: try column("lease_expires_at"),
            cancelRequestedAt: try column("cancel_requested_at"), timeout: try column("timeout_text"), expiresAt: try column("expires_at"),
            uniqueKey: try column("unique_key"), concurrencyKey: try column("concurrency_key"), scheduleName: try column("schedule_name"),
            lastError: try column("last_error"), mapping: try column("mapping"), prettyArguments: try column("pretty_args"),
            prettyResult: try column("pretty_result"), serverNow: try column("server_now"))
    }
}
