import Postgres

/// How `couplet web` runs: where it listens, which database people sign in to, and what it allows.
public struct ConsoleConfiguration: Sendable {
    /// The address to listen on, e.g. `127.0.0.1`.
    public var host: String
    /// The port; 0 takes a free one.
    public var port: Int
    /// The coordination database's server, port and database name; people sign in with their own
    /// user name and password, so it holds no credentials.
    public var database: PostgresConfiguration
    /// No action forms, every POST but sign-in and sign-out refused.
    public var isReadOnly: Bool
    /// How long a session may stay unused before its connection is closed.
    public var idleTimeout: Duration
    /// How often pages refresh their content while visible.
    public var refreshInterval: Duration

    /// A configuration; sessions end after 30 idle minutes and pages refresh every 5 seconds unless told otherwise.
    public init(
        host: String, port: Int, database: PostgresConfiguration, isReadOnly: Bool, idleTimeout: Duration = .seconds(30 * 60),
        refreshInterval: Duration = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.isReadOnly = isReadOnly
        self.idleTimeout = idleTimeout
        self.refreshInterval = refreshInterval
    }
}
