/// An error from the database or from this client, carrying what a person needs to act on it.
///
/// `code` says which kind of failure it is; for server errors `sqlState` keeps the five-character
/// SQLSTATE (`42601` syntax error, `40001` serialization failure, `42501` insufficient privilege …).
/// The failing statement is identified by its `statementName`, never by its values. To classify a
/// failure without reading its message, a server error also names what it concerns when the server
/// says: `constraintName`, `tableName`, `schemaName`, `columnName`, `dataTypeName` (names, not values).
///
/// `description` (what logs print) holds the code, SQLSTATE, statement name and the server's primary
/// message. `detail`, which the server often fills with row values ("Failing row contains …"), is
/// shown only by `debugDescription`. Connection strings and passwords never appear in either.
public struct PostgresError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The kind of failure; extensible without breaking callers, like postgres-nio's `PSQLError.Code`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The connection could not be established (unreachable server, authentication, bad options).
        public static let connectionFailed = Code("connectionFailed")
        /// The connection broke during use; `PostgresConnection.reconnect()` may restore it.
        public static let connectionClosed = Code("connectionClosed")
        /// The server reported an error; see `sqlState`.
        public static let server = Code("server")
        /// A result column could not be decoded as the requested Swift type.
        public static let decoding = Code("decoding")
        /// A Swift value could not be encoded for the server (JSON that cannot express it, say).
        public static let encoding = Code("encoding")
        /// A connection string or identifier from configuration is not acceptable.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// The task waiting on the database was cancelled.
        public static let cancelled = Code("cancelled")
        /// A schema migration cannot be applied safely.
        public static let migration = Code("migration")
        /// A bound value cannot be sent as it is (text holding a NUL character); nothing was sent.
        public static let invalidParameter = Code("invalidParameter")

        /// The code's name, e.g. `connectionClosed`.
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// The server's SQLSTATE, when the server reported the error.
    public var sqlState: String?
    /// The primary message, from the server or from this client.
    public var message: String
    /// The server's detail line, which may contain row values.
    public var detail: String?
    /// The server's hint line.
    public var hint: String?
    /// The name of the statement that failed, when it was named.
    public var statementName: String?
    /// The constraint the server names for a violation (CHECK, UNIQUE, foreign key, exclusion, a domain's CHECK).
    public var constraintName: String?
    /// The table the failure concerns, for constraint violations and the like.
    public var tableName: String?
    /// The schema of `tableName` or `dataTypeName`.
    public var schemaName: String?
    /// The column the failure concerns (a NOT NULL violation, say).
    public var columnName: String?
    /// The data type the failure concerns (a domain whose CHECK failed, say).
    public var dataTypeName: String?

    /// Creates an error; used by this module and by modules that report through the same type.
    public init(
        _ code: Code, message: String, sqlState: String? = nil, detail: String? = nil,
        hint: String? = nil, statementName: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.statementName = statementName
    }

    /// Code, SQLSTATE, statement name and primary message; never values from `detail`.
    public var description: String {
        var text = "Postgres \(code)"
        if let sqlState { text += " \(sqlState)" }
        if let statementName { text += " in statement \"\(statementName)\"" }
        text += ": \(message)"
        if let hint { text += " (hint: \(hint))" }
        return text
    }

    /// Everything, including the server's detail line; for debugging, not for shared logs.
    public var debugDescription: String {
        var text = description
        if let detail { text += " (detail: \(detail))" }
        return text
    }

    /// True when an established connection was cut off (a server restart or failover, an
    /// administrator terminating the session), as opposed to a server that cannot be reached: a new
    /// connection is likely to work at once.
    public var isDroppedConnection: Bool {
        code == .connectionClosed || sqlState == "57P01" || sqlState == "57P02"
    }

    /// True for failures that a new connection may cure.
    public var isConnectionLoss: Bool {
        code == .connectionClosed || code == .connectionFailed
            || sqlState.map { $0.hasPrefix("08") || $0 == "57P01" || $0 == "57P02" || $0 == "57P03" } == true
    }
}
