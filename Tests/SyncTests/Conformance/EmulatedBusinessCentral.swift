import BusinessCentralEmulator
import Foundation
import Logging
import ODataConnector
import Postgres
import PostgresTestSupport
@testable import Sync

/// A Business Central company for a test: the emulator serving the test's database (schema
/// `public` as the company) on a free port, and how a mappings file declares it as the endpoint `name`.
struct EmulatedBusinessCentral: Sendable {
    /// The running emulator.
    let emulator: BusinessCentralEmulator
    /// The endpoint's name.
    let name: String
    /// The client secret the emulator accepts.
    static let secret = "conformance-secret"
    /// The tenant in URLs.
    static let tenant = "contoso.onmicrosoft.com"

    /// The endpoint as a mappings file declares it.
    var definition: EndpointDefinition {
        EndpointDefinition(name: name, kind: "business-central", settings: settings)
    }

    /// Its settings: the emulator's address as the API host and as the token authority, its one company.
    var settings: [String: String] {
        let company = emulator.configuration.companies.first.flatMap { emulator.companyID(named: $0.name) } ?? ""
        return ["url": emulator.baseURL, "tenant": Self.tenant, "environment": emulator.configuration.environment,
                "company": company, "client_id": emulator.configuration.clientID, "authority": emulator.baseURL + "/"]
    }

    /// The environment a worker needs: the endpoint's client secret.
    var environment: [String: String] { [EndpointSecret.variableName(endpoint: name): Self.secret] }

    /// Serves `database` as endpoint `name` for the length of `body` (the tables must exist first).
    static func with<T>(
        _ database: PostgresConfiguration, name: String = "erp",
        configure: (inout BusinessCentralEmulator.Configuration) -> Void = { _ in },
        _ body: (EmulatedBusinessCentral) async throws -> T
    ) async throws -> T {
        var configuration = BusinessCentralEmulator.Configuration(database: database, clientSecret: secret)
        configure(&configuration)
        let emulator = BusinessCentralEmulator(configuration: configuration, logger: Logger(label: "emulator", factory: { _ in SwiftLogNoOpLogHandler() }))
        _ = try await emulator.start()
        do {
            let result = try await body(EmulatedBusinessCentral(emulator: emulator, name: name))
            await emulator.stop()
            return result
        } catch {
            await emulator.stop()
            throw error
        }
    }

    /// A session on the endpoint through the real connector.
    func session(connector: BusinessCentralConnector = BusinessCentralConnector(logger: Logger(label: "test"))) async throws -> any EndpointSession {
        try await connector.open(definition, environment: environment)
    }
}
