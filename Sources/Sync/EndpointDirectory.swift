import Foundation
import Postgres

/// Opens endpoints: through the connector of each one's kind, with secrets and connection strings
/// from the environment — `COUPLET_ENDPOINT_<NAME>_URL` for a PostgreSQL endpoint (or the file
/// `COUPLET_ENDPOINT_<NAME>_URL_FILE` names: systemd credentials, Kubernetes secret mounts).
///
/// Connection strings and secrets are never stored in a table, a job, a log or an error; messages
/// name the endpoint, the variable and the part that is wrong only.
public struct EndpointDirectory: Sendable {
    private let environment: [String: String]
    private let connectors: [String: any EndpointConnector]

    /// Reads from `environment` (the process's own by default); opens PostgreSQL endpoints and
    /// those of `connectors`' kinds.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, connectors: [any EndpointConnector] = []) {
        self.environment = environment
        var byKind: [String: any EndpointConnector] = ["postgres": PostgresConnector()]
        for connector in connectors { byKind[connector.kind] = connector }
        self.connectors = byKind
    }

    /// The variable that names `endpoint`'s connection string.
    public static func variable(for endpoint: String) -> String { "COUPLET_ENDPOINT_\(endpoint.uppercased())_URL" }

    /// The configuration of PostgreSQL endpoint `endpoint`, or a clear error naming the missing or invalid variable.
    public func configuration(of endpoint: String) throws -> PostgresConfiguration {
        let variable = Self.variable(for: endpoint)
        guard let configuration = try PostgresConfiguration.fromEnvironment(variable, in: environment) else {
            throw SyncFailure(
                code: .configuration, message: "endpoint \(endpoint) has no connection string: set \(variable) or \(variable)_FILE")
        }
        return configuration
    }

    /// A session on PostgreSQL endpoint `endpoint`, in UTC so that timestamps read as text compare
    /// and transform alike: for the parts of Couplet that need SQL on an endpoint (the sales
    /// integration's statistics, the demo).
    public func connect(_ endpoint: String) async throws -> PostgresConnection {
        let connection = try await PostgresConnection.connect(configuration(of: endpoint), applicationName: "couplet sync")
        try await connection.runScript("SET TimeZone TO 'UTC'", name: "session time zone")
        return connection
    }

    /// A session on `endpoint` through the connector of its kind.
    public func open(_ endpoint: EndpointDefinition) async throws -> any EndpointSession {
        guard let connector = connectors[endpoint.kind] else {
            throw SyncFailure(
                code: .configuration,
                message: "endpoint \(endpoint.name) is of kind \(endpoint.kind), which this process cannot connect to (it knows \(connectors.keys.sorted().joined(separator: ", ")))")
        }
        return try await connector.open(endpoint, environment: environment)
    }

    /// How the requests of this process to each Web API endpoint stand against its service
    /// protection limits, one entry per endpoint name (the clients of an endpoint whose settings
    /// changed while the process ran are added up).
    public func limitStatistics() async -> [EndpointLimitStatistics] {
        var byEndpoint: [String: EndpointLimitStatistics] = [:]
        for connector in connectors.values {
            for statistics in await connector.limitStatistics() {
                guard var sum = byEndpoint[statistics.endpoint] else {
                    byEndpoint[statistics.endpoint] = statistics
                    continue
                }
                sum.waiting += statistics.waiting
                sum.inFlight += statistics.inFlight
                sum.isPaused = sum.isPaused || statistics.isPaused
                sum.waited += statistics.waited
                sum.throttled += statistics.throttled
                byEndpoint[statistics.endpoint] = sum
            }
        }
        return byEndpoint.values.sorted { $0.endpoint < $1.endpoint }
    }

    /// Sessions on `local` and `integration` for the length of `body`, closed afterwards even when
    /// the task is cancelled.
    public func withSessions<T>(
        _ local: EndpointDefinition, _ integration: EndpointDefinition,
        _ body: (any EndpointSession, any EndpointSession) async throws -> T
    ) async throws -> T {
        let localSession = try await open(local)
        let integrationSession: any EndpointSession
        do {
            integrationSession = try await open(integration)
        } catch {
            await localSession.close()
            throw error
        }
        do {
            let result = try await body(localSession, integrationSession)
            await integrationSession.close()
            await localSession.close()
            return result
        } catch {
            await integrationSession.close()
            await localSession.close()
            throw error
        }
    }
}
