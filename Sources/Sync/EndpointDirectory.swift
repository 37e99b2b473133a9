import Foundation
import Postgres

/// Finds endpoints' connection strings: `COUPLET_ENDPOINT_<NAME>_URL` in the environment, or the
/// file `COUPLET_ENDPOINT_<NAME>_URL_FILE` names (systemd credentials, Kubernetes secret mounts).
///
/// Connection strings are never stored in a table, a job, a log or an error; messages name the
/// endpoint, the variable and the part that is wrong only.
public struct EndpointDirectory: Sendable {
    private let environment: [String: String]

    /// Reads from `environment` (the process's own by default).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The variable that names `endpoint`'s connection string.
    public static func variable(for endpoint: String) -> String { "COUPLET_ENDPOINT_\(endpoint.uppercased())_URL" }

    /// The configuration of `endpoint`, or a clear error naming the missing or invalid variable.
    public func configuration(of endpoint: String) throws -> PostgresConfiguration {
        let variable = Self.variable(for: endpoint)
        guard let configuration = try PostgresConfiguration.fromEnvironment(variable, in: environment) else {
            throw SyncFailure(
                code: .configuration, message: "endpoint \(endpoint) has no connection string: set \(variable) or \(variable)_FILE")
        }
        return configuration
    }

    /// A session on `endpoint`, in UTC so that timestamps read as text compare and transform alike.
    public func connect(_ endpoint: String) async throws -> PostgresConnection {
        let connection = try await PostgresConnection.connect(configuration(of: endpoint), applicationName: "couplet sync")
        try await connection.runScript("SET TimeZone TO 'UTC'", name: "session time zone")
        return connection
    }
}
