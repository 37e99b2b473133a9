import Foundation
import Postgres

/// An open connection to one endpoint for the length of a run or a check: it makes the table
/// endpoints of the mappings' sides and describes their tables.
public protocol EndpointSession: Sendable {
    /// The table endpoint of `side`, reading `columns` besides its key and modified-on.
    func table(_ side: MappingSide, columns: [String]) async throws -> any TableEndpoint
    /// The table `table` names as the session sees it, or nil when there is none: its columns in
    /// PostgreSQL's terms (what the column compatibility rules compare) and what the session may do.
    func describe(_ table: PostgresIdentifier) async throws -> CatalogTable?
    /// Throws, in words, when `filter` does not fit `table` (a column that does not exist, a value
    /// its column's type refuses), reading no record.
    func checkFilter(_ filter: RecordFilter, on table: PostgresIdentifier) async throws
    /// Ends the session; runs even when the task is cancelled.
    func close() async
}

/// Opens sessions on the endpoints of one kind.
public protocol EndpointConnector: Sendable {
    /// The endpoint kind it serves, as a mappings file names it (`postgres`, `dataverse`).
    var kind: String { get }
    /// A session on `endpoint`, its secrets read from `environment`; a clear error naming the
    /// endpoint and the setting or variable that is wrong, never a secret.
    func open(_ endpoint: EndpointDefinition, environment: [String: String]) async throws -> any EndpointSession
    /// How the requests to each endpoint it opened stand against the service's protection limits
    /// (none for a connector without such limits).
    func limitStatistics() async -> [EndpointLimitStatistics]
}

extension EndpointConnector {
    /// None: the connector's service has no protection limits to wait for.
    public func limitStatistics() async -> [EndpointLimitStatistics] { [] }
}

/// PostgreSQL endpoints: a database reached through `COUPLET_ENDPOINT_<NAME>_URL`.
public struct PostgresConnector: EndpointConnector {
    /// `postgres`.
    public var kind: String { "postgres" }

    /// The connector.
    public init() {}

    public func open(_ endpoint: EndpointDefinition, environment: [String: String]) async throws -> any EndpointSession {
        PostgresEndpointSession(connection: try await EndpointDirectory(environment: environment).connect(endpoint.name))
    }
}

/// A session on a PostgreSQL endpoint: one connection, in UTC.
public struct PostgresEndpointSession: EndpointSession {
    /// The session's connection.
    public let connection: PostgresConnection

    /// A session over `connection`, which it closes at the end.
    public init(connection: PostgresConnection) {
        self.connection = connection
    }

    public func table(_ side: MappingSide, columns: [String]) async throws -> any TableEndpoint {
        try PostgresTableEndpoint(connection: connection, side: side, columns: columns)
    }

    public func describe(_ table: PostgresIdentifier) async throws -> CatalogTable? {
        try await EndpointCatalog.table(table, on: connection)
    }

    public func checkFilter(_ filter: RecordFilter, on table: PostgresIdentifier) async throws {
        try await EndpointCatalog.checkFilter(filter, on: table, connection: connection)
    }

    public func close() async { connection.close() }
}
