import Demo
import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Sync
import Testing

/// Business Central blocks the customer of an account that became inactive
/// (CRMIntTableSubscriber.UpdateCustomerBlocked); the reference file does it with CUSTOMER's field
/// `blocked ← statuscode` through the value map ACCOUNT-INACTIVE. Business Central's integration
/// filter, like the file's, reads active accounts only; with `statecode = 0` dropped, as
/// docs/business-central.md says, a deactivated account blocks its customer.
@Suite("An inactive account blocks its customer", .serialized)
struct BusinessCentralBlockedCustomerTests {
    @Test("a coupled account deactivated in the CRM blocks its customer; a change to an active one leaves Blocked alone")
    func inactiveAccountBlocksCustomer() async throws {
        let filter = #"filter: "customertypecode = 3 AND statecode = 0""#
        try await withReferenceCustomers(editing: { $0.replacingOccurrences(of: filter, with: #"filter: "customertypecode = 3""#) }) {
            f, coordination, engine in
            #expect(try String(contentsOfFile: deployFile("mappings.yaml"), encoding: .utf8).contains(filter),
                    "CUSTOMER's integration filter is where the test expects it")
            let pairs = try await coordination.query(
                "SELECT local_id, integration_id FROM couplet.couplings WHERE mapping = 'CUSTOMER' ORDER BY local_id LIMIT 2"
            ).map { try $0.decode((String, String).self) }
            try #require(pairs.count == 2)
            let (deactivated, renamed) = (pairs[0], pairs[1])
            try await f.crm.query("UPDATE account SET statecode = 1, statuscode = 2 WHERE accountid = \(deactivated.1)::uuid")
            try await f.crm.query("UPDATE account SET name = name || ' Renamed' WHERE accountid = \(renamed.1)::uuid")
            _ = try await engine.run(mapping: "CUSTOMER", kind: .delta)
            #expect(try await blocked(deactivated.0, f) == "all", "the inactive account's customer is blocked")
            #expect(try await blocked(renamed.0, f) == "", "an active account's change leaves Blocked alone")
            #expect(try await f.erp.query("SELECT name FROM customer WHERE no = \(renamed.0)").single().decode(String.self, at: 0)
                .hasSuffix(" Renamed"))
        }
    }

    private func blocked(_ customer: String, _ f: DemoFixture) async throws -> String {
        try await f.erp.query("SELECT blocked FROM customer WHERE no = \(customer)").single().decode(String.self, at: 0)
    }
}
