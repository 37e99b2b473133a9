import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Testing

@testable import Queue

/// Inserts a row in a transaction on a pooled connection, then sleeps in the server until cancelled.
private struct TransactionUntilCancelled: JobHandler {
    struct Arguments: Codable, Sendable {}
    static let kind = "test.transaction-until-cancelled"

    func run(_ arguments: Arguments, context: JobContext) async throws {
        try await context.database.withConnection { db in
            try await db.withTransaction { tx in
                try await tx.query("INSERT INTO log VALUES ('cancelled job')")
                try await tx.query("SELECT pg_sleep(30)")
            }
        }
    }
}

@Suite("One job attempt against the database")
struct JobExecutionTests {
    @Test("a handler cancelled by its timeout inside a transaction leaves nothing for the next job to commit")
    func timedOutInTransaction() async throws {
        try await TestDatabase.with { database in
            let pool = PostgresConnectionPool(database.configuration, maximumConnections: 1)
            defer { pool.close() }
            try await pool.withConnection { db in try await db.query("CREATE TABLE log (entry text)") }
            let outcome = await attempt(of: TransactionUntilCancelled(), timeout: .milliseconds(300), pool: pool)
            #expect(outcome.error?.code == .timedOut)
            try await pool.withConnection { db in
                try await db.withTransaction { tx in try await tx.query("INSERT INTO log VALUES ('next job')") }
            }
            let observer = try await database.connect()
            defer { observer.close() }
            let entries = try await observer.query("SELECT entry FROM log").map { try $0.decode(String.self, at: 0) }
            #expect(entries == ["next job"])
        }
    }

    /// Runs one attempt of a job for `handler` with a worker context on `pool`.
    private func attempt<Handler: JobHandler>(
        of handler: Handler, attempt: Int = 1, timeout: Duration? = nil, pool: PostgresConnectionPool
    ) async -> JobOutcome {
        var registry = JobRegistry()
        registry.register(handler)
        let job = ClaimedJob(
            id: 1, kind: Handler.kind, queue: "default", arguments: "{}", attempt: attempt, maxAttempts: 5,
            timeout: timeout, createdAt: Date(), concurrencyKey: nil)
        let context = JobContext(job: job, workerID: UUID(), logger: Logger(label: "test"), database: pool)
        return await JobExecution(job: job, registry: registry, stopRequest: WakeUp()).run(context: context)
    }
}
