import Foundation
import Postgres

/// Job kinds for trying out and measuring a deployment: they touch nothing but what their
/// arguments name. `couplet worker` registers them beside the sync kinds.
public enum DiagnosticHandlers {
    /// Registers `diagnostic.noop`, `diagnostic.sleep` and `diagnostic.record`.
    public static func register(in registry: inout JobRegistry) {
        registry.register(NoopHandler())
        registry.register(SleepHandler())
        registry.register(RecordHandler())
    }
}

/// `diagnostic.noop`: does nothing; measures the queue itself.
struct NoopHandler: JobHandler {
    struct Arguments: Codable, Sendable {}
    static let kind = "diagnostic.noop"
    func run(_ arguments: Arguments, context: JobContext) async throws {}
}

/// `diagnostic.sleep`: `{"milliseconds": 500, "fail": false}` sleeps (cancellably), then succeeds or throws.
struct SleepHandler: JobHandler {
    struct Arguments: Codable, Sendable {
        var milliseconds: Int
        var fail: Bool?
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String { "diagnostic.sleep was asked to fail" }
    }

    static let kind = "diagnostic.sleep"
    var retryPolicy: RetryPolicy { RetryPolicy(backoff: .fixed(.milliseconds(100)), jitter: 0) }

    func run(_ arguments: Arguments, context: JobContext) async throws {
        try await Task.sleep(for: .milliseconds(arguments.milliseconds))
        if arguments.fail == true { throw Failure() }
    }
}

/// `diagnostic.record`: `{"table": "runs", "milliseconds": 0}` inserts `(job_id, attempt, worker_id,
/// exclusive)` into the named table, so a test can count executions. `exclusive` says whether no other
/// job with the same concurrency key was inside its handler at the same time (an advisory lock
/// held across the optional sleep proves it).
struct RecordHandler: JobHandler {
    struct Arguments: Codable, Sendable {
        var table: String
        var milliseconds: Int?
    }

    static let kind = "diagnostic.record"

    func run(_ arguments: Arguments, context: JobContext) async throws {
        let table = try PostgresIdentifier(qualified: arguments.table)
        let job = context.job
        try await context.database.withConnection { connection in
            let lockKey = job.concurrencyKey ?? "job \(job.id)"
            let exclusive = try await connection.query(
                "SELECT pg_try_advisory_lock(hashtextextended(\(lockKey), 0))", name: "diagnostic lock"
            ).single().decode(Bool.self, at: 0)
            if let milliseconds = arguments.milliseconds { try await Task.sleep(for: .milliseconds(milliseconds)) }
            try await connection.query(
                "INSERT INTO \(table) (job_id, attempt, worker_id, exclusive) VALUES (\(job.id), \(job.attempt), \(context.workerID), \(exclusive))",
                name: "diagnostic record")
            if exclusive {
                try await connection.query("SELECT pg_advisory_unlock(hashtextextended(\(lockKey), 0))", name: "diagnostic unlock")
            }
        }
    }
}
