import Foundation
import Postgres
import PostgresTestSupport
import Sync
import Testing

@Suite("couplet match writes only what differs", .serialized)
struct MatchWritesNothingTests {
    @Test("records already equal on both sides are coupled by match and written nowhere (issue 13: modified 7)",
          arguments: ["to_integration", "from_integration", "bidirectional"], CRMService.allCases)
    func equalRecordsAreNotRewritten(direction: String, crm: CRMService) async throws {
        try await SyncFixture.with(crm: crm) { f in
            try await f.addCustomerMapping(direction: direction)
            try await f.coordination.query(
                "UPDATE couplet.field_mappings SET match_priority = 1 WHERE mapping = 'CUSTOMER' AND local_field = 'name'")
            try await f.erp.query("""
                INSERT INTO customer (no, name, city, credit_limit)
                SELECT n::text, 'Customer ' || n, 'City ' || n, '1000' FROM generate_series(1, 7) n
                """)
            try await f.crm.query("""
                INSERT INTO account (account_number, name, city, credit_limit)
                SELECT n::text, 'Customer ' || n, 'City ' || n, 1000 FROM generate_series(1, 7) n
                """)
            let erpBefore = try await stamps(f.erp, "customer")
            let crmBefore = try await stamps(f.crm, "account")

            let counts = try await f.sync(.match)
            let coupled = counts.values.map(\.coupled).reduce(0, +)
            #expect(coupled == 7, "\(counts)")
            #expect(counts.values.allSatisfy { $0.modified == 0 && $0.inserted == 0 }, "nothing differs, so nothing is written: \(counts)")
            #expect(try await stamps(f.erp, "customer") == erpBefore, "no ERP record was written")
            #expect(try await stamps(f.crm, "account") == crmBefore, "no CRM record was written")
        }
    }

    /// Every record's modified-on, in order: a write changes it (the tables' triggers stamp it).
    private func stamps(_ connection: PostgresConnection, _ table: String) async throws -> String {
        try await connection.query("SELECT string_agg(modified_at::text, ',' ORDER BY modified_at) FROM \(try PostgresIdentifier(table))")
            .single().decode(String.self, at: 0)
    }
}
