import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

/// Business Central's `CRMCouplingTest` (codeunit 139182, "CRM Coupling Test"), ported: coupling by
/// hand, creating a record on the other side for one chosen record, corrupt couplings, references
/// through another mapping's couplings and "clear value on failed sync". Its pages, price lists, unit
/// groups and item specifics are not Couplet's (docs/business-central-scenarios.md says why, per test).
@Suite("Business Central's CRMCouplingTest")
struct BusinessCentralCouplingScenarioTests {
    @Test("CRMCouplingTest.CoupleSalesperson: coupling by hand in a mapping from the CRM, then syncing, gives the ERP record the CRM's values")
    func coupleThenSyncFromCRM() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.erp.query("INSERT INTO debtor (name, manager) VALUES ('ERP name', 'ANNA')")
            try await f.crm.query("INSERT INTO client (name, manager) VALUES ('CRM name', 'BOB')")
            let debtor = try await f.debtorID("ERP name")
            let client = try await f.clientID("CRM name")
            try await RecordActions.couple(mapping: "DEBTOR", localID: debtor, integrationID: client, on: f.coordination)
            try await f.sync(.records, records: ChosenRecords(side: .integration, ids: [client]))
            #expect(try await f.value(f.erp, "SELECT name || '/' || manager FROM debtor", as: String.self) == "CRM name/BOB")
            #expect(try await f.value(f.crm, "SELECT name || '/' || manager FROM client", as: String.self) == "CRM name/BOB")
            #expect(try await f.couplings() == [debtor: client])
        }
    }

    @Test("CRMCouplingTest.CoupleCustomer: coupling by hand in a bidirectional mapping and synchronizing from the ERP gives the CRM record the ERP's values")
    func coupleThenPushToCRM() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('ERP name')")
            try await f.crm.query("INSERT INTO client (name) VALUES ('CRM name')")
            let debtor = try await f.debtorID("ERP name")
            let client = try await f.clientID("CRM name")
            try await RecordActions.couple(mapping: "DEBTOR", localID: debtor, integrationID: client, on: f.coordination)
            try await f.sync(.records, records: ChosenRecords(side: .local, ids: [debtor]))
            #expect(try await f.couplings() == [debtor: client])
            #expect(try await f.value(f.erp, "SELECT name FROM debtor", as: String.self) == "ERP name")
            let crmName = try await f.value(f.crm, "SELECT name FROM client", as: String.self)
            withKnownIssue("differs: a pair coupled by hand whose fields differ is decided as changed on both sides, so under update_conflict fail it is a conflict for a person; Business Central's coupling page lets the person pick the direction (Couplet: couplet resolve, being merged)") {
                #expect(crmName == "ERP name")
            }
        }
    }

    @Test("CRMCouplingTest.CoupleContact: coupling by hand without synchronizing couples the records and leaves both as they were")
    func coupleWithoutSync() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('ERP name')")
            try await f.crm.query("INSERT INTO client (name) VALUES ('CRM name')")
            let debtor = try await f.debtorID("ERP name")
            let client = try await f.clientID("CRM name")
            try await RecordActions.couple(mapping: "DEBTOR", localID: debtor, integrationID: client, on: f.coordination)
            #expect(try await f.couplings() == [debtor: client])
            #expect(try await f.value(f.erp, "SELECT name FROM debtor", as: String.self) == "ERP name")
            #expect(try await f.value(f.crm, "SELECT name FROM client", as: String.self) == "CRM name")
        }
    }

    @Test("CRMCouplingTest.CreateCustomerFromCRM: creating the ERP record of one chosen CRM record (only coupled records otherwise) inserts it, couples it, logs one insert")
    func createFromCRM() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.setMapping("sync_only_coupled = true")
            try await f.crm.query("INSERT INTO client (name) VALUES ('Chosen'), ('Not chosen')")
            let chosen = try await f.clientID("Chosen")
            let counts = try await f.sync(.records, records: ChosenRecords(side: .integration, ids: [chosen]))
            #expect(counts[.fromIntegration]?.inserted == 1 && counts[.fromIntegration]?.failed == 0, "\(counts)")
            #expect(try await f.couplings() == [try await f.debtorID("Chosen"): chosen])
            #expect(try await f.rows(f.erp, "debtor") == 1)
        }
    }

    @Test("CRMCouplingTest.CoupleCurrency: creating the CRM record of one chosen ERP record inserts it, couples it and records success")
    func createInCRM() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "to_integration")
            try await f.setMapping("sync_only_coupled = true")
            try await f.erp.query("INSERT INTO debtor (name, country) VALUES ('Chosen', 'NO'), ('Not chosen', 'SE')")
            let chosen = try await f.debtorID("Chosen")
            let counts = try await f.sync(.records, records: ChosenRecords(side: .local, ids: [chosen]))
            #expect(counts[.toIntegration]?.inserted == 1, "\(counts)")
            #expect(try await f.value(f.crm, "SELECT name || '/' || country FROM client", as: String.self) == "Chosen/NO")
            #expect(try await f.value(
                f.coordination, "SELECT local_result FROM couplet.couplings WHERE local_id = \(chosen)", as: String?.self) == "success")
        }
    }

    @Test("CRMCouplingTest.CoupleCurrencyFailsIfNoExchangeRate: a new record the CRM refuses is not created, not coupled, and logged as one failure; the run itself succeeds")
    func refusedCreationFails() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "to_integration")
            try await f.crm.runScript("ALTER TABLE client ADD CONSTRAINT needs_country CHECK (country IS NOT NULL)", name: "constraint")
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('No country')")
            let counts = try await f.sync(.records, records: ChosenRecords(side: .local, ids: [try await f.debtorID("No country")]))
            #expect(counts[.toIntegration]?.failed == 1 && counts[.toIntegration]?.inserted == 0, "\(counts)")
            #expect(try await f.couplings().isEmpty)
            #expect(try await f.rows(f.crm, "client") == 0)
            #expect(try await f.errors().map(\.errorClass) == ["write_refused:23514:needs_country"])
            #expect(try await f.value(f.coordination, "SELECT state FROM couplet.sync_runs", as: String.self) == "succeeded")
        }
    }

    @Test("CRMCouplingTest.CoupleUnitOfMeasure: coupling a coupled record to another CRM record (uncouple, couple) leaves the first uncoupled and gives the second the ERP's values")
    func recouple() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "to_integration")
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('PCS')")
            try await f.crm.query("INSERT INTO client (name) VALUES ('BOX'), ('KG')")
            let debtor = try await f.debtorID("PCS")
            try await RecordActions.couple(mapping: "DEBTOR", localID: debtor, integrationID: try await f.clientID("BOX"), on: f.coordination)
            let second = try await f.clientID("KG")
            await #expect(throws: RecordActions.Refusal.self, "a coupled record is not silently coupled again") {
                try await RecordActions.couple(mapping: "DEBTOR", localID: debtor, integrationID: second, on: f.coordination)
            }
            try await RecordActions.resolve(.uncouple, mapping: "DEBTOR", id: debtor, on: f.coordination)
            try await RecordActions.couple(mapping: "DEBTOR", localID: debtor, integrationID: second, on: f.coordination)
            try await f.sync(.records, records: ChosenRecords(side: .local, ids: [debtor]))
            #expect(try await f.couplings() == [debtor: second])
            #expect(try await f.value(f.crm, "SELECT name FROM client WHERE id = \(second)::uuid", as: String.self) == "PCS")
            #expect(try await f.rows(f.crm, "client") == 2)
        }
    }

    @Test("CRMCouplingTest.CoupleToNewUoMAfterMapIsSynched: creating the CRM record of a chosen ERP record does not depend on the last synchronization time")
    func createIgnoresWatermark() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "to_integration")
            try await f.erp.query("INSERT INTO debtor (name, modified_at) VALUES ('Older than the watermark', now() - interval '1 hour')")
            try await f.setMapping("sync_only_coupled = true, local_watermark = now() + interval '1 second'")
            let id = try await f.debtorID("Older than the watermark")
            #expect(try await f.sync(.records, records: ChosenRecords(side: .local, ids: [id]))[.toIntegration]?.inserted == 1)
            #expect(try await f.couplings().keys.contains(id))
        }
    }

    @Test("CRMCouplingTest.CoupleOpportunityToNewEmptySalespersonCode: a record created without a salesperson is coupled, its owner left empty")
    func emptySalespersonLeavesOwnerEmpty() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.erp.query("INSERT INTO customer (no, name, salesperson_code) VALUES ('C1', 'Adatum', NULL)")
            let counts = try await f.syncCustomers(["C1"])
            #expect(counts[.toIntegration]?.inserted == 1 && counts[.toIntegration]?.failed == 0, "\(counts)")
            #expect(try await f.customerCoupling("C1") != nil)
            #expect(try await f.crm.query("SELECT owner_id FROM account").single().decode(String?.self, at: 0) == nil)
        }
    }

    @Test("CRMCouplingTest.TestProductToNewItem: a record created from the CRM gets its reference through the couplings of the mapping it names")
    func referenceFromCRMThroughCoupling() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.coordination.runScript(
                """
                UPDATE couplet.table_mappings SET direction = 'from_integration' WHERE name = 'CUSTOMER';
                UPDATE couplet.field_mappings SET direction = 'bidirectional', from_integration_rule = 'lookup(SALESPEOPLE)'
                WHERE mapping = 'CUSTOMER' AND position = 5
                """, name: "owner from the CRM")
            try await f.crm.query("INSERT INTO account (account_number, name, owner_id) VALUES ('C9', 'Fabrikam', 'user-ps')")
            #expect(try await f.sync()[.fromIntegration]?.inserted == 1)
            #expect(try await f.erp.query("SELECT salesperson_code FROM customer WHERE no = 'C9'").single().decode(String?.self, at: 0) == "PS")
        }
    }

    @Test("CRMCouplingTest.TestProductToNewItemResourceNotPickedUp: creating from the CRM for one chosen record leaves the other uncoupled CRM records alone")
    func createOnlyChosen() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.crm.query("INSERT INTO client (name) VALUES ('Inventory'), ('Service')")
            try await f.sync(.records, records: ChosenRecords(side: .integration, ids: [try await f.clientID("Inventory")]))
            #expect(try await f.value(f.erp, "SELECT string_agg(name, ',') FROM debtor", as: String.self) == "Inventory")
        }
    }

    @Test("CRMCouplingTest.SyncAccountModifiedByIntegrationUserToNewCustomer: a CRM record last changed by the integration's own login is still created when a person asks for it")
    func askedForIntegrationUsersRecord() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.crm.runScript("ALTER TABLE client ADD COLUMN changed_by text", name: "modified by")
            try await f.setMapping("integration_modified_by = 'changed_by', sync_only_coupled = true")
            try await f.crm.query("INSERT INTO client (name, changed_by) VALUES ('Ours', current_user)")
            let id = try await f.clientID("Ours")
            #expect(try await f.sync(.records, records: ChosenRecords(side: .integration, ids: [id]))[.fromIntegration]?.inserted == 1)
            #expect(try await f.couplings().values.contains(id))
        }
    }

    @Test("CRMCouplingTest.SyncAccountWithCorruptCouplingToNewCustomer: creating the ERP record of a CRM record coupled to a deleted one creates and couples a new record")
    func corruptCouplingFromCRM() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.crm.query("INSERT INTO client (name) VALUES ('Adatum')")
            try await f.sync(.full)
            let deleted = try await f.debtorID("Adatum")
            try await f.erp.query("DELETE FROM debtor")
            let client = try await f.clientID("Adatum")
            try await f.sync(.records, records: ChosenRecords(side: .integration, ids: [client]))
            let coupled = try await f.couplings()
            let debtors = try await f.rows(f.erp, "debtor")
            withKnownIssue("differs: under deletion_conflict fail the record fails for a person to decide; Business Central's \"create from CRM\" replaces the corrupt coupling (Couplet: remove_coupling or restore, or couplet uncouple first)") {
                #expect(debtors == 1)
                #expect(coupled.count == 1 && coupled[deleted] == nil && coupled.values.contains(client), "\(coupled)")
            }
        }
    }

    @Test("CRMCouplingTest.SyncCustomerWithCorruptCouplingToNewCRMAccount: creating the CRM record of an ERP record coupled to a deleted one creates and couples a new record")
    func corruptCouplingToCRM() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Adatum')")
            try await f.sync(.full)
            let deleted = try await f.clientID("Adatum")
            try await f.crm.query("DELETE FROM client")
            let debtor = try await f.debtorID("Adatum")
            try await f.sync(.records, records: ChosenRecords(side: .local, ids: [debtor]))
            let coupled = try await f.couplings()
            let clients = try await f.rows(f.crm, "client")
            withKnownIssue("differs: under deletion_conflict fail the record fails for a person to decide; Business Central's \"create in CRM\" replaces the corrupt coupling (Couplet: remove_coupling or restore, or couplet uncouple first)") {
                #expect(clients == 1)
                #expect(coupled[debtor] != nil && coupled[debtor] != deleted, "\(coupled)")
            }
        }
    }

    @Test("CRMCouplingTest.UpdateCRMAccountPrimaryContactCodeFromCustomer: a reference the ERP record holds reaches the CRM as the coupled CRM id")
    func referenceToCRMThroughCoupling() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.erp.query("INSERT INTO customer (no, name) VALUES ('C1', 'Adatum')")
            try await f.sync()
            try await f.erp.query("UPDATE customer SET salesperson_code = 'PS'")
            #expect(try await f.sync()[.toIntegration]?.modified == 1)
            #expect(try await f.crm.query("SELECT owner_id FROM account").single().decode(String?.self, at: 0) == "user-ps")
        }
    }

    @Test("CRMCouplingTest.NAVtoCRMSyncClearValueOnFailedSyncYes: with clear-on-failure, an uncoupled reference empties the CRM field and the record syncs without error")
    func clearOnFailure() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.coordination.query("UPDATE couplet.field_mappings SET clear_on_failure = true WHERE mapping = 'CUSTOMER' AND position = 5")
            try await f.erp.query("INSERT INTO customer (no, name, salesperson_code) VALUES ('C1', 'Adatum', 'PS')")
            try await f.sync()
            try await f.erp.query("UPDATE customer SET salesperson_code = 'NOT-COUPLED'")
            let counts = try await f.sync()[.toIntegration]
            #expect(counts?.failed == 0 && counts?.modified == 1, "\(String(describing: counts))")
            #expect(try await f.crm.query("SELECT owner_id FROM account").single().decode(String?.self, at: 0) == nil)
        }
    }

    @Test("CRMCouplingTest.NAVtoCRMSyncClearValueOnFailedSyncNo: without it, an uncoupled reference fails the record saying it must be coupled; the CRM value stays")
    func uncoupledReferenceFails() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.erp.query("INSERT INTO customer (no, name, salesperson_code) VALUES ('C1', 'Adatum', 'PS')")
            try await f.sync()
            try await f.erp.query("UPDATE customer SET salesperson_code = 'NOT-COUPLED'")
            #expect(try await f.sync()[.toIntegration]?.failed == 1)
            let message = try await f.coordination.query("SELECT message FROM couplet.sync_errors WHERE closed_at IS NULL").single().decode(String.self, at: 0)
            #expect(message.contains("is not coupled in mapping SALESPEOPLE"), "\(message)")
            #expect(try await f.customerCoupling("C1")?.local == "failure")
            #expect(try await f.crm.query("SELECT owner_id FROM account").single().decode(String?.self, at: 0) == "user-ps")
        }
    }

    @Test("CRMCouplingTest.CRMtoNAVSyncClearValueOnFailedSyncNo: from the CRM, an uncoupled reference fails the CRM side only; the ERP value stays")
    func uncoupledReferenceFromCRMFails() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.coordination.runScript(
                """
                UPDATE couplet.table_mappings SET direction = 'bidirectional' WHERE name = 'CUSTOMER';
                UPDATE couplet.field_mappings SET direction = 'bidirectional', from_integration_rule = 'lookup(SALESPEOPLE)'
                WHERE mapping = 'CUSTOMER' AND position = 5
                """, name: "owner both ways")
            try await f.erp.query("INSERT INTO customer (no, name, salesperson_code) VALUES ('C1', 'Adatum', 'PS')")
            try await f.sync()
            try await f.crm.query("UPDATE account SET owner_id = 'user-not-coupled'")
            #expect(try await f.sync()[.fromIntegration]?.failed == 1)
            let coupling = try await f.customerCoupling("C1")
            #expect(coupling?.integration == "failure" && coupling?.local == "success", "\(String(describing: coupling))")
            #expect(try await f.erp.query("SELECT salesperson_code FROM customer").single().decode(String?.self, at: 0) == "PS")
        }
    }

    @Test("CRMCouplingTest.CoupleContactAndCustomerWithPrimaryContactBothAsCreateNew: a record referencing one coupled just before is created with the reference")
    func referenceCoupledFirst() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.erp.query("INSERT INTO customer (no, name, salesperson_code) VALUES ('C1', 'Adatum', 'NEW')")
            try await f.coordination.query("INSERT INTO couplet.couplings (mapping, local_id, integration_id) VALUES ('SALESPEOPLE', 'NEW', 'user-new')")
            let counts = try await f.syncCustomers(["C1"])
            #expect(counts[.toIntegration]?.inserted == 1, "\(counts)")
            #expect(try await f.crm.query("SELECT owner_id FROM account").single().decode(String?.self, at: 0) == "user-new")
        }
    }
}
