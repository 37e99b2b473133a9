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

    @Test("args beyond 1 MiB of text or 64 levels of nesting are refused, however they are written", arguments: [
        "SELECT couplet.enqueue('k', $1::jsonb)",
        "INSERT INTO couplet.jobs (kind, args) VALUES ('k', $1::jsonb)",
        "INSERT INTO couplet.schedules (name, expression, job_kind, args) VALUES ('s', '@daily', 'k', $1::jsonb)",
    ])
    func argsLimits(statement: String) async throws {
        try await withMigratedDatabase { _, db in
            let tooLong = #"{"ids": ""# + String(repeating: "x", count: 1_048_576) + #""}"#
            let tooDeep = #"{"a": "# + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
            for (args, message) in [
                (tooLong, "job args are 1048587 bytes, more than the 1048576 that couplet.max_job_args_bytes allows"),
                (tooDeep, "job args nest arrays and objects deeper than 64 levels"),
            ] {
                let error = await #expect(throws: PostgresError.self) {
                    try await db.query(PostgresQuery(unsafeSQL: statement, bindings: [PostgresBinding(args)]))
                }
                #expect(error?.sqlState == "54000")
                #expect(error?.message == message)
            }
            let deepest = #"{"a": "# + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "}"
            try await db.query(PostgresQuery(unsafeSQL: statement, bindings: [PostgresBinding(deepest)]))
        }
    }

    @Test("the setting couplet.max_job_args_bytes moves the size limit, and an update of args is checked too")
    func argsLimitSetting() async throws {
        try await withMigratedDatabase { _, db in
            let args = #"{"ids": ""# + String(repeating: "x", count: 2_000_000) + #""}"#
            try await db.query("SET couplet.max_job_args_bytes = '4194304'")
            #expect(try await db.query("SELECT couplet.max_job_args_bytes()").single().decode(Int.self, at: 0) == 4_194_304)
            let id = try await db.query("SELECT couplet.enqueue('k', \(args)::jsonb)").single().decode(Int64.self, at: 0)
            try await db.query("RESET couplet.max_job_args_bytes")
            let error = await #expect(throws: PostgresError.self) {
                try await db.query("UPDATE couplet.jobs SET args = args || jsonb_build_object('more', 1) WHERE id = \(id)")
            }
            #expect(error?.sqlState == "54000")
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
