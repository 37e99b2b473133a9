import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

/// A field carried both ways with rules one way only (a VAT number upper-cased on the way to the CRM).
@Suite("Round trips that would change data")
struct RoundTripTests {
    /// DEBTOR with `manager` upper-cased to the CRM and carried back as it is.
    private func withUppercasedManager(crm: CRMService, _ body: (OwnSchemaFixture) async throws -> Void) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping()
            try await f.coordination.query(
                "UPDATE couplet.field_mappings SET to_integration_rule = 'uppercase' WHERE mapping = 'DEBTOR' AND local_field = 'manager'")
            try await f.erp.query("INSERT INTO debtor (name, manager) VALUES ('Adatum', 'anna')")
            try await f.sync(.full)
            try await body(f)
        }
    }

    @Test("a CRM record changed for another reason does not rewrite the ERP's value that only differs by the one-way rule", arguments: CRMService.allCases)
    func otherChangeLeavesValue(crm: CRMService) async throws {
        try await withUppercasedManager(crm: crm) { f in
            #expect(try await f.value(f.crm, "SELECT manager FROM client", as: String.self) == "ANNA")
            try await f.crm.query("UPDATE client SET name = 'Adatum AS'")
            let counts = try await f.sync()
            #expect(counts[.fromIntegration]?.modified == 1, "\(counts)")
            #expect(try await f.value(f.erp, "SELECT name || '/' || manager FROM debtor", as: String.self) == "Adatum AS/anna")
            let quiet = try await f.sync()
            #expect(quiet.values.allSatisfy { $0.modified == 0 }, "in step: \(quiet)")
        }
    }

    @Test("a real change of the field in the CRM still travels to the ERP", arguments: CRMService.allCases)
    func realChangeTravels(crm: CRMService) async throws {
        try await withUppercasedManager(crm: crm) { f in
            try await f.crm.query("UPDATE client SET manager = 'BOB'")
            try await f.sync()
            #expect(try await f.value(f.erp, "SELECT manager FROM debtor", as: String.self) == "BOB")
        }
    }

    @Test("in a one-way mapping the rule's form is written whatever the target held", arguments: CRMService.allCases)
    func oneWayWritesRuleForm(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(direction: "to_integration")
            try await f.coordination.query(
                "UPDATE couplet.field_mappings SET to_integration_rule = 'uppercase' WHERE mapping = 'DEBTOR' AND local_field = 'manager'")
            try await f.erp.query("INSERT INTO debtor (name, manager) VALUES ('Adatum', 'anna')")
            try await f.sync(.full)
            try await f.crm.query("UPDATE client SET manager = 'anna'")
            try await f.erp.query("UPDATE debtor SET name = 'Adatum AS'")
            try await f.sync()
            #expect(try await f.value(f.crm, "SELECT manager FROM client", as: String.self) == "ANNA")
        }
    }

    @Test("the reference integration carries no field both ways with rules one way only")
    func referenceFileHasNoOneWayRules() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../deploy/business-central-sales/mappings.yaml")
        let file = try MappingFile.parse(String(contentsOf: path, encoding: .utf8), file: "mappings.yaml")
        #expect(file.mappings.count == 18)
        #expect(file.mappings.flatMap(RoundTripCheck.findings).map(\.message) == [])
    }
}
