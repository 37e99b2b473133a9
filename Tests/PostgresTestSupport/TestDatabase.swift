import Foundation
import Postgres

/// A database of its own for one test, on the server the test command started.
///
/// Tests run in parallel, so each one that touches SQL creates a fresh database (about 50 ms) and
/// drops it afterwards. The server comes from `COUPLET_TEST_DATABASE_URL`, which the README's
/// test command sets from `deploy/local-postgres`; without it the test fails and says so.
public struct TestDatabase: Sendable {
    /// The fresh database's configuration.
    public let configuration: PostgresConfiguration
    /// Its name.
    public let name: String

    /// The server's maintenance database, from the environment.
    public static func server() throws -> PostgresConfiguration {
        guard let url = ProcessInfo.processInfo.environment["COUPLET_TEST_DATABASE_URL"] else {
            throw PostgresError(
                .invalidConfiguration,
                message: "COUPLET_TEST_DATABASE_URL is not set: run the tests with deploy/test, or set it to deploy/local-postgres url")
        }
        return try PostgresConfiguration(url)
    }

    /// Creates a database, runs `body` with it and drops it, whether `body` succeeds or throws.
    ///
    /// `encoding` (e.g. `SQL_ASCII`, which stores any bytes unchecked, as some legacy ERPs do)
    /// creates the database with that encoding and the C locale; nil keeps the server's default.
    public static func with<T>(
        encoding: String? = nil,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (TestDatabase) async throws -> T
    ) async throws -> T {
        let server = try server()
        let name = "couplet_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = try await PostgresConnection.connect(server, applicationName: "couplet tests")
        let options = encoding.map { " WITH ENCODING '\($0)' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" } ?? ""
        try await admin.runScript("CREATE DATABASE \(name)\(options)", name: "create test database")
        let database = TestDatabase(configuration: server.replacingDatabase(with: name), name: name)
        do {
            let result = try await body(database)
            try await admin.runScript("DROP DATABASE \(name) WITH (FORCE)", name: "drop test database")
            return result
        } catch {
            try? await admin.runScript("DROP DATABASE \(name) WITH (FORCE)", name: "drop test database")
            throw error
        }
    }

    /// A new connection to the test's database.
    public func connect(applicationName: String = "couplet tests") async throws -> PostgresConnection {
        try await PostgresConnection.connect(configuration, applicationName: applicationName)
    }

}

/// Opens one connection to a fresh database and runs `body` with it.
public func withTestConnection<T>(
    isolation: isolated (any Actor)? = #isolation,
    _ body: (PostgresConnection) async throws -> T
) async throws -> T {
    try await TestDatabase.with { database in
        let connection = try await database.connect()
        defer { connection.close() }
        return try await body(connection)
    }
}
