import Demo
import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Sync
import Testing

/// A customer's primary contact, which Business Central sets on the account in code once it couples
/// the contact: customers synchronize before contacts, so on the first full sync the lookup finds no
/// coupled contact and the field (Clear Value on Failed Sync) is written empty. Coupling the contacts
/// writes it (`ReferenceFollowUp`); before, the account kept none, and a change to the account carried
/// the empty value back over the customer's.
@Suite("A customer's primary contact arrives once its contact is coupled", .serialized)
struct BusinessCentralPrimaryContactTests {
    @Test("coupling the contacts gives their customers' accounts the primary contact, and a later change to an account does not clear the customer's")
    func primaryContactFollowsCoupling() async throws {
        try await withReferenceCustomers { f, coordination, engine in
            let primaryContacts = try await expected(f, coordination)
            try #require(primaryContacts.count > 5, "the demo has coupled customers with a primary contact")
            #expect(primaryContacts.allSatisfy { $0.account == nil }, "the first full sync clears them: no contact is coupled yet")
            // Before the contacts are coupled, a person renames one customer in the ERP and changes
            // another's account in the CRM: neither change may be lost to the value written after.
            let (renamed, rephoned) = (primaryContacts[0], primaryContacts[1])
            try await f.erp.query("UPDATE customer SET name = 'Renamed before the contacts' WHERE no = \(renamed.customer)")
            try await f.crm.query("UPDATE account SET telephone1 = '+47 99 88 77 66' WHERE accountid = \(rephoned.accountID)::uuid")
            _ = try await engine.run(mapping: "CONTACT", kind: .full)
            let pairs = try await expected(f, coordination).filter { $0.contact != nil }
            #expect(pairs.count > 5, "the demo has customers whose primary contact is coupled")
            #expect(pairs.allSatisfy { $0.account == $0.contact }, "every such account has its primary contact")
            let delta = try await engine.run(mapping: "CUSTOMER", kind: .delta)
            #expect(delta.values.allSatisfy { $0.modified == 1 && $0.inserted == 0 },
                    "only the two people's changes travel; the accounts written read as in step: \(delta)")
            #expect(try await f.crm.query("SELECT name FROM account WHERE accountid = \(renamed.accountID)::uuid").single()
                .decode(String.self, at: 0) == "Renamed before the contacts")
            #expect(try await f.erp.query("SELECT phone_no FROM customer WHERE no = \(rephoned.customer)").single()
                .decode(String?.self, at: 0) == "+47 99 88 77 66")

            let pair = try #require(pairs.last)
            try await f.crm.query("UPDATE account SET telephone1 = '+47 11 22 33 44' WHERE accountid = \(pair.accountID)::uuid")
            _ = try await engine.run(mapping: "CUSTOMER", kind: .delta)
            let kept = try await f.erp.query("SELECT primary_contact_no FROM customer WHERE no = \(pair.customer)").single().decode(String?.self, at: 0)
            #expect(kept != nil, "the account's change carried no empty primary contact back")
        }
    }

    /// For each coupled customer with a primary contact: its account, the contact's CRM id when the
    /// contact is coupled, and the primary contact the account holds.
    private func expected(_ f: DemoFixture, _ coordination: PostgresConnection) async throws
        -> [(customer: String, accountID: String, contact: String?, account: String?)]
    {
        let customers = try await f.erp.query(
            "SELECT no, primary_contact_no FROM customer WHERE primary_contact_no IS NOT NULL ORDER BY no"
        ).map { try $0.decode((String, String).self) }
        var result: [(customer: String, accountID: String, contact: String?, account: String?)] = []
        for (customer, primary) in customers {
            guard let accountID = try await coordination.query(
                "SELECT integration_id FROM couplet.couplings WHERE mapping = 'CUSTOMER' AND local_id = \(customer)"
            ).first?.decode(String.self, at: 0) else { continue }
            let contact = try await coordination.query(
                "SELECT integration_id FROM couplet.couplings WHERE mapping = 'CONTACT' AND local_id = \(primary)"
            ).first?.decode(String.self, at: 0)
            let account = try await f.crm.query("SELECT primarycontactid::text FROM account WHERE accountid = \(accountID)::uuid")
                .single().decode(String?.self, at: 0)
            result.append((customer, accountID, contact, account))
        }
        return result
    }
}
