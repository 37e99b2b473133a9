import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

/// Per-record semantics that follow Business Central's integration (CRMIntegrationTableSynch and
/// IntegrationRecordSynch in its base application), end to end on schemas unlike the demo's.
@Suite("Business Central's per-record semantics")
struct BusinessCentralSemanticsTests {
    @Test("not null: a blank salesperson is not transferred; the CRM keeps its owner and the rest of the record travels")
    func notNullKeepsTargetValue() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.coordination.query("UPDATE couplet.field_mappings SET not_null = true WHERE mapping = 'CUSTOMER' AND position = 5")
            try await f.erp.query("INSERT INTO customer (no, name, salesperson_code) VALUES ('C1', 'Adatum', 'PS'), ('C2', 'Fabrikam', '')")
            let first = try await f.sync(.full)
            #expect(first[.toIntegration]?.inserted == 2 && first[.toIntegration]?.failed == 0, "a blank salesperson does not fail: \(first)")
            try await f.erp.query("UPDATE customer SET salesperson_code = NULL, name = 'Adatum AS' WHERE no = 'C1'")
            let counts = try await f.sync()
            #expect(counts[.toIntegration]?.failed == 0, "\(counts)")
            let owner = try await f.crm.query("SELECT name, owner_id FROM account WHERE account_number = 'C1'").single().decode((String, String?).self)
            #expect(owner.0 == "Adatum AS" && owner.1 == "user-ps")
        }
    }

    /// DEBTOR with credit limits carried to the CRM only and managers from it only, and one pair in step.
    private func withOneWayFields(updateConflict: String, _ body: (OwnSchemaFixture) async throws -> Void) async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(updateConflict: updateConflict)
            try await f.coordination.query(
                """
                UPDATE couplet.field_mappings SET direction = CASE local_field WHEN 'credit_limit' THEN 'to_integration' ELSE 'from_integration' END
                WHERE mapping = 'DEBTOR' AND local_field IN ('credit_limit', 'manager')
                """)
            try await f.erp.query("INSERT INTO debtor (name, credit_limit, manager) VALUES ('Adatum', 100, 'ANNA')")
            try await f.sync(.full)
            try await f.crm.query("UPDATE client SET manager = 'ANNA'")
            try await f.sync()
            try await body(f)
        }
    }

    @Test("a one-way field changed on both sides is no conflict: it belongs to its source")
    func oneWayFieldIsNoConflict() async throws {
        try await withOneWayFields(updateConflict: "fail") { f in
            try await f.erp.query("UPDATE debtor SET credit_limit = 500")
            try await f.crm.query("UPDATE client SET credit = 900")
            let counts = try await f.sync()
            #expect(counts.values.allSatisfy { $0.failed == 0 }, "\(counts)")
            #expect(try await f.value(f.crm, "SELECT credit::text FROM client", as: String.self) == "500.00")
        }
    }

    @Test("a two-way field changed on both sides is still a conflict under fail")
    func twoWayFieldConflicts() async throws {
        try await withOneWayFields(updateConflict: "fail") { f in
            try await f.erp.query("UPDATE debtor SET name = 'Adatum AS'")
            try await f.crm.query("UPDATE client SET name = 'Adatum Ltd'")
            let counts = try await f.sync()
            #expect(counts[.toIntegration]?.failed == 1, "\(counts)")
        }
    }

    @Test("after a conflict the winner resolves, the loser's one-way changes still flow back")
    func losersOneWayChangesFlow() async throws {
        try await withOneWayFields(updateConflict: "send_to_integration") { f in
            try await f.erp.query("UPDATE debtor SET name = 'Adatum AS'")
            try await f.crm.query("UPDATE client SET name = 'Adatum Ltd', manager = 'BOB'")
            try await f.sync()
            try await f.sync()
            #expect(try await f.value(f.crm, "SELECT name FROM client", as: String.self) == "Adatum AS", "the ERP won the name")
            #expect(try await f.value(f.erp, "SELECT name || '/' || manager FROM debtor", as: String.self) == "Adatum AS/BOB",
                    "the CRM's manager, which only it carries, reached the ERP")
            let quiet = try await f.sync()
            #expect(quiet.values.allSatisfy { $0.modified == 0 && $0.failed == 0 }, "in step: \(quiet)")
        }
    }
}

