import Postgres
import PostgresTestSupport
import Testing

@Suite("Connection pool: only idle, live connections are lent")
struct ConnectionPoolTests {
    @Test("a body cancelled mid-transaction leaves nothing for the next borrower to commit")
    func cancelledTransaction() async throws {
        try await TestDatabase.with { database in
            let pool = PostgresConnectionPool(database.configuration, maximumConnections: 1)
            defer { pool.close() }
            try await pool.withConnection { db in try await db.query("CREATE TABLE log (entry text)") }
            try await cancelInsideTransaction(of: pool, inserting: "cancelled")
            try await pool.withConnection { db in
                try await db.withTransaction { tx in try await tx.query("INSERT INTO log VALUES ('next')") }
            }
            #expect(try await committedEntries(in: database) == ["next"])
        }
    }

    @Test("a connection handed back inside a transaction is not lent again")
    func transactionLeftOpen() async throws {
        try await TestDatabase.with { database in
            let pool = PostgresConnectionPool(database.configuration, maximumConnections: 1)
            defer { pool.close() }
            try await pool.withConnection { db in
                try await db.query("CREATE TABLE log (entry text)")
                try await db.runScript("BEGIN; INSERT INTO log VALUES ('left open')", name: "leave a transaction open")
            }
            try await pool.withConnection { db in
                try await db.withTransaction { tx in try await tx.query("INSERT INTO log VALUES ('next')") }
            }
            #expect(try await committedEntries(in: database) == ["next"])
        }
    }

    @Test("an idle connection the server terminated (as in a restart) is replaced before it is lent")
    func terminatedWhileIdle() async throws {
        try await TestDatabase.with { database in
            let pool = PostgresConnectionPool(database.configuration, maximumConnections: 1)
            defer { pool.close() }
            let pid = try await pool.withConnection { db in db.backendPID }
            try await terminate(pid, in: database)
            let (answer, newPID) = try await pool.withConnection { db in
                (try await db.query("SELECT 41 + 1").single().decode(Int.self, at: 0), db.backendPID)
            }
            #expect(answer == 42)
            #expect(newPID != pid)
        }
    }

    /// Runs a body on `pool` that inserts `entry` in a transaction and is cancelled while the transaction is open.
    private func cancelInsideTransaction(of pool: PostgresConnectionPool, inserting entry: String) async throws {
        let (inserted, signal) = AsyncStream.makeStream(of: Void.self)
        let body = Task {
            try await pool.withConnection { db in
                try await db.withTransaction { tx in
                    try await tx.query("INSERT INTO log VALUES (\(entry))")
                    signal.yield()
                    try await Task.sleep(for: .seconds(30))
                }
            }
        }
        for await _ in inserted { break }
        body.cancel()
        _ = await body.result
    }

    /// The entries another session sees: only what was committed.
    private func committedEntries(in database: TestDatabase) async throws -> [String] {
        let observer = try await database.connect()
        defer { observer.close() }
        return try await observer.query("SELECT entry FROM log ORDER BY entry").map { try $0.decode(String.self, at: 0) }
    }

    /// Terminates the session `pid` and waits until its backend has exited.
    private func terminate(_ pid: Int32, in database: TestDatabase) async throws {
        let admin = try await database.connect()
        defer { admin.close() }
        try await admin.query("SELECT pg_terminate_backend(\(pid))")
        while try await admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = \(pid)").single().decode(Int.self, at: 0) > 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
