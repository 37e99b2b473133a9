import CoupletSchema
import Postgres

/// Whether a process can do its work: the coordination database answers, and its schema is the
/// one this binary was built for (every migration the binary knows applied, none it does not know).
public struct ReadinessProbe: Sendable {
    private let database: PostgresConfiguration

    /// A probe of the coordination database `database`.
    public init(database: PostgresConfiguration) {
        self.database = database
    }

    /// Nil when ready; else why not, in one line (never the connection string or its password).
    public func problem() async -> String? {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(database, applicationName: "couplet readiness")
        } catch {
            return "the coordination database does not answer"
        }
        defer { connection.close() }
        do {
            let (unapplied, unknown) = try await CoupletSchema.migrator.versionDifferences(on: connection)
            guard unapplied.isEmpty, unknown.isEmpty else {
                return "the database schema does not match this binary: \(unapplied.count) of its migrations not applied, \(unknown.count) unknown to it"
            }
            return nil
        } catch {
            return "the coordination database's schema cannot be read"
        }
    }
}
