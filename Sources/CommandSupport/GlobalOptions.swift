import ArgumentParser
import Foundation
import Logging
import Postgres

/// The options every command that touches the database shares: where it is and how to log.
public struct GlobalOptions: ParsableArguments {
    /// Options as given on the command line.
    public init() {}

    @Option(
        name: .customLong("database-url"),
        help: ArgumentHelp(
            "The coordination database: a postgres:// URL or libpq keyword string.",
            discussion: "Defaults to $COUPLET_DATABASE_URL.", valueName: "url"))
    public var databaseURL: String?

    @Option(
        help: ArgumentHelp(
            "Log level: trace, debug, info, notice, warning, error or critical.",
            discussion: "Defaults to $COUPLET_LOG_LEVEL, else info.", valueName: "level"))
    public var logLevel: Logger.Level?

    @Option(
        help: ArgumentHelp(
            "Log format: human (readable lines) or json (one JSON object per line).",
            discussion: "Defaults to $COUPLET_LOG_FORMAT, else human.", valueName: "format"))
    public var logFormat: LogFormat?

    /// The database configuration from the flag, `COUPLET_DATABASE_URL` or the file
    /// `COUPLET_DATABASE_URL_FILE` names; a clear error when none is set. When the flag carries a
    /// password, its value is blanked in the process list and `logger` warns that it was visible
    /// to every local user until then.
    public func databaseConfiguration(_ logger: Logger) throws -> PostgresConfiguration {
        if let databaseURL {
            let configuration = try PostgresConfiguration(databaseURL, source: "--database-url")
            if configuration.containsPassword {
                CommandLineSecret.hideValues(of: "--database-url")
                logger.warning(
                    "the --database-url password was visible in the process list until now; prefer COUPLET_DATABASE_URL_FILE, COUPLET_DATABASE_URL or ~/.pgpass")
            }
            return configuration
        }
        guard let configuration = try PostgresConfiguration.fromEnvironment("COUPLET_DATABASE_URL", in: Self.environment) else {
            throw ValidationError(
                "No coordination database: set COUPLET_DATABASE_URL or COUPLET_DATABASE_URL_FILE, or pass --database-url (deploy/local-postgres url prints one for a local cluster).")
        }
        return configuration
    }

    /// Whether a coordination database is given (flag or environment), for commands that can do without one.
    public var isDatabaseConfigured: Bool {
        databaseURL != nil || ["COUPLET_DATABASE_URL", "COUPLET_DATABASE_URL_FILE"].contains { Self.environment[$0]?.isEmpty == false }
    }

    private static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// Sets up logging once per process and returns a logger labelled `label`.
    public func makeLogger(_ label: String) throws -> Logger {
        let environment = ProcessInfo.processInfo.environment
        let level = try logLevel ?? Self.parse(environment["COUPLET_LOG_LEVEL"], as: Logger.Level.self, name: "COUPLET_LOG_LEVEL") ?? .info
        let format = try logFormat ?? Self.parse(environment["COUPLET_LOG_FORMAT"], as: LogFormat.self, name: "COUPLET_LOG_FORMAT") ?? .human
        LoggingBootstrap.once(format: format)
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }

    private static func parse<T: ExpressibleByArgument>(_ text: String?, as type: T.Type, name: String) throws -> T? {
        guard let text, !text.isEmpty else { return nil }
        guard let value = T(argument: text) else {
            throw ValidationError("\(name)=\(text) is not valid; expected one of: \(T.allValueStrings.joined(separator: ", "))")
        }
        return value
    }

    /// Connects to the coordination database, warning when the password came on the command line.
    public func connect(_ logger: Logger, applicationName: String = "couplet") async throws -> PostgresConnection {
        try await PostgresConnection.connect(databaseConfiguration(logger), applicationName: applicationName)
    }
}

/// How log lines are written to standard error.
public enum LogFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// Readable lines.
    case human
    /// One JSON object per line.
    case json
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
