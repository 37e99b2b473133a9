import Demo
import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Sync
import Testing

/// Business Central's team ownership model (CDS Connection Setup's "Ownership Model" = Team) as
/// docs/business-central.md describes it for the reference file: no salesperson ↔ owner field
/// (ResetCustomerAccountMapping and ResetContactContactMapping insert none under Team), and the CRM
/// records a sync creates owned by the configured team (CDSIntTableSubscriber.SetOwnerId →
/// CDSIntegrationMgt.SetOwningTeam), through the integration side's template.
@Suite("Team ownership: new CRM records are the team's, existing owners are never changed", .serialized)
struct BusinessCentralOwnershipTests {
    /// The mappings whose new CRM records the team owns.
    static let owned = ["CUSTOMER", "VENDOR", "CONTACT"]

    @Test("a customer synced under team ownership: its new account is the team's; an existing account keeps its owner when the salesperson changes")
    func teamOwnsNewAccountsOnly() async throws {
        try await withMigratedDatabase { _, coordination in
            try await DemoFixture.with { f in
                let team = try await f.crm.query("SELECT teamid::text FROM team WHERE name = 'Inside Sales'").single().decode(String.self, at: 0)
                try await MappingStore.apply(try Self.referenceFile(ownedBy: team), prune: false, on: coordination)
                let engine = SyncEngine(coordination: coordination, endpoints: EndpointDirectory(environment: f.environment),
                                        logger: Logger(label: "test"))
                for mapping in ["CURRENCY", "PAYMENT-TERMS", "SHIPMENT-METHOD", "SHIPPING-AGENT"] {
                    _ = try await engine.run(mapping: mapping, kind: .full)
                }
                let existing = try await ownersOfAccounts(f)
                let full = try await engine.run(mapping: "CUSTOMER", kind: .full)
                #expect(full[.toIntegration]?.inserted ?? 0 > 30, "\(full)")

                let created = try await ownersOfAccounts(f).filter { existing[$0.key] == nil }
                #expect(created.count == full[.toIntegration]?.inserted, "every new account was counted")
                #expect(created.values.allSatisfy { $0 == "\(team) team" }, "the team owns every new account: \(Set(created.values))")
                #expect(try await ownersOfAccounts(f).filter { existing[$0.key] != nil } == existing, "no existing owner changed")

                // A person gives an account the team owns to a user; later the customer's salesperson changes.
                let customer = try await f.erp.query(
                    "SELECT no FROM customer WHERE salesperson_code IS NOT NULL AND blocked = '' ORDER BY no LIMIT 1"
                ).single().decode(String.self, at: 0)
                let account = try await coordination.query(
                    "SELECT integration_id FROM couplet.couplings WHERE mapping = 'CUSTOMER' AND local_id = \(customer)"
                ).single().decode(String.self, at: 0)
                let user = try await f.crm.query("SELECT systemuserid::text FROM systemuser ORDER BY fullname LIMIT 1")
                    .single().decode(String.self, at: 0)
                try await f.crm.query("UPDATE account SET ownerid = \(user)::uuid WHERE accountid = \(account)::uuid")
                let salesperson = try await salespersonCode(of: customer, f)
                _ = try await engine.run(mapping: "CUSTOMER", kind: .delta)
                #expect(try await salespersonCode(of: customer, f) == salesperson, "the CRM's new owner is not the customer's salesperson")
                try await f.erp.query("UPDATE customer SET salesperson_code = 'HF', name = name || ' AS' WHERE no = \(customer)")
                _ = try await engine.run(mapping: "CUSTOMER", kind: .delta)
                let after = try await f.crm.query("SELECT ownerid::text, name FROM account WHERE accountid = \(account)::uuid")
                    .single().decode((String, String).self)
                #expect(after.0 == user, "the owner stays the user's")
                #expect(after.1.hasSuffix(" AS"), "the rest of the customer travelled")
            }
        }
    }

    /// deploy/business-central-sales/mappings.yaml under team ownership, as docs/business-central.md
    /// says to change it: the owner fields out, the team as the CRM template's owner.
    static func referenceFile(ownedBy team: String) throws -> MappingFileDefinition {
        var file = try MappingFile.parse(String(contentsOfFile: deployFile("mappings.yaml"), encoding: .utf8), file: "mappings.yaml")
        for index in file.mappings.indices where owned.contains(file.mappings[index].name) {
            file.mappings[index].mapping.fields.removeAll { ["ownerid", "owneridtype"].contains($0.integrationField) }
            file.mappings[index].mapping.integration.template["ownerid"] = team
        }
        return file
    }

    private func salespersonCode(of customer: String, _ f: DemoFixture) async throws -> String? {
        try await f.erp.query("SELECT salesperson_code FROM customer WHERE no = \(customer)").single().decode(String?.self, at: 0)
    }

    /// Each account's owner and owner type, by account id.
    private func ownersOfAccounts(_ f: DemoFixture) async throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try await f.crm.query(
            "SELECT accountid::text, ownerid::text || ' ' || owneridtype FROM account"
        ).map { try $0.decode((String, String).self) })
    }
}
