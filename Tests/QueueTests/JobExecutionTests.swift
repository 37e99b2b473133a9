import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Testing

@testable import Queue

/// Runs the closure it is given, retrying a failed attempt after 30 s.
private struct ClosureHandler: JobHandler {
    struct Arguments: Codable, Sendable {}
    static let kind = "test.closure"
    var retryPolicy: RetryPolicy { RetryPolicy(backoff: .fixed(.seconds(30)), jitter: 0) }
    let body: @Sendable (JobContext) async throws -> Void

    func run(_ arguments: Arguments, context: JobContext) async throws { try await body(context) }
}

@Suite("One job attempt against the database")
struct JobExecutionTests {
    @Test("a handler cancelled by its timeout inside a transaction leaves nothing for the next job to commit")
    func timedOutInTransaction() async throws {
        try await TestDatabase.with { database in
            let pool = PostgresConnectionPool(database.configuration, maximumConnections: 1)
            defer { pool.close() }
            try await pool.withConnection { db in try await db.query("CREATE TABLE log (entry text)") }
            let handler = ClosureHandler { context in
                try await context.database.withConnection { db in
                    try await db.withTransaction { tx in
                        try await tx.query("INSERT INTO log VALUES ('cancelled job')")
                        try await tx.query("SELECT pg_sleep(30)")
                    }
                }
            }
            let outcome = await attempt(of: handler, timeout: .milliseconds(300), pool: pool)
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

    @Test("an attempt that failed only because its connection was dropped (as in a restart) is retried at once, and counts")
    func droppedConnectionRetriesAtOnce() async throws {
        try await TestDatabase.with { database in
            let pool = PostgresConnectionPool(database.configuration, maximumConnections: 1)
            defer { pool.close() }
            let terminatesItsSession = ClosureHandler { context in
                try await context.database.withConnection { db in
                    _ = try await db.query("SELECT pg_terminate_backend(pg_backend_pid())")
                }
            }
            let outcome = await attempt(of: terminatesItsSession, attempt: 1, pool: pool)
            #expect(outcome.state == .retryable)
            #expect(outcome.attempt == 1)
            let runAt = try #require(outcome.runAt)
            #expect(runAt.timeIntervalSinceNow < 1, "not after the 30 s backoff")
            let last = await attempt(of: terminatesItsSession, attempt: 5, pool: pool)
            #expect(last.state == .failed, "the last attempt fails for good")
            let answer = try await pool.withConnection { db in try await db.query("SELECT 1").single().decode(Int.self, at: 0) }
            #expect(answer == 1, "the pool replaced the dropped connection")
        }
    }

    @Test("an attempt that cannot reach its database waits out the backoff")
    func unreachableDatabaseBacksOff() async throws {
        let server = try TestDatabase.server()
        let pool = PostgresConnectionPool(server, maximumConnections: 1)
        defer { pool.close() }
        let unreachable = ClosureHandler { _ in
            _ = try await PostgresConnection.connect("postgres://nobody@127.0.0.1:1/none?connect_timeout=2")
        }
        let outcome = await attempt(of: unreachable, pool: pool)
        #expect(outcome.state == .retryable)
        let runAt = try #require(outcome.runAt)
        #expect(runAt.timeIntervalSinceNow > 25)
    }

    @Test("a job's own rerun delay (a schedule's retry_delay) replaces its kind's backoff, without jitter")
    func jobRerunDelay() async throws {
        let pool = PostgresConnectionPool(try TestDatabase.server(), maximumConnections: 1)
        defer { pool.close() }
        let failing = ClosureHandler { _ in throw JobError(.handlerFailed, "the CRM is down", isRetryable: true) }
        for number in [1, 4] {
            let outcome = await attempt(of: failing, attempt: number, retryDelay: .seconds(7), pool: pool)
            #expect(outcome.state == .retryable)
            let wait = try #require(outcome.runAt).timeIntervalSinceNow
            #expect(wait > 6.5 && wait <= 7, "attempt \(number): 7 s, not the kind's fixed 30 s")
        }
        #expect(await attempt(of: failing, attempt: 5, retryDelay: .seconds(7), pool: pool).state == .failed, "attempts still run out")
    }

    /// Runs one attempt of a job for `handler` with a worker context on `pool`.
    private func attempt(
        of handler: ClosureHandler, attempt: Int = 1, timeout: Duration? = nil, retryDelay: Duration? = nil, pool: PostgresConnectionPool
    ) async -> JobOutcome {
        var registry = JobRegistry()
        registry.register(handler)
        let job = ClaimedJob(
            id: 1, kind: ClosureHandler.kind, queue: "default", arguments: "{}", attempt: attempt, maxAttempts: 5,
            timeout: timeout, createdAt: Date(), concurrencyKey: nil, retryDelay: retryDelay)
        let context = JobContext(job: job, workerID: UUID(), logger: Logger(label: "test"), database: pool)
        return await JobExecution(job: job, registry: registry, stopRequest: WakeUp()).run(context: context)
    }
}