@Suite("Business Central's owner and salesperson")
struct OwnerSemanticsTests {
    @Test("from the CRM, an owner that is not coupled (a team, a user without a salesperson) keeps the customer's salesperson; the rest travels")
    func uncoupledOwnerKeepsSalesperson() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.coordination.runScript(
                """
                UPDATE couplet.table_mappings SET direction = 'bidirectional' WHERE name = 'CUSTOMER';
                UPDATE couplet.field_mappings SET direction = 'bidirectional', from_integration_rule = 'lookup(SALESPEOPLE, keep)'
                WHERE mapping = 'CUSTOMER' AND position = 5
                """, name: "owner both ways")
            try await f.erp.query("INSERT INTO customer (no, name, salesperson_code) VALUES ('C1', 'Adatum', 'PS')")
            try await f.sync(.full)
            try await f.crm.query("UPDATE account SET owner_id = 'team-sales', name = 'Adatum AS'")
            let counts = try await f.sync()
            #expect(counts[.fromIntegration]?.failed == 0 && counts[.fromIntegration]?.modified == 1, "\(counts)")
            let customer = try await f.erp.query("SELECT name, salesperson_code FROM customer").single().decode((String, String).self)
            #expect(customer == ("Adatum AS", "PS"))
        }
    }
}

@Suite("Constant fields")
struct ConstantFieldTests {
    @Test("a constant sent to the CRM needs no source column: the ERP column it names is never read (Business Central's owner-type constant)")
    func constantNeedsNoSourceColumn() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.crm.query("ALTER TABLE client ADD COLUMN ownertype text")
            try await f.coordination.query(
                """
                INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field, direction, constant)
                VALUES ('DEBTOR', 6, 'no_such_column', 'ownertype', 'to_integration', 'systemuser')
                """)
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Adatum')")
            let counts = try await f.sync(.full)
            #expect(counts[.toIntegration]?.inserted == 1, "\(counts)")
            #expect(try await f.value(f.crm, "SELECT ownertype FROM client", as: String.self) == "systemuser")
        }
    }
}

@Suite("Echo by identity: a modified-by column")
struct ModifiedByTests {
    /// DEBTOR whose ERP table stamps `modified_by` with the role that changed a row, unless the
    /// statement sets it (a person's edit here says `modified_by = 'anna'`); the worker's endpoint login is the test's.
    private func withModifiedBy(_ body: (OwnSchemaFixture) async throws -> Void) async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.erp.runScript(
                """
                ALTER TABLE debtor ADD COLUMN modified_by text;
                CREATE FUNCTION stamp_modified_by() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'INSERT' OR NEW.modified_by IS NOT DISTINCT FROM OLD.modified_by THEN NEW.modified_by := current_user; END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER stamp_modified_by BEFORE INSERT OR UPDATE ON debtor FOR EACH ROW EXECUTE FUNCTION stamp_modified_by();
                """, name: "modified_by")
            try await f.coordination.query("UPDATE couplet.table_mappings SET local_modified_by = 'modified_by'")
            try await body(f)
        }
    }

    @Test("a delta takes a row last changed by the integration's login for its own write: it does not travel back")
    func integrationWriteDoesNotEcho() async throws {
        try await withModifiedBy { f in
            try await f.erp.query("INSERT INTO debtor (name, modified_by) VALUES ('Adatum', 'anna')")
            try await f.sync(.full)
            try await f.erp.query("UPDATE debtor SET name = 'Written by the integration'")  // as the worker's own login, not recorded
            let counts = try await f.sync()
            #expect(counts[.toIntegration]?.modified == 0, "\(counts)")
            #expect(try await f.value(f.crm, "SELECT name FROM client", as: String.self) == "Adatum")
        }
    }

    @Test("a person's change travels as before; an uncoupled row the integration's login wrote waits for a full run")
    func personsChangeTravels() async throws {
        try await withModifiedBy { f in
            try await f.erp.query("INSERT INTO debtor (name, modified_by) VALUES ('Adatum', 'anna')")
            try await f.sync(.full)
            try await f.erp.query("UPDATE debtor SET name = 'Adatum AS', modified_by = 'anna'")
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Fabrikam')")
            let counts = try await f.sync()
            #expect(counts[.toIntegration]?.modified == 1 && counts[.toIntegration]?.inserted == 0, "\(counts)")
            #expect(try await f.value(f.crm, "SELECT name FROM client", as: String.self) == "Adatum AS")
            let full = try await f.sync(.full)
            #expect(full[.toIntegration]?.inserted == 1, "a full run reads every record: \(full)")
        }
    }

    @Test("validate reports a modified-by column the table lacks")
    func missingModifiedByColumn() async throws {
        try await EndpointFixture.with { f in
            let file = customerFile(local: "{endpoint: erp, table: customer, key: no, modified: modified_at, modified_by: changed_by}")
            let problems = try await f.endpointProblems(file)
            #expect(problems.contains { $0.contains("changed_by: no such column") }, "\(problems)")
        }
    }
}
