import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Queue

@Suite("Job lists and changes")
struct JobChangeTests {
    /// Enqueues a job of `kind` for `mapping` and puts it in `state` as a worker would have.
    private func job(_ kind: String, mapping: String? = nil, state: String, on db: PostgresConnection) async throws -> Int64 {
        let arguments = mapping.map { #"{"mapping": "\#($0)"}"# } ?? "{}"
        let id = try await JobQueue.enqueue(NewJob(kind: kind, argumentsJSON: arguments), on: db)
        try await db.query("UPDATE couplet.jobs SET state = \(state), finished_at = CASE WHEN \(state) IN ('failed', 'completed') THEN now() END WHERE id = \(id)")
        return id
    }

    @Test("the list filters on state, kind, queue and the mapping the arguments name, newest first, at most the limit")
    func list() async throws {
        try await withMigratedDatabase { _, db in
            let customer = try await job("sync.delta", mapping: "CUSTOMER", state: "failed", on: db)
            let item = try await job("sync.delta", mapping: "ITEM", state: "failed", on: db)
            _ = try await job("diagnostic.noop", state: "completed", on: db)
            #expect(try await JobList.jobs(JobFilter(status: .failed), on: db).map(\.id) == [item, customer])
            #expect(try await JobList.jobs(JobFilter(mapping: "CUSTOMER"), on: db).map(\.id) == [customer])
            #expect(try await JobList.jobs(JobFilter(kind: "sync.delta", limit: 1), on: db).map(\.id) == [item])
            #expect(try await JobList.count(JobFilter(kind: "sync.delta"), on: db) == 2)
            #expect(try await JobList.jobs(JobFilter(queue: "elsewhere"), on: db).isEmpty)
        }
    }

    @Test("a bulk change applies the function to every matching job beyond one batch and reports refusals by reason")
    func bulk() async throws {
        try await withMigratedDatabase { _, db in
            try await db.query(
                """
                INSERT INTO couplet.jobs (kind, args, state, finished_at)
                SELECT 'sync.delta', '{"mapping": "CUSTOMER"}', 'failed', now() FROM generate_series(1, \(JobChange.batchSize + 20))
                """)
            let running = try await job("sync.delta", mapping: "CUSTOMER", state: "running", on: db)
            let other = try await job("sync.delta", mapping: "ITEM", state: "failed", on: db)
            let retried = try await JobChange.retry.applyToMatching(JobFilter(status: .failed, mapping: "CUSTOMER"), on: db)
            #expect(retried.changed == JobChange.batchSize + 20 && retried.refusedCount == 0)
            #expect(try await JobList.count(JobFilter(status: .available, mapping: "CUSTOMER"), on: db) == JobChange.batchSize + 20)
            #expect(try await JobList.state(of: other, on: db)?.state == "failed", "a job outside the filter is left alone")
            let held = try await JobChange.hold.applyToMatching(JobFilter(mapping: "CUSTOMER"), on: db)
            #expect(held.changed == JobChange.batchSize + 20)
            #expect(held.refused == ["it is running": 1])
            #expect(try await JobList.state(of: running, on: db)?.state == "running")
        }
    }

    @Test("one change returns the new state; a refusal carries the server's message and hint")
    func single() async throws {
        try await withMigratedDatabase { _, db in
            let id = try await job("diagnostic.noop", state: "failed", on: db)
            #expect(try await JobChange.retry.apply(to: id, on: db) == "available")
            await #expect(throws: JobChangeRefused.self) { try await JobChange.resume.apply(to: id, on: db) }
            do {
                _ = try await JobChange.retry.apply(to: id + 100, on: db)
                Issue.record("retrying a job that does not exist succeeded")
            } catch let refusal as JobChangeRefused {
                #expect(refusal.message == "job \(id + 100) does not exist")
                #expect(refusal.hint?.contains("pruned") == true)
            }
        }
    }
}
