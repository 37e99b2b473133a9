import ArgumentParser
import CoupletSchema
import Logging
import Postgres

/// `couplet status`: what a person checks first — the server, and whether the schema is current.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the coordination database and the state of its schema.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let logger = try global.makeLogger("couplet.status")
        let connection = try await global.connect(logger, applicationName: "couplet status")
        let server = try await connection.query("SELECT current_setting('server_version'), current_user, current_database()")
            .single().decode((String, String, String).self)
        let statuses = try await CoupletSchema.migrator.status(on: connection)
        let applied = statuses.filter { if case .applied = $0.state { true } else { false } }.count
        let pending = statuses.filter { $0.state == .pending }.count
        print("Coordination database  \(connection.configuration)")
        print("Server                 PostgreSQL \(server.0), connected as \(server.1) to \(server.2)")
        print("Schema                 \(applied) of \(CoupletSchema.migrations.count) migrations applied", terminator: "")
        print(pending > 0 ? ", \(pending) pending: run couplet migrate" : ", up to date")
        for problem in statuses where !(problem.state == .pending || { if case .applied = problem.state { true } else { false } }()) {
            print("  ! \(MigrateCommand.describe(problem))")
        }
    }
}
