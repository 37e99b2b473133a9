import Foundation
import Logging
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

/// Business Central's `CRMSynchJobScenarios` (codeunit 139169, "CRM Synch. Job Scenarios"), ported to
/// DEBTOR (`debtor` ↔ `client`): what a scheduled run does with directions, filters, coupled-only
/// mappings, the integration user's own changes and the two watermarks.
@Suite("Business Central's CRMSynchJobScenarios")
struct BusinessCentralSynchJobScenarioTests {
    @Test("CRMSynchJobScenarios.SynchZeroItemsPopulatesDefaultSynchDirectionToMatchMapping: a run over no records logs the mapping's directions, two for bidirectional")
    func emptyRunLogsDirections() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            for (direction, logged) in [
                ("to_integration", ["to_integration"]), ("from_integration", ["from_integration"]),
                ("bidirectional", ["to_integration", "from_integration"]),
            ] {
                try await f.setMapping("direction = '\(direction)'")
                let before = try await f.lastRunID()
                let counts = try await f.sync()
                #expect(counts.values.allSatisfy { $0 == SyncCounts() }, "\(direction): \(counts)")
                #expect(try await f.loggedDirections(after: before) == logged, "\(direction)")
            }
        }
    }

    @Test("CRMSynchJobScenarios.SynchFilteredViewToCRM: the ERP filter limits what is created; a coupled record outside it is updated once the filter is cleared")
    func localFilterLimitsCreation() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "to_integration")
            try await f.erp.query("INSERT INTO debtor (name, blocked) VALUES ('One', false), ('Two', false), ('Three', true)")
            #expect(try await f.sync()[.toIntegration]?.inserted == 2)
            #expect(try await f.rows(f.crm, "client") == 2)
            try await f.setMapping("local_filter = NULL")
            try await f.crm.query("INSERT INTO client (name) VALUES ('Three in the CRM')")
            try await RecordActions.couple(
                mapping: "DEBTOR", localID: try await f.debtorID("Three"), integrationID: try await f.clientID("Three in the CRM"),
                on: f.coordination)
            try await f.erp.query("UPDATE debtor SET manager = 'abc' WHERE name = 'Three'")
            try await f.sync()
            #expect(try await f.value(f.crm, "SELECT manager FROM client WHERE name = 'Three'", as: String?.self) == "abc")
            #expect(try await f.rows(f.crm, "client") == 3)
        }
    }

    @Test("CRMSynchJobScenarios.SynchFilteredViewFromCRM: the CRM filter limits what is created in the ERP")
    func integrationFilterLimitsCreation() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.setMapping("integration_filter = 'name = ''Three'''")
            try await f.crm.query("INSERT INTO client (name) VALUES ('One'), ('Two'), ('Three')")
            #expect(try await f.sync()[.fromIntegration]?.inserted == 1)
            #expect(try await f.value(f.erp, "SELECT string_agg(name, ',') FROM debtor", as: String.self) == "Three")
        }
    }

    @Test("CRMSynchJobScenarios.TestSynchFromCRMIgnoresChangesByIntegrationUser: of three new CRM records, the two last changed by the integration's own login are not created")
    func integrationUsersChangesIgnored() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.crm.runScript("ALTER TABLE client ADD COLUMN changed_by text", name: "modified by")
            try await f.setMapping("integration_modified_by = 'changed_by'")
            try await f.crm.query(
                "INSERT INTO client (name, changed_by) VALUES ('Ours 1', current_user), ('Ours 2', current_user), ('Anna''s', 'anna')")
            #expect(try await f.sync()[.fromIntegration]?.inserted == 1)
            #expect(try await f.value(f.erp, "SELECT string_agg(name, ',') FROM debtor", as: String.self) == "Anna's")
        }
    }

    @Test("CRMSynchJobScenarios.SynchOnlyCoupledRecordsMapping: with only coupled records, a delta updates the coupled record and creates none")
    func onlyCoupledRecords() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.crm.query("INSERT INTO client (name) VALUES ('Coupled')")
            try await f.sync(.full)
            try await f.setMapping("sync_only_coupled = true")
            try await f.crm.query("UPDATE client SET name = 'New Name'")
            try await f.crm.query("INSERT INTO client (name) VALUES ('Not coupled')")
            let counts = try await f.sync()[.fromIntegration]
            #expect(counts?.modified == 1 && counts?.inserted == 0, "\(String(describing: counts))")
            #expect(try await f.value(f.erp, "SELECT string_agg(name, ',') FROM debtor", as: String.self) == "New Name")
        }
    }

    @Test("CRMSynchJobScenarios.SynchInvalidViewCausesError: a run whose ERP or CRM filter is invalid fails")
    func invalidFilterFails() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "to_integration")
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('One'), ('Two')")
            try await f.crm.query("INSERT INTO client (name) VALUES ('Three'), ('Four')")
            try await f.setMapping("local_filter = 'BADDATA', integration_filter = NULL")
            await #expect(throws: (any Error).self) { try await f.sync() }
            try await f.setMapping("local_filter = NULL, integration_filter = 'More BADDATA', direction = 'from_integration'")
            await #expect(throws: (any Error).self) { try await f.sync() }
            #expect(try await f.rows(f.crm, "client") == 2, "nothing written")
            #expect(try await f.rows(f.erp, "debtor") == 2, "nothing written")
        }
    }

    @Test("CRMSynchJobScenarios.SynchUpdatesLastSynchModifiedOnWhenDataChanges: each side's watermark becomes the newest modified-on its run synced")
    func watermarkIsNewestSynced() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.crm.query(
                "INSERT INTO client (number, name, modified_at) VALUES ('101', 'Older', now() - interval '2 hours'), ('102', 'Newer', now() - interval '1 hour')")
            let newestClient = try await f.value(f.crm, "SELECT max(modified_at)::text FROM client", as: String.self)
            #expect(try await f.sync()[.fromIntegration]?.inserted == 2)
            let integration = try await f.watermarks().integration
            #expect(integration == newestClient)
            try await f.setMapping("direction = 'to_integration'")
            try await f.erp.query(
                "INSERT INTO debtor (name, modified_at) VALUES ('Older', now() - interval '2 hours'), ('Newest', now() - interval '30 minutes')")
            let newestDebtor = try await f.value(f.erp, "SELECT max(modified_at)::text FROM debtor", as: String.self)
            #expect(try await f.sync()[.toIntegration]?.inserted == 2)
            let local = try await f.watermarks().local
            #expect(local == newestDebtor)
        }
    }

    @Test("CRMSynchJobScenarios.SynchUpdatesLastSynchModifiedOnWhenDataChanges: a CRM record stamped tomorrow makes tomorrow the watermark")
    func futureStampBecomesWatermark() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.crm.query("INSERT INTO client (name, modified_at) VALUES ('Today', now()), ('Tomorrow', now() + interval '1 day')")
            #expect(try await f.sync()[.fromIntegration]?.inserted == 2)
            let tomorrow = try await f.value(f.crm, "SELECT modified_at::text FROM client WHERE name = 'Tomorrow'", as: String.self)
            let watermark = try await f.watermarks().integration
            withKnownIssue("differs: Couplet caps a watermark at the run's start, so a clock running ahead on one side cannot hide the changes made before it catches up") {
                #expect(watermark == tomorrow)
            }
        }
    }

    @Test("CRMSynchJobScenarios.SynchUpdatesLastSynchModifiedOnWhenNoDataChanges: records changed only in unmapped columns move the watermark and change nothing")
    func unmappedChangeMovesWatermark() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.crm.runScript("ALTER TABLE client ADD COLUMN notes text", name: "unmapped column")
            try await f.crm.query("INSERT INTO client (name) VALUES ('One'), ('Two')")
            try await f.sync()
            let before = try #require(try await f.watermarks().integration)
            try await f.crm.query("UPDATE client SET notes = 'not mapped'")
            let counts = try await f.sync()[.fromIntegration]
            #expect(counts?.modified == 0 && counts?.failed == 0, "\(String(describing: counts))")
            let after = try #require(try await f.watermarks().integration)
            #expect(after != before)
            #expect(try await f.value(f.crm, "SELECT max(modified_at)::text FROM client", as: String.self) == after)
        }
    }

    @Test("CRMSynchJobScenarios.SynchDoesNotUpdateLastSynchModifiedOnWhenRowsAreSynched: records written to the CRM do not move the CRM side's watermark")
    func writesDoNotMoveTargetWatermark() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "to_integration")
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('One'), ('Two')")
            try await f.sync()
            #expect(try await f.watermarks().local != nil)
            try await f.sync()
            #expect(try await f.watermarks().integration == nil)
        }
    }

    @Test("CRMSynchJobScenarios.BidirectionalSynchCanUpdateDataInBothSystems and BidirectionalSynchCreatesTwoJobs: two records on each side become four on each, and the run logs one run per direction")
    func bidirectionalCreatesBothWays() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('ERP 1'), ('ERP 2')")
            try await f.crm.query("INSERT INTO client (name) VALUES ('CRM 1'), ('CRM 2')")
            try await f.sync()
            #expect(try await f.rows(f.erp, "debtor") == 4)
            #expect(try await f.rows(f.crm, "client") == 4)
            #expect(try await f.couplings().count == 4)
            #expect(try await f.loggedDirections().sorted() == ["from_integration", "to_integration"])
        }
    }

    @Test("CRMSynchJobScenarios.SynchUncoupledCRMAccountToCustomer and SyncCoupledCRMAccountToCustomer: an uncoupled CRM record is created in the ERP, coupled, logged as one insert without errors; changed later, it is logged as one modification and stays coupled")
    func crmRecordCreatedThenModified() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "from_integration")
            try await f.crm.query("INSERT INTO client (name, modified_at) VALUES ('Adatum', now() - interval '1 year')")
            let first = try await f.sync()[.fromIntegration]
            #expect(first?.inserted == 1 && first?.modified == 0 && first?.failed == 0, "\(String(describing: first))")
            #expect(try await f.couplings()[try await f.debtorID("Adatum")] == (try await f.clientID("Adatum")))
            #expect(try await f.errors().isEmpty)
            try await f.crm.query("UPDATE client SET name = 'Adatum Renamed'")
            let second = try await f.sync()[.fromIntegration]
            #expect(second?.inserted == 0 && second?.modified == 1 && second?.failed == 0, "\(String(describing: second))")
            #expect(try await f.couplings()[try await f.debtorID("Adatum Renamed")] == (try await f.clientID("Adatum Renamed")))
        }
    }

    @Test("CRMSynchJobScenarios.BrokenConnectionOnRunIntegrationTableSync: a run whose endpoints cannot be reached fails with an error and writes nothing")
    func brokenConnectionFails() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Adatum')")
            let unreachable = EndpointDirectory(environment: [
                "COUPLET_ENDPOINT_ERP_URL": "postgres://postgres@127.0.0.1:1/none?connect_timeout=2",
                "COUPLET_ENDPOINT_CRM_URL": "postgres://postgres@127.0.0.1:1/none?connect_timeout=2",
            ])
            await #expect(throws: (any Error).self) {
                try await SyncEngine(coordination: f.coordination, endpoints: unreachable, logger: Logger(label: "test")).run(mapping: "DEBTOR", kind: .delta)
            }
            #expect(try await f.couplings().isEmpty)
            #expect(try await f.value(f.coordination, "SELECT count(*) FROM couplet.sync_runs WHERE state = 'succeeded'", as: Int.self) == 0)
        }
    }
}
