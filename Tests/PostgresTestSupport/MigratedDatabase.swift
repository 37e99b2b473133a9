import CoupletSchema
import Postgres

/// Runs `body` with a fresh database of its own, migrated to Couplet's current schema, and one connection to it.
public func withMigratedDatabase<T>(
    isolation: isolated (any Actor)? = #isolation,
    _ body: (TestDatabase, PostgresConnection) async throws -> T
) async throws -> T {
    try await TestDatabase.with { database in
        let connection = try await database.connect()
        defer { connection.close() }
        try await CoupletSchema.migrator.migrate(on: connection)
        return try await body(database, connection)
    }
}
