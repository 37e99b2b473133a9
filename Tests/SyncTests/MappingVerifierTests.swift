import Foundation
import Logging
import Postgres
import Testing

@testable import Sync

/// `couplet verify` against real databases: drift that full syncs cannot see, found and repaired by policy.
@Suite("Verifying coupled pairs field by field")
struct MappingVerifierTests {
    /// Two customers synced to the CRM, then account 10000's name changed while the CRM's trigger
    /// was off: its modified-on is what the last sync stored, so every sync counts it unchanged.
    private func drift(_ f: SyncFixture) async throws {
        try await f.erp.runScript(
            "INSERT INTO customer (no, name, city, credit_limit) VALUES ('10000', 'Cannon', 'London', '1500.50'), ('20000', 'Selangor', 'KL', NULL)",
            name: "customers")
        try await f.sync(.full)
        try await f.crm.runScript(
            """
            ALTER TABLE account DISABLE TRIGGER touch;
            UPDATE account SET name = 'Drifted' WHERE account_number = '10000';
            ALTER TABLE account ENABLE TRIGGER touch;
            """, name: "drift")
    }

    private func verify(_ f: SyncFixture, repair: Bool = false) async throws -> VerifyReport {
        try await MappingVerifier(coordination: f.coordination, endpoints: f.endpoints, logger: Logger(label: "test"))
            .verify(mapping: "CUSTOMER", options: .init(repair: repair, pageSize: 1))
    }

    private func names(_ f: SyncFixture) async throws -> (customer: String, account: String) {
        (try await f.erp.query("SELECT name FROM customer WHERE no = '10000'").single().decode(String.self, at: 0),
         try await f.crm.query("SELECT name FROM account WHERE account_number = '10000'").single().decode(String.self, at: 0))
    }

