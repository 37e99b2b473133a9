import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("Schema migrations")
struct SchemaMigratorTests {
    static let ledger = try! PostgresIdentifier("schema_migrations", schema: "app")

    /// Three migrations; the second and third record that they ran, so a second application shows.
    static let migrations = [
        SchemaMigration(version: 1, name: "0001_ledger.sql", sql: """
            CREATE SCHEMA app;
            CREATE TABLE app.schema_migrations (version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now());
            CREATE TABLE app.ran (version int);
            """),
        SchemaMigration(version: 2, name: "0002_events.sql", sql: "CREATE TABLE app.events (n int); INSERT INTO app.ran VALUES (2);"),
        SchemaMigration(version: 3, name: "0003_more.sql", sql: "ALTER TABLE app.events ADD COLUMN at timestamptz; INSERT INTO app.ran VALUES (3);"),
    ]

    static func migrator(_ migrations: [SchemaMigration] = migrations) -> SchemaMigrator {
        SchemaMigrator(migrations: migrations, ledger: ledger)
    }

    @Test("pending migrations apply in order, once, and status reports them")
    func appliesInOrder() async throws {
        try await withTestConnection { db throws in
            #expect(try await Self.migrator().status(on: db).map(\.state) == [.pending, .pending, .pending])
            let applied = try await Self.migrator().migrate(on: db)
            #expect(applied.map(\.version) == [1, 2, 3])
            #expect(try await Self.migrator().migrate(on: db).isEmpty)
            let ran = try await db.query("SELECT version FROM app.ran ORDER BY version").map { try $0.decode(Int.self, at: 0) }
            #expect(ran == [2, 3])
            let states = try await Self.migrator().status(on: db).map(\.state)
            #expect(states.allSatisfy { if case .applied = $0 { true } else { false } })
        }
    }

    @Test("the version differences name what the ledger lacks and what the binary does not know")
    func versionDifferences() async throws {
        try await withTestConnection { db throws in
            try await Self.migrator(Array(Self.migrations.prefix(2))).migrate(on: db)
            let behind = try await Self.migrator().versionDifferences(on: db)
            #expect(behind.unapplied == [3] && behind.unknown.isEmpty)
            try await Self.migrator().migrate(on: db)
            #expect(try await Self.migrator().versionDifferences(on: db) == ([], []))
            let older = try await Self.migrator(Array(Self.migrations.prefix(1))).versionDifferences(on: db)
            #expect(older.unapplied.isEmpty && older.unknown == [2, 3])
        }
    }

    @Test("ten migrators racing apply each migration exactly once")
    func concurrentMigrators() async throws {
        try await TestDatabase.with { database in
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        let connection = try await database.connect()
                        defer { connection.close() }
                        return try await Self.migrator().migrate(on: connection).count
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(counts.reduce(0, +) == 3)
            let db = try await database.connect()
            let ran = try await db.query("SELECT version FROM app.ran ORDER BY version").map { try $0.decode(Int.self, at: 0) }
            #expect(ran == [2, 3])
            #expect(try await db.query("SELECT count(*) FROM app.schema_migrations").single().decode(Int.self, at: 0) == 3)
        }
    }

    @Test("a file changed after it was applied stops the run and says which")
    func changedFile() async throws {
        try await withTestConnection { db throws in
            try await Self.migrator(Array(Self.migrations.prefix(2))).migrate(on: db)
            var edited = Self.migrations
            edited[1].sql += "\n-- an innocent-looking edit"
            let error = await #expect(throws: PostgresError.self) { try await Self.migrator(edited).migrate(on: db) }
            #expect(error?.code == .migration)
            #expect(error?.message.contains("migration 0002_events.sql was changed after it was applied") == true)
            // Nothing after the changed file was applied.
            #expect(try await db.query("SELECT count(*) FROM app.schema_migrations").single().decode(Int.self, at: 0) == 2)
            let states = try await Self.migrator(edited).status(on: db).map(\.state)
            if case .changed = states[1] {} else { Issue.record("status shows \(states[1]), expected changed") }
        }
    }

    @Test("a database newer than the binary is refused")
    func unknownMigration() async throws {
        try await withTestConnection { db throws in
            try await Self.migrator().migrate(on: db)
            let error = await #expect(throws: PostgresError.self) {
                try await Self.migrator(Array(Self.migrations.prefix(2))).migrate(on: db)
            }
            #expect(error?.message.contains("the database has migration 0003_more.sql (version 3)") == true)
        }
    }

    @Test("a failing migration is rolled back whole; the ones before it stay applied")
    func failingMigration() async throws {
        try await withTestConnection { db throws in
            var broken = Self.migrations
            broken[2].sql = "INSERT INTO app.ran VALUES (3); SELEC nonsense;"
            let error = await #expect(throws: PostgresError.self) { try await Self.migrator(broken).migrate(on: db) }
            #expect(error?.sqlState == "42601")
            #expect(error?.statementName == "0003_more.sql")
            #expect(try await db.query("SELECT count(*) FROM app.schema_migrations").single().decode(Int.self, at: 0) == 2)
            #expect(try await db.query("SELECT count(*) FROM app.ran WHERE version = 3").single().decode(Int.self, at: 0) == 0)
            #expect(try await Self.migrator().migrate(on: db).map(\.version) == [3])
        }
    }
}
