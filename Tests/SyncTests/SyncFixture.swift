import Foundation
import Logging
import Postgres
import PostgresTestSupport

@testable import Sync

/// A coordination database and two endpoint databases — an ERP with `customer` and a CRM with
/// `account` — each of its own, with a CUSTOMER mapping between them.
struct SyncFixture {
    let coordination: PostgresConnection
    let erp: PostgresConnection
    let crm: PostgresConnection
    let endpoints: EndpointDirectory

    static func with(
        isolation: isolated (any Actor)? = #isolation, _ body: (SyncFixture) async throws -> Void
    ) async throws {
        try await withMigratedDatabase { _, coordination in
            try await SampleEndpoints.with { sample in
                try await coordination.runScript("INSERT INTO couplet.endpoints (name) VALUES ('erp'), ('crm')", name: "endpoints")
                try await body(SyncFixture(
                    coordination: coordination, erp: sample.erp, crm: sample.crm,
                    endpoints: EndpointDirectory(environment: sample.environment)))
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
            VALUES ('CUSTOMER', 'erp', 'customer', 'no', 'modified_at', \(filter), 'crm', 'account', 'id', 'modified_at',
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
