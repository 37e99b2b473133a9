import DataverseEmulator
import Logging
import ODataConnector
import Postgres
import PostgresTestSupport
import Testing
@testable import Sync

/// Where an engine test's CRM lives: a PostgreSQL endpoint, or the same tables served by the
/// Dataverse emulator and reached over its Web API through the real Dataverse connector. An engine
/// test that takes this as its argument asserts the same behaviour of both.
enum CRMService: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case postgres
    case dataverse

    var testDescription: String { "CRM on \(rawValue)" }

    /// The CRM endpoint `crm` as the engine reaches it, and the column names its mappings use.
    struct Endpoint {
        /// Opens both endpoints: `erp` on PostgreSQL, `crm` on this service.
        let endpoints: EndpointDirectory
        /// The key column of the CRM table (`id`; Dataverse's `<table>id`).
        let key: String
        /// The modified-on column of the CRM table (`modified_at`; Dataverse's `modifiedon`).
        let modified: String
    }

    /// Declares the endpoints `erp` (PostgreSQL) and `crm` (this service) in `coordination` and runs
    /// `body` with them. The CRM database of `sample` must hold `table` as this service expects it:
    /// for Dataverse in schema `dataverse`, keyed `<table>id`, stamped in `modifiedon`.
    func serve<T>(
        _ sample: SampleEndpoints, table: String, coordination: PostgresConnection,
        isolation: isolated (any Actor)? = #isolation, _ body: (Endpoint) async throws -> T
    ) async throws -> T {
        switch self {
        case .postgres:
            try await coordination.runScript("INSERT INTO couplet.endpoints (name) VALUES ('erp'), ('crm')", name: "endpoints")
            return try await body(Endpoint(endpoints: EndpointDirectory(environment: sample.environment), key: "id", modified: "modified_at"))
        case .dataverse:
            let database = try PostgresConfiguration(sample.environment[EndpointDirectory.variable(for: "crm")] ?? "")
            return try await EmulatedDataverse.with(database, configure: { $0.schema = "dataverse" }) { dataverse in
                let settings = EndpointDefinition.settingsJSON(dataverse.settings)
                try await coordination.query(
                    "INSERT INTO couplet.endpoints (name, kind, settings) VALUES ('erp', 'postgres', '{}'), ('crm', 'dataverse', \(settings)::jsonb)")
                let endpoints = EndpointDirectory(
                    environment: sample.environment.merging(dataverse.environment) { own, _ in own },
                    connectors: [DataverseConnector(logger: Logger(label: "test"))])
                return try await body(Endpoint(endpoints: endpoints, key: table + "id", modified: "modifiedon"))
            }
        }
    }
}
