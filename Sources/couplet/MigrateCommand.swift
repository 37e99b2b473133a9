import ArgumentParser
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
            its own transaction. Safe to run from many processes at once: each migration is applied \
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
        let applied = try await migrator.migrate(on: connection)
        for migration in applied { logger.info("applied migration", metadata: ["file": "\(migration.name)"]) }
        print(applied.isEmpty ? "The schema is up to date." : "Applied \(applied.count) migration(s).")
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

extension String {
    /// The string padded with spaces on the right to `width` characters.
    func padded(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    /// The string padded on the left to `width` characters.
    func leftPadded(to width: Int, with pad: Character = " ") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
