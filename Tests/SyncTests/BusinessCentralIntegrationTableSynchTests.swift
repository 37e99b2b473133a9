import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

/// Business Central's `IntegrationTableSynchTest` (codeunit 139165, "Integration Table Synch. Test"),
/// ported to DEBTOR (`debtor` ↔ `client`): inserts, modifications, unchanged records, deleted
/// counterparts under each deletion policy, templates, one-way mappings and which changes on both
/// sides are a conflict.
@Suite("Business Central's IntegrationTableSynchTest")
struct BusinessCentralIntegrationTableSynchTests {
    @Test("IntegrationTableSynchTest.MissingFieldMappingFailsHard: a mapping without field mappings fails its run; nothing is written")
    func noFieldMappingsFails() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.coordination.query("DELETE FROM couplet.field_mappings WHERE mapping = 'DEBTOR'")
            try await f.crm.query("INSERT INTO client (name) VALUES ('Adatum')")
            let error = await #expect(throws: SyncFailure.self) { try await f.sync() }
            #expect(error?.description.contains("DEBTOR has no field mappings") == true, "\(String(describing: error))")
            #expect(try await f.rows(f.erp, "debtor") == 0)
            #expect(try await f.couplings().isEmpty)
        }
    }

    @Test("IntegrationTableSynchTest.ProcessingZeroRows: a run over empty tables succeeds and counts nothing")
    func zeroRows() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            let counts = try await f.sync(.full)
            #expect(counts.count == 2 && counts.values.allSatisfy { $0 == SyncCounts() }, "\(counts)")
            #expect(try await f.value(f.coordination, "SELECT count(*) FROM couplet.sync_runs WHERE state <> 'succeeded'", as: Int.self) == 0)
        }
    }

    @Test("IntegrationTableSynchTest.InsertModifyRowsFromIntegrationTable: an ERP record is inserted into the CRM, then its change is one modification")
    func insertThenModifyToCRM() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "to_integration")
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Adatum')")
            #expect(try await f.sync()[.toIntegration]?.inserted == 1)
            try await f.erp.query("UPDATE debtor SET manager = 'MODIFIED'")
            let counts = try await f.sync()[.toIntegration]
            #expect(counts?.modified == 1 && counts?.inserted == 0, "\(String(describing: counts))")
            #expect(try await f.value(f.crm, "SELECT manager FROM client", as: String?.self) == "MODIFIED")
        }
    }

    @Test("IntegrationTableSynchTest.InsertRowsFromIntegrationTable and SynchNewIntegrationTableRecord: new uncoupled CRM records are inserted into the ERP, one and then two more")
    func insertFromCRM() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.crm.query("INSERT INTO client (name) VALUES ('One')")
            #expect(try await f.sync()[.fromIntegration]?.inserted == 1)
            try await f.crm.query("INSERT INTO client (name) VALUES ('Two'), ('Three')")
            #expect(try await f.sync()[.fromIntegration]?.inserted == 2)
            #expect(try await f.rows(f.erp, "debtor") == 3)
        }
    }

    @Test("IntegrationTableSynchTest.ModifyRowFromIntegrationTable: a synced CRM record changed later is one modification in the ERP")
    func modifyFromCRM() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.crm.query("INSERT INTO client (name) VALUES ('One')")
            try await f.sync()
            try await f.crm.query("UPDATE client SET manager = 'MODIFIED'")
            let counts = try await f.sync()[.fromIntegration]
            #expect(counts?.modified == 1 && counts?.inserted == 0, "\(String(describing: counts))")
            #expect(try await f.value(f.erp, "SELECT manager FROM debtor", as: String?.self) == "MODIFIED")
        }
    }

    @Test("IntegrationTableSynchTest.UnchangedRowFromIntegrationTable: a synced pair neither side changed counts as unchanged and is not written")
    func unchangedPair() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.crm.query("INSERT INTO client (name) VALUES ('One')")
            try await f.sync()
            let stamp = try await f.value(f.erp, "SELECT modified_at::text FROM debtor", as: String.self)
            let counts = try await f.sync(.full)[.fromIntegration]
            #expect(counts?.unchanged == 1 && counts?.modified == 0, "\(String(describing: counts))")
            #expect(try await f.value(f.erp, "SELECT modified_at::text FROM debtor", as: String.self) == stamp)
        }
    }

    @Test("IntegrationTableSynchTest.FailedRecordedOnDeletedRecord: a CRM record whose ERP counterpart was deleted fails, then is skipped")
    func deletedCounterpartFailsThenSkips() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.crm.query("INSERT INTO client (name) VALUES ('Adatum')")
            try await f.sync()
            try await f.erp.query("DELETE FROM debtor")
            try await f.crm.query("UPDATE client SET manager = 'changed'")
            let first = try await f.sync()[.fromIntegration]
            #expect(first?.failed == 1 && first?.skipped == 0, "\(String(describing: first))")
            let second = try await f.sync()[.fromIntegration]
            withKnownIssue("differs: Couplet counts the second failure of the same class as failed and marks the pair skipped; Business Central counts it as skipped") {
                #expect(second?.skipped == 1, "\(String(describing: second))")
            }
            #expect(try await f.value(f.coordination, "SELECT skipped FROM couplet.couplings", as: Bool.self), "skipped until a person decides")
            let third = try await f.sync(.full)[.fromIntegration]
            #expect(third?.failed == 0 && third?.inserted == 0, "\(String(describing: third))")
            #expect(try await f.rows(f.erp, "debtor") == 0, "never re-created silently")
        }
    }

    /// For each of Business Central's four variants (only coupled records or all, bidirectional or from the
    /// CRM), in one fixture: DEBTOR with deletion-conflict `policy`, a debtor and its client coupled and
    /// synced, then the debtor deleted and the client changed; `body` runs the syncs and checks them.
    private func eachVariantWithDeletedDebtor(
        policy: String, _ body: (OwnSchemaFixture, String) async throws -> Void
    ) async throws {
        try await OwnSchemaFixture.with { f in
            for (onlyCoupled, direction) in [(true, "bidirectional"), (false, "bidirectional"), (true, "from_integration"), (false, "from_integration")] {
                try await f.coordination.query("DELETE FROM couplet.table_mappings WHERE name = 'DEBTOR'")
                try await f.erp.query("TRUNCATE debtor")
                try await f.crm.query("TRUNCATE client")
                try await f.addMapping(direction: direction, deletionConflict: policy)
                try await f.crm.query("INSERT INTO client (name) VALUES ('Adatum')")
                try await f.sync(.full)
                try await f.setMapping("sync_only_coupled = \(onlyCoupled)")
                try await f.erp.query("DELETE FROM debtor")
                try await f.crm.query("UPDATE client SET manager = 'changed'")
                try await body(f, "onlyCoupled: \(onlyCoupled), \(direction)")
            }
        }
    }

    @Test("IntegrationTableSynchTest.AutoResolveDeletedRecordRemoveCoupling{BidirectionalOnlyCoupled, BidirectionalAll, UnidirectionalOnlyCoupled, UnidirectionalAll}: remove_coupling removes the coupling of a deleted ERP record, nothing skipped")
    func deletedRecordRemoveCoupling() async throws {
        try await eachVariantWithDeletedDebtor(policy: "remove_coupling") { f, variant in
            let counts = try await f.sync()[.fromIntegration]
            #expect(counts?.skipped == 0 && counts?.failed == 0, "\(variant): \(String(describing: counts))")
            #expect(try await f.couplings().isEmpty, "\(variant)")
            #expect(try await f.rows(f.crm, "client") == 1, "\(variant): the CRM record stays")
        }
    }

    @Test("IntegrationTableSynchTest.AutoResolveDeletedRecordRestoreRecords{BidirectionalOnlyCoupled, BidirectionalAll, UnidirectionalOnlyCoupled, UnidirectionalAll}: restore creates the deleted ERP record again and couples it")
    func deletedRecordRestore() async throws {
        try await eachVariantWithDeletedDebtor(policy: "restore") { f, variant in
            let counts = try await f.sync()[.fromIntegration]
            #expect(counts?.skipped == 0 && counts?.failed == 0, "\(variant): \(String(describing: counts))")
            #expect(try await f.rows(f.crm, "client") == 1, "\(variant): the CRM record is not deleted")
            let restored = try await f.debtorID("Adatum")
            #expect(try await f.couplings()[restored] == (try await f.clientID("Adatum")), "\(variant)")
        }
    }

    @Test("IntegrationTableSynchTest.AutoResolveDeletedRecordNoStrategy{BidirectionalOnlyCoupled, BidirectionalAll, UnidirectionalOnlyCoupled, UnidirectionalAll}: with no policy (fail) the record fails, then is skipped; the coupling stays")
    func deletedRecordNoStrategy() async throws {
        try await eachVariantWithDeletedDebtor(policy: "fail") { f, variant in
            let first = try await f.sync()[.fromIntegration]
            #expect(first?.failed == 1 && first?.skipped == 0, "\(variant): \(String(describing: first))")
            #expect(try await f.couplings().count == 1, "\(variant)")
            let second = try await f.sync()[.fromIntegration]
            withKnownIssue("differs: Couplet counts the second failure of the same class as failed and marks the pair skipped; Business Central counts it as skipped") {
                #expect(second?.skipped == 1 && second?.failed == 0, "\(variant): \(String(describing: second))")
            }
            #expect(try await f.couplings().count == 1, "\(variant): the coupling is not deleted")
            #expect(try await f.value(f.coordination, "SELECT skipped FROM couplet.couplings", as: Bool.self), "\(variant)")
        }
    }

    @Test("IntegrationTableSynchTest.ConfigTemplateIsAppliedIfPresent: a record created in the ERP takes the template's value for a column no field maps")
    func templateApplied() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.erp.runScript("ALTER TABLE debtor ADD COLUMN location text", name: "unmapped column")
            try await f.setMapping(#"local_template = '{"location": "SOMELOCATION"}'"#)
            try await f.crm.query("INSERT INTO client (name) VALUES ('Adatum')")
            #expect(try await f.sync()[.fromIntegration]?.inserted == 1)
            #expect(try await f.value(f.erp, "SELECT location FROM debtor", as: String?.self) == "SOMELOCATION")
        }
    }

    @Test("IntegrationTableSynchTest.MissingConfigTemplateThrowsError: a template the ERP cannot take fails the record, which is not coupled")
    func badTemplateFailsRecord() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.setMapping(#"local_template = '{"no_such_column": "x"}'"#)
            try await f.crm.query("INSERT INTO client (name) VALUES ('Adatum')")
            let counts = try await f.sync()[.fromIntegration]
            #expect(counts?.failed == 1 && counts?.inserted == 0, "\(String(describing: counts))")
            #expect(try await f.couplings().isEmpty)
            #expect(try await f.rows(f.erp, "debtor") == 0)
        }
    }

    @Test("IntegrationTableSynchTest.UncoupledRecordFoundInFindRecord: an uncoupled CRM record that finds its ERP record (by match field) is coupled to it, not created again")
    func uncoupledFindsDestination() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(updateConflict: "get_from_integration", match: "id")
            try await f.erp.query("INSERT INTO debtor (id, name) VALUES (7, 'ERP name')")
            try await f.crm.query("INSERT INTO client (number, name) VALUES ('7', 'CRM name')")
            let counts = try await f.sync()
            #expect(counts.values.map(\.inserted).reduce(0, +) == 0, "\(counts)")
            #expect(try await f.couplings()["7"] == (try await f.clientID("CRM name")))
            #expect(try await f.errors().isEmpty)
        }
    }

    @Test("IntegrationTableSynchTest.CannotSynchAgainstMappingDirection: a one-way mapping never writes against its direction, even when asked for a record of the other side")
    func againstDirectionWritesNothing() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "to_integration")
            try await f.crm.query("INSERT INTO client (name) VALUES ('Adatum')")
            let counts = try await f.sync(.records, records: ChosenRecords(side: .integration, ids: [try await f.clientID("Adatum")]))
            #expect(counts.values.allSatisfy { $0.failed == 0 && $0.skipped == 0 && $0.inserted == 0 }, "\(counts)")
            #expect(try await f.rows(f.erp, "debtor") == 0)
        }
    }

    @Test("IntegrationTableSynchTest.OneWaySynchIgnoresDestinationChanges: in a one-way mapping the source overwrites a target changed too, either way",
          arguments: ["to_integration", "from_integration"])
    func oneWayOverwrites(direction: String) async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: direction)
            if direction == "to_integration" {
                try await f.erp.query("INSERT INTO debtor (name) VALUES ('Adatum')")
            } else {
                try await f.crm.query("INSERT INTO client (name) VALUES ('Adatum')")
            }
            try await f.sync()
            try await f.erp.query("UPDATE debtor SET manager = 'ERP'")
            try await f.crm.query("UPDATE client SET manager = 'CRM'")
            let counts = try await f.sync()
            #expect(counts.values.map(\.modified) == [1] && counts.values.allSatisfy { $0.failed == 0 }, "\(counts)")
            let winner = direction == "to_integration" ? "ERP" : "CRM"
            #expect(try await f.value(f.erp, "SELECT manager FROM debtor", as: String?.self) == winner)
            #expect(try await f.value(f.crm, "SELECT manager FROM client", as: String?.self) == winner)
        }
    }

    @Test("IntegrationTableSynchTest.SynchNewRecord: a new uncoupled ERP record whose salesperson is coupled is created in the CRM with its owner")
    func newERPRecord() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.erp.query("INSERT INTO customer (no, name, salesperson_code) VALUES ('C1', 'Adatum', 'PS')")
            #expect(try await f.sync()[.toIntegration]?.inserted == 1)
            #expect(try await f.crm.query("SELECT owner_id FROM account").single().decode(String?.self, at: 0) == "user-ps")
        }
    }

    @Test("IntegrationTableSynchTest.SynchCoupledIntegrationTableRecord: a coupled CRM record changed after the ERP one updates that ERP record")
    func coupledCRMChangeUpdatesERP() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Adatum')")
            try await f.sync()
            try await f.crm.query("UPDATE client SET manager = 'CRM'")
            let counts = try await f.sync()
            #expect(counts[.fromIntegration]?.modified == 1 && counts[.toIntegration]?.modified == 0, "\(counts)")
            #expect(try await f.value(f.erp, "SELECT manager FROM debtor", as: String?.self) == "CRM")
            #expect(try await f.rows(f.erp, "debtor") == 1)
        }
    }

    @Test("IntegrationTableSynchTest.SynchCoupledRecord: a coupled ERP record changed since the last sync updates its CRM record")
    func coupledERPChangeUpdatesCRM() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Adatum')")
            try await f.sync()
            try await f.erp.query("UPDATE debtor SET manager = 'ERP'")
            let counts = try await f.sync()
            #expect(counts[.toIntegration]?.modified == 1 && counts[.fromIntegration]?.modified == 0, "\(counts)")
            #expect(try await f.value(f.crm, "SELECT manager FROM client", as: String?.self) == "ERP")
        }
    }

    @Test("IntegrationTableSynchTest.MappingPageInvokeSynchonizeAllClearsModifiedOnDateTimes: a full sync resets watermarks set in the future to the newest modified-on of each side")
    func fullSyncResetsFutureWatermarks() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.erp.query("INSERT INTO debtor (name, modified_at) VALUES ('Adatum', now() - interval '1 minute')")
            try await f.sync()
            try await f.crm.query("UPDATE client SET modified_at = now() - interval '2 minutes'")
            try await f.erp.query("UPDATE debtor SET manager = 'changed'")
            try await f.setMapping("local_watermark = now() + interval '1 year', integration_watermark = now() + interval '1 year'")
            try await f.sync(.full)
            let debtor = try await f.value(f.erp, "SELECT modified_at::text FROM debtor", as: String.self)
            let client = try await f.value(f.crm, "SELECT modified_at::text FROM client", as: String.self)
            let watermarks = try await f.watermarks()
            withKnownIssue("differs: a full run advances a watermark, it never moves one back from the future") {
                #expect(watermarks.local == debtor, "\(watermarks)")
                #expect(watermarks.integration == client, "\(watermarks)")
            }
        }
    }

    @Test("IntegrationTableSynchTest.SynchronizeNewRecordFromCRMShouldOnlyInsertOnceAndUpdateOnNextSynch: a new CRM record is inserted once; the next two runs insert and modify nothing")
    func insertOnce() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.crm.query("INSERT INTO client (name) VALUES ('Adatum')")
            #expect(try await f.sync()[.fromIntegration]?.inserted == 1)
            for run in 2...3 {
                let counts = try await f.sync()
                #expect(counts.values.allSatisfy { $0.inserted == 0 && $0.modified == 0 && $0.failed == 0 }, "run \(run): \(counts)")
            }
            #expect(try await f.rows(f.erp, "debtor") == 1)
            #expect(try await f.rows(f.crm, "client") == 1)
        }
    }

    @Test("IntegrationTableSynchTest.LogSynchErrorForBothExistingRecords: a failure of a pair whose records both exist is logged with both ids")
    func errorNamesBothIDs() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Adatum')")
            try await f.sync()
            try await f.erp.query("UPDATE debtor SET manager = 'ERP'")
            try await f.crm.query("UPDATE client SET manager = 'CRM'")
            #expect(try await f.sync()[.toIntegration]?.failed == 1)
            let ids = try await f.coordination.query(
                "SELECT local_id, integration_id FROM couplet.sync_errors WHERE closed_at IS NULL AND direction = 'to_integration'"
            ).single().decode((String?, String?).self)
            let debtor = try await f.debtorID("Adatum")
            let client = try await f.clientID("Adatum")
            #expect(ids.0 == debtor && ids.1 == client)
        }
    }

    @Test("IntegrationTableSynchTest.NoFalsePositiveConflictWhen{To,From}IntegrationTableSyncAfterUnmappedFieldChange: both sides changed only in a column no field maps: unchanged, no conflict, both values kept")
    func unmappedChangesNoConflict() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.syncedPairWithSpareColumns()
            try await f.erp.query("UPDATE debtor SET fax = '2'")
            try await f.crm.query("UPDATE client SET fax = '3'")
            let counts = try await f.sync()
            #expect(counts.values.allSatisfy { $0.failed == 0 && $0.modified == 0 }, "\(counts)")
            #expect(try await f.errors().isEmpty)
            #expect(try await f.value(f.erp, "SELECT fax FROM debtor", as: String.self) == "2")
            #expect(try await f.value(f.crm, "SELECT fax FROM client", as: String.self) == "3")
        }
    }

    @Test("IntegrationTableSynchTest.NoFalsePositiveConflictWhen{To,From}IntegrationTableSyncAfterUnidirectionalFieldChange: a one-way field changed on both sides is carried from its source, no conflict",
          arguments: ["to_integration", "from_integration"])
    func oneWayFieldNoConflict(direction: String) async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.syncedPairWithSpareColumns()
            try await f.mapSpareColumn("fax", direction: direction)
            try await f.erp.query("UPDATE debtor SET fax = '2'")
            try await f.crm.query("UPDATE client SET fax = '3'")
            let counts = try await f.sync()
            #expect(counts.values.allSatisfy { $0.failed == 0 }, "\(counts)")
            #expect(counts.values.map(\.modified).reduce(0, +) == 1, "\(counts)")
            let expected = direction == "to_integration" ? "2" : "3"
            #expect(try await f.value(f.erp, "SELECT fax FROM debtor", as: String.self) == expected)
            #expect(try await f.value(f.crm, "SELECT fax FROM client", as: String.self) == expected)
        }
    }

    @Test("IntegrationTableSynchTest.FalsePositiveConflictWhen{To,From}IntegrationTableSyncAfterBidirectionalFieldChange: two different two-way fields changed, one on each side, are a conflict under fail; nothing is written")
    func differentTwoWayFieldsConflict() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.syncedPairWithSpareColumns()
            try await f.mapSpareColumn("fax", direction: "bidirectional")
            try await f.mapSpareColumn("home_page", direction: "bidirectional")
            try await f.erp.query("UPDATE debtor SET fax = '2'")
            try await f.crm.query("UPDATE client SET home_page = 'https://two.example'")
            let counts = try await f.sync()
            #expect(counts.values.map(\.failed).reduce(0, +) >= 1 && counts.values.allSatisfy { $0.modified == 0 }, "\(counts)")
            #expect(try await f.errors().map(\.errorClass).contains("update_conflict"))
            #expect(try await f.value(f.erp, "SELECT fax || ' ' || home_page FROM debtor", as: String.self) == "2 https://one.example")
            #expect(try await f.value(f.crm, "SELECT fax || ' ' || home_page FROM client", as: String.self) == "1 https://two.example")
        }
    }

    @Test("IntegrationTableSynchTest.TruePositiveConflictWhen{To,From}IntegrationTableSyncAfterBidirectionalFieldChange: one two-way field changed on both sides is a conflict under fail; both values kept")
    func sameTwoWayFieldConflicts() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.syncedPairWithSpareColumns()
            try await f.mapSpareColumn("fax", direction: "bidirectional")
            try await f.erp.query("UPDATE debtor SET fax = '2'")
            try await f.crm.query("UPDATE client SET fax = '3'")
            let counts = try await f.sync()
            #expect(counts.values.map(\.failed).reduce(0, +) >= 1 && counts.values.allSatisfy { $0.modified == 0 }, "\(counts)")
            #expect(try await f.errors().map(\.errorClass).contains("update_conflict"))
            #expect(try await f.value(f.erp, "SELECT fax FROM debtor", as: String.self) == "2")
            #expect(try await f.value(f.crm, "SELECT fax FROM client", as: String.self) == "3")
        }
    }

    @Test("IntegrationTableSynchTest.AutomaticConflictResolution{To,From}IntegrationTableAfterBidirectionalFieldChange: send_to_integration carries the ERP's value, get_from_integration the CRM's; no failure",
          arguments: [("send_to_integration", "2"), ("get_from_integration", "3")])
    func conflictResolvedByPolicy(policy: String, winner: String) async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(updateConflict: policy)
            try await f.syncedPairWithSpareColumns()
            try await f.mapSpareColumn("fax", direction: "bidirectional")
            try await f.erp.query("UPDATE debtor SET fax = '2'")
            try await f.crm.query("UPDATE client SET fax = '3'")
            let counts = try await f.sync()
            #expect(counts.values.allSatisfy { $0.failed == 0 }, "\(counts)")
            #expect(counts.values.map(\.modified).reduce(0, +) == 1, "\(counts)")
            #expect(try await f.value(f.erp, "SELECT fax FROM debtor", as: String.self) == winner)
            #expect(try await f.value(f.crm, "SELECT fax FROM client", as: String.self) == winner)
        }
    }
}
