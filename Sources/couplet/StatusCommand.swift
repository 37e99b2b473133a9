import ArgumentParser
import CommandSupport
import CoupletSchema
import Foundation
import Logging
import Postgres

/// `couplet status`: the one screen a person reads at a glance — queues, workers, schedules,
/// mappings, and what needs attention with the command to run next.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show queues, workers, schedules and mappings at a glance, and what needs attention.",
        discussion: """
            Problems (failed jobs, due jobs no worker claims, stale workers, failed runs, sync errors, skipped \
            records, watermarks over an hour old) stand out, each with the command to run next. Colour is used \
            only on a terminal and when NO_COLOR is not set. With --watch the screen is redrawn until Ctrl-C.
            """)

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Redraw every SECONDS (default 2) until Ctrl-C.")
    var watch = false

    @Argument(help: ArgumentHelp("With --watch: seconds between redraws.", valueName: "seconds"))
    var seconds: Double?

    /// SECONDS only with --watch, and not so short that the screen flickers.
    func validate() throws {
        guard let seconds else { return }
        guard watch else { throw ValidationError("SECONDS goes with --watch, e.g. couplet status --watch 5") }
        guard (0.1...86_400).contains(seconds) else { throw ValidationError("--watch takes 0.1 to 86400 seconds between redraws") }
    }

    /// Draws the screen once, or every SECONDS with --watch.
    func run() async throws {
        let logger = try global.makeLogger("couplet.status")
        let connection = try await global.connect(logger, applicationName: "couplet status")
        defer { connection.close() }
        let palette = Palette.standardOutput
        repeat {
            let screen = try await screen(on: connection, palette: palette)
            let frame = (watch && palette.usesColour ? "\u{1B}[H\u{1B}[2J" : "") + screen.joined(separator: "\n") + "\n"
            FileHandle.standardOutput.write(Data(frame.utf8))  // unbuffered: each frame goes out whole, when drawn
            if watch { try await Task.sleep(for: .seconds(seconds ?? 2)) }
        } while watch
    }

    /// Everything one screen shows: the database and schema lines, then the sections when the schema is current.
    private func screen(on connection: PostgresConnection, palette: Palette) async throws -> [String] {
        let (header, isCurrent) = try await databaseLines(on: connection)
        let watching = watch ? ["Every \(Self.format(seconds ?? 2))s at \(Date().formatted(.iso8601)); Ctrl-C stops", ""] : []
        guard isCurrent else { return watching + header }
        let snapshot = try await StatusSnapshot.load(on: connection)
        return watching + header + StatusText(snapshot: snapshot, palette: palette).lines() + (watch ? [""] : [])
    }

    /// The server and the schema state, and whether every migration is applied (else the sections cannot be read).
    private func databaseLines(on connection: PostgresConnection) async throws -> ([String], isCurrent: Bool) {
        let server = try await connection.query("SELECT current_setting('server_version'), current_user")
            .single().decode((String, String).self)
        let statuses = try await CoupletSchema.migrator.status(on: connection)
        let applied = statuses.filter { if case .applied = $0.state { true } else { false } }.count
        let pending = statuses.filter { $0.state == .pending }.count
        let problems = statuses.filter { if case .applied = $0.state { false } else { $0.state != .pending } }
        let lines = [
            "Database  \(connection.configuration)  (PostgreSQL \(server.0.prefix { $0 != " " }), connected as \(server.1))",
            "Schema    \(applied) of \(CoupletSchema.migrations.count) migrations applied"
                + (pending > 0 ? ", \(pending) pending: run couplet migrate" : ", up to date"),
        ] + problems.map { "  ! \(MigrateCommand.describe($0))" }
        return (lines, pending == 0 && problems.isEmpty)
    }

    /// `2` or `0.5`: seconds without a needless fraction.
    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
