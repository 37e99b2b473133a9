import Foundation
import Logging
import Postgres
import PostgresTestSupport

@testable import Sync

/// What the ports of Business Central's own integration tests (`BaseApp/Test/Tests-CRM integration/` in
/// its public code history) read back, on `OwnSchemaFixture`'s DEBTOR mapping (`debtor` ↔ `client`).
/// Each port is named `<Business Central file>.<procedure>`; docs/business-central-scenarios.md lists
/// every procedure of those files and what became of it.
extension OwnSchemaFixture {
    /// Changes DEBTOR's settings, as a person editing the mapping would (`SET` clause as written).
    func setMapping(_ assignments: String) async throws {
        try await coordination.runScript("UPDATE couplet.table_mappings SET \(assignments) WHERE name = 'DEBTOR'", name: "mapping settings")
    }

    /// The number of rows in `table` of `connection`.
    func rows(_ connection: PostgresConnection, _ table: String) async throws -> Int {
        try await connection.query("SELECT count(*) FROM \(try PostgresIdentifier(table))").single().decode(Int.self, at: 0)
    }

    /// DEBTOR's couplings as `local id → integration id`.
    func couplings() async throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try await coordination.query(
            "SELECT local_id, integration_id FROM couplet.couplings WHERE mapping = 'DEBTOR'"
        ).map { try $0.decode((String, String).self) })
    }

    /// The client's id for a name (the CRM assigns uuids).
    func clientID(_ name: String) async throws -> String {
        try await value(crm, "SELECT id::text FROM client WHERE name = \(name)", as: String.self)
    }

    /// The debtor's id for a name (the ERP assigns them from a sequence).
    func debtorID(_ name: String) async throws -> String {
        try await value(erp, "SELECT id::text FROM debtor WHERE name = \(name)", as: String.self)
    }

    /// The directions logged by DEBTOR's runs since run `after`, in order.
    func loggedDirections(after: Int64 = 0) async throws -> [String] {
        try await coordination.query(
            "SELECT direction FROM couplet.sync_runs WHERE mapping = 'DEBTOR' AND id > \(after) ORDER BY id"
        ).map { try $0.decode(String.self, at: 0) }
    }

    /// The newest run id logged (0 when none).
    func lastRunID() async throws -> Int64 {
        try await value(coordination, "SELECT coalesce(max(id), 0) FROM couplet.sync_runs", as: Int64.self)
    }

    /// DEBTOR's two watermarks as text (nil: none yet), microseconds and all.
    func watermarks() async throws -> (local: String?, integration: String?) {
        try await coordination.query(
            "SELECT local_watermark::text, integration_watermark::text FROM couplet.table_mappings WHERE name = 'DEBTOR'"
        ).single().decode((String?, String?).self)
    }

    /// A debtor and a client coupled and in step (a full run created the client), with `fax` and
    /// `home_page` columns on both sides that no field maps yet.
    func syncedPairWithSpareColumns() async throws {
        try await erp.runScript("ALTER TABLE debtor ADD COLUMN fax text, ADD COLUMN home_page text", name: "spare columns")
        try await crm.runScript("ALTER TABLE client ADD COLUMN fax text, ADD COLUMN home_page text", name: "spare columns")
        try await erp.query("INSERT INTO debtor (name, fax, home_page) VALUES ('Adatum', '1', 'https://one.example')")
        try await sync(.full)
        try await crm.query("UPDATE client SET fax = '1', home_page = 'https://one.example'")
        try await sync()
    }

    /// Maps `column` ↔ `column` in `direction` (after `syncedPairWithSpareColumns`).
    func mapSpareColumn(_ column: String, direction: String) async throws {
        try await coordination.query(
            """
            INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field, direction, comparison)
            VALUES ('DEBTOR', (SELECT max(position) + 1 FROM couplet.field_mappings WHERE mapping = 'DEBTOR'), \(column), \(column),
                    \(direction), 'text')
            """)
    }
}

extension SyncFixture {
    /// CUSTOMER's coupling of customer `no`: the CRM id and each side's last result.
    func customerCoupling(_ no: String) async throws -> (integrationID: String, local: String?, integration: String?)? {
        try await coordination.query(
            "SELECT integration_id, local_result, integration_result FROM couplet.couplings WHERE mapping = 'CUSTOMER' AND local_id = \(no)"
        ).first?.decode((String, String?, String?).self)
    }
}

extension SyncFixture {
    /// A records run of CUSTOMER for the ERP's customers `numbers`: a person asking for them.
    @discardableResult
    func syncCustomers(_ numbers: [String]) async throws -> [SyncDirection: SyncCounts] {
        try await SyncEngine(coordination: coordination, endpoints: endpoints, logger: Logger(label: "test"))
            .run(mapping: "CUSTOMER", kind: .records, records: ChosenRecords(side: .local, ids: numbers))
    }
}
