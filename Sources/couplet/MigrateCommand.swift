import ArgumentParser
import CommandSupport
import CoupletSchema
import Logging
import Postgres

/// `couplet migrate`: brings the coordination schema up to date, or shows where it stands.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the pending schema migrations (or list them with --status).",
        discussion: """
            Applies the numbered SQL files of Schema/ (embedded in this binary) in order, each in \
            its own transaction, printing each as it is applied. Run it as the coordination database's \
            owner once Couplet's roles exist: a login with CREATEROLE creates them with couplet roles \
            create (or migrate as such a login, or a superuser). Safe to run from many processes at once: each migration is applied \
            exactly once. Refuses to run when an applied file has changed since, or when the \
            database has a migration this binary does not know.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "List applied and pending migrations instead of applying them.")
    var status = false

    func run() async throws {
        let logger = try global.makeLogger("couplet.migrate")
        let connection = try await global.connect(logger, applicationName: "couplet migrate")
        let migrator = CoupletSchema.migrator
        if status {
            for line in try await migrator.status(on: connection) { print(Self.describe(line)) }
            return
        }
        do {
            let applied = try await migrator.migrate(on: connection) { migration in
                logger.info("applied migration", metadata: ["file": "\(migration.name)"])
                print("Applied \(migration.name)")
            }
            print(applied.isEmpty ? "The schema is up to date." : "Applied \(applied.count) migration(s).")
        } catch let error as PostgresError where Self.lacksRoleCreation(error) {
            throw CommandFailure(description: """
                \(error.statementName ?? "a migration") creates Couplet's roles, and this login may not (\(error.message)): \
                as a superuser or a login with CREATEROLE, run couplet roles create once for the cluster, then couplet migrate \
                again as this login; the migrations listed above are applied
                """)
        }
    }

    /// Whether the server refused to create a role: the migrating login lacks CREATEROLE.
    static func lacksRoleCreation(_ error: PostgresError) -> Bool {
        error.sqlState == "42501" && error.message.contains("create role")
    }

    /// One line of `--status`: version, file, state.
    static func describe(_ status: MigrationStatus) -> String {
        let state = switch status.state {
        case .applied(let at): "applied \(at)"
        case .pending: "pending"
        case .changed: "CHANGED since it was applied"
        case .unknown: "applied, unknown to this binary"
        }
        return "\(String(status.version).leftPadded(to: 4, with: "0"))  \(status.name.padded(to: 40))  \(state)"
    }
}
