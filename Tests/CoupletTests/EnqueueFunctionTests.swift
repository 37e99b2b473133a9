import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("couplet.enqueue")
struct EnqueueFunctionTests {
    @Test("a unique key returns the pending job's id until that job finishes, then enqueues a new one")
    func uniqueKey() async throws {
        try await withMigratedDatabase { _, db in
            let first = try await db.query("SELECT couplet.enqueue('sync.delta', unique_key => 'delta:CUSTOMER')")
                .single().decode(Int64.self, at: 0)
            let second = try await db.query("SELECT couplet.enqueue('sync.delta', unique_key => 'delta:CUSTOMER')")
                .single().decode(Int64.self, at: 0)
            #expect(second == first)
            try await db.query("UPDATE couplet.jobs SET state = 'completed', finished_at = now() WHERE id = \(first)")
            let third = try await db.query("SELECT couplet.enqueue('sync.delta', unique_key => 'delta:CUSTOMER')")
                .single().decode(Int64.self, at: 0)
            #expect(third != first)
            #expect(try await db.query("SELECT count(*) FROM couplet.jobs").single().decode(Int.self, at: 0) == 2)
        }
    }

    @Test("a run_at in the future makes the job scheduled; now or past makes it available")
    func scheduled() async throws {
        try await withMigratedDatabase { _, db in
            let rows = try await db.query("""
                SELECT couplet.enqueue('sync.full', run_at => now() + interval '1 hour'),
                       couplet.enqueue('sync.full', run_at => now() - interval '1 hour'),
                       couplet.enqueue('sync.full')
                """).single().decode((Int64, Int64, Int64).self)
            #expect(try await db.state(of: rows.0) == (state: "scheduled", status: "scheduled"))
            #expect(try await db.state(of: rows.1) == (state: "available", status: "available"))
            #expect(try await db.state(of: rows.2) == (state: "available", status: "available"))
        }
    }

    @Test("eight connections enqueueing the same unique key at once make exactly one job")
    func concurrentEnqueuers() async throws {
        try await withMigratedDatabase { database, db in
            let connections = try await withThrowingTaskGroup(of: PostgresConnection.self) { group in
                for _ in 0..<8 { group.addTask { try await database.connect() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            defer { connections.forEach { $0.close() } }
            let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
                for connection in connections {
                    group.addTask {
                        // Holding the transaction open a moment makes the others meet the uncommitted row.
                        try await connection.withTransaction { transaction in
                            let id = try await transaction.query("SELECT couplet.enqueue('sync.delta', unique_key => 'delta:VENDOR')")
                                .single().decode(Int64.self, at: 0)
                            try await transaction.query("SELECT pg_sleep(0.05)")
                            return id
                        }
                    }
                }
                return try await group.reduce(into: Set<Int64>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            let count = try await db.query("SELECT count(*) FROM couplet.jobs WHERE unique_key = 'delta:VENDOR'")
                .single().decode(Int.self, at: 0)
            #expect(count == 1)
        }
    }
}
