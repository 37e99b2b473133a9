import Foundation
import Logging
import Postgres
import PostgresTestSupport

@testable import Sync

/// A coordination database and two endpoint databases — an ERP with `customer` and a CRM with
/// `account` — each of its own, with a CUSTOMER mapping between them. The CRM is a PostgreSQL
/// endpoint or, for a test that asks, behind the Dataverse emulator (`CRMService`): the test's SQL
/// on `account` reads and writes the same records either way.
struct SyncFixture {
    let coordination: PostgresConnection
    let erp: PostgresConnection
    let crm: PostgresConnection
    /// How the engine reaches both endpoints, and the CRM's key and modified-on columns.
    let crmEndpoint: CRMService.Endpoint
    var endpoints: EndpointDirectory { crmEndpoint.endpoints }

    static func with(
        crm service: CRMService = .postgres,
        isolation: isolated (any Actor)? = #isolation, _ body: (SyncFixture) async throws -> Void
    ) async throws {
        try await withMigratedDatabase { _, coordination in
            let crmSchema = service == .dataverse ? SampleTables.dataverseCRM : SampleTables.crm
            try await SampleEndpoints.with(crmSchema: crmSchema) { sample in
                try await service.serve(sample, table: "account", coordination: coordination) { crm in
                    try await body(SyncFixture(coordination: coordination, erp: sample.erp, crm: sample.crm, crmEndpoint: crm))
                }
            }
        }
    }

    /// The CUSTOMER mapping: customer ↔ account, keyed no ↔ account_number for new ERP records.
    func addCustomerMapping(
        direction: String = "bidirectional", updateConflict: String = "fail", filter: String? = nil
    ) async throws {
        try await coordination.query(
            """
            INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified, local_filter,
                integration_endpoint, integration_table, integration_key, integration_modified, direction, update_conflict, batch_size,
                sync_only_coupled)
            VALUES ('CUSTOMER', 'erp', 'customer', 'no', 'modified_at', \(filter), 'crm', 'account', \(crmEndpoint.key), \(crmEndpoint.modified),
                    \(direction), \(updateConflict), 50, false)
            """)
        try await coordination.runScript(SampleTables.customerFields, name: "fields")
    }

    @discardableResult
    func sync(_ kind: SyncKind = .delta) async throws -> [SyncDirection: SyncCounts] {
        try await SyncEngine(coordination: coordination, endpoints: endpoints, logger: Logger(label: "test"))
            .run(mapping: "CUSTOMER", kind: kind)
    }

    func accounts() async throws -> [String: (name: String, city: String?)] {
        var accounts: [String: (name: String, city: String?)] = [:]
        for row in try await crm.query("SELECT account_number, name, city FROM account") {
            let (number, name, city) = try row.decode((String?, String, String?).self)
            accounts[number ?? "?"] = (name, city)
        }
        return accounts
    }

    func count(_ connection: PostgresConnection, _ sql: PostgresQuery) async throws -> Int {
        try await connection.query(sql).single().decode(Int.self, at: 0)
    }
}