    @Test("the defect: full syncs count a drifted pair unchanged; verify finds exactly that pair and field; repair sends the ERP's value")
    func oneWayDrift() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "to_integration")
            try await drift(f)
            for _ in 1...2 {
                let full = try await f.sync(.full)
                #expect(full[.toIntegration]?.unchanged == 2 && full[.toIntegration]?.modified == 0, "blind to drift: \(full)")
            }
            #expect(try await names(f).account == "Drifted", "full syncs left the drift")

            let found = try await verify(f)
            #expect(found.checked == 2 && found.inStep == 1 && found.differing == 1 && found.foundProblems)
            let localID = "10000"
            let account = try await f.crm.query("SELECT id::text FROM account WHERE account_number = '10000'").single().decode(String.self, at: 0)
            #expect(found.findings == [
                VerifyFinding(localID: localID, integrationID: account, state: .differs([
                    FieldDifference(localField: "name", integrationField: "name", travels: .toIntegration)
                ]))
            ])

            let repaired = try await verify(f, repair: true)
            #expect(repaired.repair?.repaired == 1 && repaired.repair?.conflicts == 0 && repaired.repair?.left == 0)
            #expect(repaired.repair?.runs[.toIntegration]?.modified == 1)
            #expect(!repaired.problemsRemain)
            #expect(try await names(f) == ("Cannon", "Cannon"), "the source side won")
            let after = try await verify(f)
            #expect(after.inStep == 2 && !after.foundProblems)
        }
    }

    @Test("a mapping with lookup rules is compared through the couplings they look up (verify used to trap on them)")
    func lookupRules() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.erp.query("INSERT INTO customer (no, name, salesperson_code) VALUES ('10000', 'Adatum', 'PS')")
            try await f.sync(.full)
            let report = try await verify(f)
            #expect(report.checked == 1 && report.inStep == 1, "\(report)")
            try await f.crm.runScript(
                "ALTER TABLE account DISABLE TRIGGER touch; UPDATE account SET owner_id = 'user-x'; ALTER TABLE account ENABLE TRIGGER touch",
                name: "drift")
            let drifted = try await verify(f)
            #expect(drifted.differing == 1, "the owner no longer matches the salesperson's coupled user: \(drifted)")
        }
    }

    @Test("a mapping whose fields all travel unchanged is compared by position with the same rules: numbers as numbers, NULL apart from empty")
    func plainFieldsCompareByPosition() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "to_integration")
            try await f.coordination.query("UPDATE couplet.field_mappings SET to_integration_rule = NULL WHERE mapping = 'CUSTOMER'")
            try await f.erp.runScript(
                """
                INSERT INTO customer (no, name, city, credit_limit) VALUES
                    ('10000', 'Cannon', 'London', '1500.5'), ('20000', 'Selangor', NULL, NULL), ('30000', 'Fjord', 'Oslo', '7')
                """, name: "customers")
            try await f.sync(.full)
            #expect(try await f.crm.query("SELECT credit_limit::text FROM account WHERE account_number = '10000'").single()
                .decode(String.self, at: 0) == "1500.50", "the CRM keeps its own scale: the texts differ, the numbers do not")
            let before = try await verify(f)
            #expect(before.checked == 3 && before.inStep == 3 && !before.foundProblems, "\(before.findings)")

            try await f.crm.runScript(
                """
                ALTER TABLE account DISABLE TRIGGER touch;
                UPDATE account SET city = '' WHERE account_number = '20000';
                ALTER TABLE account ENABLE TRIGGER touch;
                """, name: "drift")
            let after = try await verify(f)
            #expect(after.checked == 3 && after.inStep == 2 && after.differing == 1)
            #expect(after.findings.map(\.state) == [.differs([FieldDifference(localField: "city", integrationField: "city", travels: .toIntegration)])])
        }
    }

    @Test("bidirectional with update-conflict policy fail: the drifted pair is a conflict for a person, nothing is copied")
    func conflictPolicyFail() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "bidirectional", updateConflict: "fail")
            try await drift(f)
            let full = try await f.sync(.full)
            #expect(full[.toIntegration]?.modified == 0 && full[.fromIntegration]?.modified == 0)
            let repaired = try await verify(f, repair: true)
            #expect(repaired.differing == 1)
            #expect(repaired.findings.map(\.repair) == [.conflict])
            #expect(repaired.repair?.conflicts == 1 && repaired.repair?.repaired == 0 && repaired.problemsRemain)
            #expect(repaired.repair?.runs.isEmpty == true, "the engine was not asked to write")
            #expect(try await names(f) == ("Cannon", "Drifted"))
            #expect(try await verify(f).differing == 1)
        }
    }

    @Test("bidirectional with get_from_integration: the CRM's value wins, then verify reports zero")
    func conflictPolicyCRMWins() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "bidirectional", updateConflict: "get_from_integration")
            try await drift(f)
            let found = try await verify(f)
            #expect(found.findings.map(\.state) == [.differs([FieldDifference(localField: "name", integrationField: "name", travels: .bidirectional)])])
            let repaired = try await verify(f, repair: true)
            #expect(repaired.repair?.repaired == 1 && repaired.repair?.runs[.fromIntegration]?.modified == 1)
            #expect(try await names(f) == ("Drifted", "Drifted"))
            let after = try await verify(f)
            #expect(after.differing == 0 && after.inStep == 2)
            let delta = try await f.sync()
            #expect(delta.values.allSatisfy { $0.modified == 0 }, "the repair does not echo")
        }
    }

    @Test("a change the next delta carries is pending, not a difference; a field carried one way is compared that way only")
    func pendingAndOneWayRules() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "bidirectional")
            try await f.erp.runScript("INSERT INTO customer (no, name, city) VALUES ('10000', 'Cannon', '  London ')", name: "customer")
            try await f.sync(.full)
            // city is trimmed on its way to the CRM: '  London ' and 'London' are in step.
            #expect(try await verify(f).inStep == 1)
            try await f.crm.runScript("UPDATE account SET name = 'Edited in the CRM'", name: "crm edit")
            let pending = try await verify(f)
            #expect(pending.pending == 1 && pending.differing == 0 && !pending.foundProblems)
            try await f.sync()
            #expect(try await verify(f).inStep == 1)
        }
    }

    @Test("orphaned couplings and coupled records outside the filter are reported; repair applies the deletion policy")
    func orphansAndFilter() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "to_integration", filter: "city <> 'Closed' OR city IS NULL")
            try await f.erp.runScript(
                "INSERT INTO customer (no, name) VALUES ('1', 'a'), ('2', 'b'), ('3', 'c'), ('4', 'd')", name: "customers")
            try await f.sync(.full)
            try await f.crm.runScript("DELETE FROM account WHERE account_number = '1'", name: "delete account")
            try await f.erp.runScript("DELETE FROM customer WHERE no = '2'", name: "delete customer")
            try await f.erp.runScript("UPDATE customer SET city = 'Closed' WHERE no = '3'", name: "filter out")
            let found = try await verify(f)
            #expect(found.checked == 4 && found.inStep == 1 && found.orphaned == 2 && found.outsideFilter == 1 && found.differing == 0)
            #expect(found.findings.map(\.state) == [.orphaned(deleted: [.integration]), .orphaned(deleted: [.local]), .outsideFilter([.local])])
            #expect(found.foundProblems)

            // Deletion policy fail: the engine logs each as a failure for a person; nothing changes.
            let kept = try await verify(f, repair: true)
            #expect(kept.repair?.left == 2 && kept.repair?.runs[.toIntegration]?.failed == 2)
            try await f.coordination.runScript(
                "UPDATE couplet.table_mappings SET deletion_conflict = 'remove_coupling'", name: "policy")
            let removed = try await verify(f, repair: true)
            #expect(removed.repair?.repaired == 2 && removed.repair?.left == 0)
            let after = try await verify(f)
            #expect(after.checked == 2 && after.orphaned == 0 && !after.foundProblems)
        }
    }

    // MARK: Uncoupled records

    private func matchOn(_ f: SyncFixture, _ field: String) async throws {
        try await f.coordination.query(
            "UPDATE couplet.field_mappings SET match_priority = 1 WHERE mapping = 'CUSTOMER' AND local_field = \(field)")
    }

    private func accountID(_ f: SyncFixture, name: String) async throws -> String {
        try await f.crm.query("SELECT id::text FROM account WHERE name = \(name)").single().decode(String.self, at: 0)
    }

    @Test("uncoupled records that would couple by match are listed once, from the first pass's side, despite stray spaces and case; couplet match then couples them")
    func wouldMatchFromLocal() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "bidirectional")
            try await f.erp.runScript("INSERT INTO customer (no, name) VALUES ('20000', 'Selangor')", name: "coupled customer")
            try await f.sync(.full)
            try await matchOn(f, "name")
            try await f.erp.runScript(
                "INSERT INTO customer (no, name) VALUES ('10000', '  Cannon   Group '), ('30000', 'Nobody Matches')", name: "uncoupled")
            try await f.crm.runScript(
                "INSERT INTO account (name) VALUES (E'cannon\tgroup'), ('Only In The CRM')", name: "uncoupled accounts")
            let cannon = try await accountID(f, name: "cannon\tgroup")

            let found = try await verify(f)
            #expect(found.checked == 1 && found.inStep == 1)
            #expect(found.matchFieldsChecked && found.uncoupled == 4, "two uncoupled records on each side: \(found)")
            #expect(found.wouldMatch == 1 && found.duplicateGroups == 0)
            #expect(found.matchFindings == [MatchFinding(side: .local, id: "10000", counterpartID: cannon, action: .matchRun)],
                    "the pair is listed once, not again from the CRM's side")
            #expect(found.foundProblems && found.problemsRemain)

            try await f.sync(.match)
            let after = try await verify(f)
            #expect(after.checked == 2 && after.inStep == 1 && after.wouldMatch == 0, "the engine coupled exactly that pair: \(after)")
            #expect(after.uncoupled == 2)
        }
    }

    @Test("a mapping from the CRM matches uncoupled CRM records, through the field's from-integration rule")
    func wouldMatchFromIntegration() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "from_integration")
            try await matchOn(f, "city")
            try await f.coordination.runScript(
                "UPDATE couplet.field_mappings SET from_integration_rule = 'replace(\"-\", \" \")' WHERE mapping = 'CUSTOMER' AND local_field = 'city'",
                name: "rule")
            try await f.erp.runScript("INSERT INTO customer (no, name, city) VALUES ('10000', 'Cannon', 'Kuala  lumpur ')", name: "customer")
            try await f.crm.runScript("INSERT INTO account (name, city) VALUES ('Cannon', 'KUALA-LUMPUR')", name: "account")
            let account = try await accountID(f, name: "Cannon")
            let found = try await verify(f)
            #expect(found.matchFindings == [MatchFinding(side: .integration, id: account, counterpartID: "10000", action: .matchRun)], "\(found)")
            #expect(found.uncoupled == 1, "only the side the pass starts from is walked")
            try await f.sync(.match)
            let after = try await verify(f)
            #expect(after.checked == 1 && after.wouldMatch == 0 && after.uncoupled == 0, "the engine coupled that pair: \(after)")
        }
    }

    @Test("records sharing normalised match values are duplicate groups on their side; matching refuses them, so none would couple")
    func duplicates() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "to_integration")
            try await matchOn(f, "name")
            try await f.erp.runScript(
                """
                INSERT INTO customer (no, name) VALUES ('1', 'Cannon'), ('2', ' CANNON'), ('3', 'Selangor'), ('4', ''), ('5', '')
                """, name: "customers")
            try await f.crm.runScript(
                "INSERT INTO account (name) VALUES ('cannon'), ('Selangor '), ('selangor'), ('Other')", name: "accounts")
            let found = try await verify(f)
            #expect(found.duplicateGroups == 2 && found.wouldMatch == 0, "\(found)")
            #expect(found.duplicates.map(\.side) == [.local, .integration])
            #expect(found.duplicates.map(\.fields) == [["name"], ["name"]])
            #expect(found.duplicates.map(\.group.values) == [["cannon"], ["selangor"]])
            #expect(found.duplicates.first?.group == DuplicateGroup(values: ["cannon"], count: 2, ids: ["1", "2"]))
            #expect(found.foundProblems)
            let matched = try await f.sync(.match)
            #expect(matched[.toIntegration]?.coupled == 0, "the engine refuses them too: \(matched)")

            let limited = try await MappingVerifier(coordination: f.coordination, endpoints: f.endpoints, logger: Logger(label: "test"))
                .verify(mapping: "CUSTOMER", options: .init(limit: 1))
            #expect(limited.duplicateGroups == 2 && limited.duplicates.count == 1)
        }
    }

    @Test("a mapping without match fields: uncoupled records are not looked at, and are no problem")
    func noMatchFields() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "bidirectional")
            try await f.erp.runScript("INSERT INTO customer (no, name) VALUES ('1', 'Cannon'), ('2', 'Cannon')", name: "customers")
            try await f.crm.runScript("INSERT INTO account (name) VALUES ('Cannon')", name: "account")
            let found = try await verify(f)
            #expect(!found.matchFieldsChecked && found.uncoupled == 0 && found.wouldMatch == 0 && found.duplicateGroups == 0)
            #expect(!found.foundProblems)
        }
    }
}
