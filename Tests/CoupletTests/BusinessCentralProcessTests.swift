import BusinessCentralEmulator
import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Testing

/// Real `couplet` processes writing to Business Central through its API v2.0 (the emulator, in this
/// test's process, over HTTP on loopback): a worker killed between a `POST` and recording its
/// coupling leaves nothing the rescue makes twice, as Couplet chooses each new record's id.
@Suite struct BusinessCentralProcessTests {
    static let secret = "process-test-secret"

    static let sourceSchema = """
        CREATE TABLE debtor (id serial PRIMARY KEY, name text NOT NULL, modified_at timestamptz NOT NULL DEFAULT now());
        """

    static let companySchema = """
        CREATE SEQUENCE customer_numbers START 10000;
        CREATE TABLE customers (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            number varchar(20) NOT NULL UNIQUE DEFAULT nextval('customer_numbers')::text,
            "displayName" varchar(100) NOT NULL DEFAULT '',
            "lastModifiedDateTime" timestamptz NOT NULL DEFAULT now());
        """

    static func mappings(_ emulator: BusinessCentralEmulator) -> String {
        let company = emulator.configuration.companies.first.flatMap { emulator.companyID(named: $0.name) } ?? ""
        return """
            endpoints:
              - {name: src}
              - {name: bc, kind: business-central, url: "\(emulator.baseURL)", tenant: contoso.onmicrosoft.com, environment: production,
                 company: \(company), client_id: \(emulator.configuration.clientID), authority: "\(emulator.baseURL)/"}
            mappings:
              - name: DEBTOR
                direction: to_integration
                sync_only_coupled: false
                batch_size: 50
                local: {endpoint: src, table: debtor, key: id, modified: modified_at}
                integration: {endpoint: bc, table: customers, key: id, modified: lastModifiedDateTime}
                fields:
                  - {local: name, integration: displayName}
            """
    }

    @Test("a worker killed mid-sync to Business Central: the job is rescued and rerun over the API, with no duplicate and nothing lost")
    func killedMidSync() async throws {
        try await withMigratedDatabase { coordinationDatabase, coordination in
            try await SampleEndpoints.with(erpSchema: Self.sourceSchema, crmSchema: Self.companySchema) { sample in
                try await sample.erp.query("INSERT INTO debtor (name) SELECT 'Debtor ' || n FROM generate_series(1, 600) n")
                var configuration = BusinessCentralEmulator.Configuration(
                    database: try PostgresConfiguration(sample.environment["COUPLET_ENDPOINT_CRM_URL"] ?? ""), clientSecret: Self.secret)
                configuration.databaseConnections = 4
                let emulator = BusinessCentralEmulator(
                    configuration: configuration, logger: Logger(label: "emulator", factory: { _ in SwiftLogNoOpLogHandler() }))
                _ = try await emulator.start()
                let folder = FileManager.default.temporaryDirectory.appending(path: "couplet-bc-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: folder) }
                try Self.mappings(emulator).write(to: folder.appending(path: "mappings.yaml"), atomically: true, encoding: .utf8)
                let environment = [
                    "COUPLET_DATABASE_URL": coordinationDatabase.configuration.connectionString,
                    "COUPLET_ENDPOINT_SRC_URL": sample.environment["COUPLET_ENDPOINT_ERP_URL"] ?? "",
                    "COUPLET_ENDPOINT_BC_SECRET": Self.secret,
                ]
                do {
                    try await KilledWorkerRescue(
                        environment: environment, coordination: coordination, target: sample.crm, table: "customers",
                        distinctColumn: "\"displayName\"", records: 600, secret: Self.secret
                    ).run(mappingsIn: folder)
                } catch {
                    await emulator.stop()
                    throw error
                }
                await emulator.stop()
            }
        }
    }
}
