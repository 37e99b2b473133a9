import DataverseEmulator
import Foundation
import Logging
import ODataConnector
import Postgres
import PostgresTestSupport
@testable import Sync

/// A Dataverse environment for a test: the emulator serving the test's database on a free port,
/// and how a mappings file declares it as the endpoint `name`.
struct EmulatedDataverse: Sendable {
    /// The running emulator.
    let emulator: DataverseEmulator
    /// The endpoint's name.
    let name: String
    /// The client secret the emulator accepts.
    static let secret = "conformance-secret"

    /// The endpoint as a mappings file declares it.
    var definition: EndpointDefinition {
        EndpointDefinition(name: name, kind: "dataverse", settings: settings)
    }

    /// Its settings: the emulator's address as the environment and as the token authority.
    var settings: [String: String] {
        ["url": emulator.environmentURL, "tenant": "contoso.onmicrosoft.com", "client_id": emulator.configuration.clientID,
         "authority": emulator.environmentURL + "/"]
    }

    /// The environment a worker needs: the endpoint's client secret.
    var environment: [String: String] { [EndpointSecret.variableName(endpoint: name): Self.secret] }

    /// Serves `database` as endpoint `name` for the length of `body` (the tables must exist first).
    static func with<T>(
        _ database: PostgresConfiguration, name: String = "crm", configure: (inout DataverseEmulator.Configuration) -> Void = { _ in },
        isolation: isolated (any Actor)? = #isolation, _ body: (EmulatedDataverse) async throws -> T
    ) async throws -> T {
        var configuration = DataverseEmulator.Configuration(database: database, clientSecret: secret)
        configure(&configuration)
        let emulator = DataverseEmulator(configuration: configuration, logger: Logger(label: "emulator", factory: { _ in SwiftLogNoOpLogHandler() }))
        _ = try await emulator.start()
        do {
            let result = try await body(EmulatedDataverse(emulator: emulator, name: name))
            await emulator.stop()
            return result
        } catch {
            await emulator.stop()
            throw error
        }
    }

    /// A session on the endpoint through the real connector.
    func session(connector: DataverseConnector = DataverseConnector(logger: Logger(label: "test"))) async throws -> any EndpointSession {
        try await connector.open(definition, environment: environment)
    }
}
