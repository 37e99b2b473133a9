import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

/// DEBTOR with a `phone` column on both sides used for match-based coupling (as Business Central's
/// `CDSMatchBasedCoupling` matches customers to accounts by phone number), the ERP winning conflicts
/// unless `policy` says otherwise; three pairs coupled and in step, and `uncoupled` debtors (phone
/// 555-n) each with a client of another name whose phone is the debtor's, or `clientPhones[n - 1]`
/// when given (nil: a phone nobody has).
private func withPhoneMatch(
    uncoupled: Int, policy: String = "send_to_integration", clientPhones: [String?]? = nil,
    _ body: (OwnSchemaFixture) async throws -> Void
) async throws {
    try await OwnSchemaFixture.with { f in
        try await f.addMapping(updateConflict: policy)
        try await f.erp.runScript("ALTER TABLE debtor ADD COLUMN phone text", name: "phone")
        try await f.crm.runScript("ALTER TABLE client ADD COLUMN phone text", name: "phone")
        try await f.coordination.query(
            """
            INSERT INTO couplet.field_mappings (mapping, position, local_field, integration_field, direction, comparison, match_priority)
            VALUES ('DEBTOR', 6, 'phone', 'phone', 'bidirectional', 'text', 1)
            """)
        try await f.erp.query("INSERT INTO debtor (name, phone) SELECT 'Coupled ' || n, '111-' || n FROM generate_series(1, 3) n")
        try await f.sync(.full)
        for n in stride(from: 1, through: uncoupled, by: 1) {
            try await f.erp.query("INSERT INTO debtor (name, phone) VALUES (\("Customer \(n)"), \("555-\(n)"))")
            try await f.crm.query("INSERT INTO client (name, phone) VALUES (\("Account \(n)"), \((clientPhones.map { $0[n - 1] } ?? "555-\(n)") ?? "000-\(n)"))")
        }
        try await body(f)
    }
}

/// Business Central's `CDSMatchBasedCoupling` (codeunit 139199, "CDS Match Based Coupling"), ported:
/// a match run couples uncoupled records by their match fields, keeps existing couplings, refuses
/// ambiguous matches, and the synchronization after it follows the update-conflict policy.
@Suite("Business Central's CDSMatchBasedCoupling")
struct BusinessCentralMatchBasedCouplingTests {
    @Test("CDSMatchBasedCoupling.IntegarionTableMappingListCoupleSingleInBackground: a match run keeps three couplings, couples the one record matching by phone, logs one coupled; the ERP's name wins")
    func matchOne() async throws {
        try await withPhoneMatch(uncoupled: 1) { f in
            let counts = try await f.sync(.match)
            #expect(counts[.toIntegration]?.coupled == 1, "\(counts)")
            #expect(try await f.couplings().count == 4)
            #expect(try await f.value(f.crm, "SELECT name FROM client WHERE phone = '555-1'", as: String.self) == "Customer 1")
        }
    }

    @Test("CDSMatchBasedCoupling.IntegarionTableMappingListCoupleMultipleInBackground: five records matching by phone are coupled, logged as five; the ERP's names win")
    func matchFive() async throws {
        try await withPhoneMatch(uncoupled: 5) { f in
            let counts = try await f.sync(.match)
            #expect(counts[.toIntegration]?.coupled == 5, "\(counts)")
            #expect(try await f.couplings().count == 8)
            #expect(try await f.value(f.crm, "SELECT count(*) FROM client WHERE name LIKE 'Customer %'", as: Int.self) == 5)
        }
    }

    @Test("CDSMatchBasedCoupling.MasterDataListCoupleSingleInBackground: matching one chosen record couples only that one")
    func matchChosen() async throws {
        try await withPhoneMatch(uncoupled: 5) { f in
            let chosen = try await f.debtorID("Customer 2")
            let counts = try await f.sync(.match, records: ChosenRecords(side: .local, ids: [chosen]))
            #expect(counts[.toIntegration]?.coupled == 1, "\(counts)")
            let couplings = try await f.couplings()
            #expect(couplings.count == 4 && couplings[chosen] != nil, "\(couplings)")
            #expect(try await f.value(f.crm, "SELECT string_agg(name, ',') FROM client WHERE name LIKE 'Customer %'", as: String?.self) == "Customer 2")
        }
    }

    @Test("CDSMatchBasedCoupling.MasterDataListCoupleMultipleInBackground: matching chosen records, some already coupled, keeps those and couples the five others")
    func matchChosenWithCoupled() async throws {
        try await withPhoneMatch(uncoupled: 5) { f in
            var chosen = [try await f.debtorID("Coupled 1"), try await f.debtorID("Coupled 3")]
            for n in 1...5 { chosen.append(try await f.debtorID("Customer \(n)")) }
            let before = try await f.couplings()
            #expect(try await f.sync(.match, records: ChosenRecords(side: .local, ids: chosen))[.toIntegration]?.coupled == 5)
            let after = try await f.couplings()
            #expect(after.count == 8)
            #expect(before.allSatisfy { after[$0.key] == $0.value }, "existing couplings kept")
        }
    }

    @Test("CDSMatchBasedCoupling.MasterDataListCoupleMultipleErrorNoMatch: of five records two match and are coupled; three without a match are not coupled nor created, and logged as failed")
    func matchSomeNone() async throws {
        try await withPhoneMatch(uncoupled: 5, clientPhones: ["555-1", "555-2", nil, nil, nil]) { f in
            let counts = try await f.sync(.match)[.toIntegration]
            #expect(counts?.coupled == 2 && counts?.inserted == 0, "\(String(describing: counts))")
            #expect(try await f.couplings().count == 5)
            #expect(try await f.rows(f.crm, "client") == 8, "nothing created")
            #expect(try await f.value(f.crm, "SELECT count(*) FROM client WHERE name LIKE 'Customer %'", as: Int.self) == 2)
            withKnownIssue("differs: a record a match run finds no counterpart for is left alone, not logged as a failure") {
                #expect(counts?.failed == 3, "\(String(describing: counts))")
            }
        }
    }

    @Test("CDSMatchBasedCoupling.MasterDataListCoupleMultipleErrorInconclusiveMatch: when five CRM records share one phone, no record is coupled and nothing is written")
    func ambiguousMatch() async throws {
        try await withPhoneMatch(uncoupled: 5, clientPhones: Array(repeating: "555-1", count: 5)) { f in
            let counts = try await f.sync(.match)[.toIntegration]
            #expect(counts?.coupled == 0 && counts?.inserted == 0, "\(String(describing: counts))")
            #expect(try await f.couplings().count == 3)
            #expect(try await f.value(f.crm, "SELECT count(*) FROM client WHERE name LIKE 'Customer %'", as: Int.self) == 0)
            withKnownIssue("differs: only the record with several candidates is logged as a failure; the four with no counterpart are left alone") {
                #expect(counts?.failed == 5, "\(String(describing: counts))")
            }
        }
    }

    @Test("CDSMatchBasedCoupling.MasterDataListCouplingRunsButNoSynchByUserChoice: with no side winning (update_conflict fail) the match couples the records and copies nothing")
    func matchWithoutCopy() async throws {
        try await withPhoneMatch(uncoupled: 5, policy: "fail") { f in
            let counts = try await f.sync(.match)
            #expect(counts[.toIntegration]?.coupled == 5, "\(counts)")
            #expect(try await f.couplings().count == 8)
            #expect(try await f.value(f.crm, "SELECT count(*) FROM client WHERE name LIKE 'Account %'", as: Int.self) == 5, "CRM names kept")
            #expect(try await f.value(f.erp, "SELECT count(*) FROM debtor WHERE name LIKE 'Customer %'", as: Int.self) == 5, "ERP names kept")
        }
    }
}

/// Business Central's `CRMFullSynchronization` (codeunit 139187, "CRM Full Synchronization"), ported:
/// the full synchronization review's order and what a full run creates and couples. Its pages and
/// review-line bookkeeping are Business Central's own.
@Suite("Business Central's CRMFullSynchronization")
struct BusinessCentralFullSynchronizationTests {
    /// A coordination database with mappings `names` (`name: dependencies`), none of them runnable.
    private func withReview(_ mappings: [(String, [String])], _ body: (PostgresConnection) async throws -> Void) async throws {
        try await withMigratedDatabase { _, db in
            try await db.runScript("INSERT INTO couplet.endpoints (name) VALUES ('erp'), ('crm')", name: "endpoints")
            for (name, dependencies) in mappings {
                try await db.query(
                    """
                    INSERT INTO couplet.table_mappings (name, local_endpoint, local_table, local_key, local_modified,
                        integration_endpoint, integration_table, integration_key, integration_modified, direction, depends_on)
                    VALUES (\(name), 'erp', 't', 'k', 'm', 'crm', 't', 'k', 'm', 'to_integration', \(dependencies))
                    """)
            }
            try await body(db)
        }
    }

    private func states(_ db: PostgresConnection) async throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try await db.query("SELECT mapping, state FROM couplet.sync_review").map { try $0.decode((String, String).self) })
    }

    private func finish(_ mapping: String, failure: String? = nil, _ db: PostgresConnection) async throws {
        let job = try await db.query("SELECT job_id FROM couplet.sync_review WHERE mapping = \(mapping)").single().decode(Int64.self, at: 0)
        try await SyncReview.finish(mapping: mapping, job: job, failure: failure, on: db)
    }

    @Test("CRMFullSynchronization.T120_ReadyLineSchedulesJob: starting the review enqueues the full sync of a mapping that depends on nothing")
    func startEnqueuesRoots() async throws {
        try await withReview([("CURRENCY", [])]) { db in
            let started = try await SyncReview.start(on: db)
            #expect(started == ["CURRENCY"])
            #expect(try await states(db) == ["CURRENCY": "enqueued"])
            #expect(try await db.query("SELECT args->>'mapping' FROM couplet.jobs WHERE kind = 'sync.full'").single().decode(String.self, at: 0) == "CURRENCY")
        }
    }

    @Test("CRMFullSynchronization.T121_FinishedLineSchedulesDependentJob: when CURRENCY's full sync finishes, CUSTOMER's, which depends on it, is enqueued")
    func finishEnqueuesDependent() async throws {
        try await withReview([("CURRENCY", []), ("CUSTOMER", ["CURRENCY"])]) { db in
            _ = try await SyncReview.start(on: db)
            #expect(try await states(db) == ["CURRENCY": "enqueued", "CUSTOMER": "waiting"])
            try await finish("CURRENCY", db)
            #expect(try await states(db) == ["CURRENCY": "finished", "CUSTOMER": "enqueued"])
        }
    }

    @Test("CRMFullSynchronization.T156_StartSyncWhenFirstLineIsFinished, T157_StartSyncWhenBothParentsAreFinished and T158_StartSyncWhenWave1And2ParentsAreFinished: a mapping starts only when every mapping it depends on finished")
    func startsWhenAllParentsFinished() async throws {
        try await withReview([
            ("SALESPEOPLE", []), ("CURRENCY", []), ("UNIT-OF-MEASURE", []), ("CUSTOMER", ["SALESPEOPLE", "CURRENCY"]),
            ("ITEM-PRODUCT", ["UNIT-OF-MEASURE"]), ("CUSTPRCGRP-PRICE", ["CURRENCY", "ITEM-PRODUCT"]),
            ("SALESPRC-PRODPRICE", ["CUSTPRCGRP-PRICE", "ITEM-PRODUCT"]),
        ]) { db in
            let started = try await SyncReview.start(on: db)
            #expect(Set(started) == ["SALESPEOPLE", "CURRENCY", "UNIT-OF-MEASURE"])
            try await finish("CURRENCY", db)
            #expect(try await states(db)["CUSTOMER"] == "waiting", "SALESPEOPLE still runs")
            try await finish("SALESPEOPLE", db)
            #expect(try await states(db)["CUSTOMER"] == "enqueued")
            #expect(try await states(db)["CUSTPRCGRP-PRICE"] == "waiting", "ITEM-PRODUCT has not run")
            try await finish("UNIT-OF-MEASURE", db)
            try await finish("ITEM-PRODUCT", db)
            #expect(try await states(db)["CUSTPRCGRP-PRICE"] == "enqueued")
            #expect(try await states(db)["SALESPRC-PRODPRICE"] == "waiting")
            try await finish("CUSTPRCGRP-PRICE", db)
            #expect(try await states(db)["SALESPRC-PRODPRICE"] == "enqueued")
        }
    }

    @Test("CRMFullSynchronization.T122_BidirectionalSynchUpdatesTwoSynchJobStatuses: a full sync of a bidirectional mapping runs both directions and couples the ERP record and the CRM record")
    func fullSyncBothWays() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.setMapping("sync_only_coupled = true")
            try await f.erp.query("INSERT INTO debtor (name) VALUES ('Customer A')")
            try await f.crm.query("INSERT INTO client (name) VALUES ('Account B')")
            let counts = try await f.sync(.full)
            #expect(counts[.toIntegration]?.inserted == 1 && counts[.fromIntegration]?.inserted == 1, "\(counts)")
            let couplings = try await f.couplings()
            #expect(couplings[try await f.debtorID("Customer A")] != nil)
            #expect(couplings.values.contains(try await f.clientID("Account B")))
            #expect(try await f.value(f.coordination, "SELECT string_agg(state, ',') FROM couplet.sync_runs", as: String.self) == "succeeded,succeeded")
        }
    }

    @Test("CRMFullSynchronization.T123_AllRecsFailedSynchJobStatusError: when every record of a full sync fails, nothing is coupled and the run's status is an error")
    func allRecordsFail() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.erp.query("INSERT INTO customer (no, name, salesperson_code) VALUES ('C1', 'One', 'FAIL'), ('C2', 'Two', 'FAIL')")
            let counts = try await f.sync(.full)[.toIntegration]
            #expect(counts?.failed == 2 && counts?.inserted == 0, "\(String(describing: counts))")
            #expect(try await f.customerCoupling("C1") == nil)
            #expect(try await f.customerCoupling("C2") == nil)
            let state = try await f.coordination.query("SELECT state FROM couplet.sync_runs").single().decode(String.self, at: 0)
            withKnownIssue("differs: a run whose every record failed is recorded as succeeded with failed = 2 (its errors are in couplet errors), and the review marks the mapping finished") {
                #expect(state == "failed")
            }
        }
    }

    @Test("CRMFullSynchronization.T124_NotAllRecsFailedSynchJobStatusSuccess: in a full sync where one of two records fails, the other is created and coupled, the failing one is not")
    func someRecordsFail() async throws {
        try await SyncFixture.with { f in
            try await f.addSalespersonLookup()
            try await f.erp.query("INSERT INTO customer (no, name, salesperson_code) VALUES ('C1', 'One', 'PS'), ('C2', 'Two', 'FAIL')")
            let counts = try await f.sync(.full)[.toIntegration]
            #expect(counts?.failed == 1 && counts?.inserted == 1, "\(String(describing: counts))")
            #expect(try await f.customerCoupling("C1") != nil)
            #expect(try await f.customerCoupling("C2") == nil)
        }
    }

    @Test("CRMFullSynchronization.T127_FullSynchJobInheritsFiltersAndProcessesNotCoupledRecs: a full sync keeps the mapping's filters but creates uncoupled records although only coupled ones are synchronized otherwise")
    func fullSyncKeepsFilters() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping(direction: "to_integration")
            try await f.setMapping("sync_only_coupled = true")
            try await f.erp.query("INSERT INTO debtor (name, blocked) VALUES ('Open', false), ('Blocked', true)")
            #expect(try await f.sync()[.toIntegration]?.inserted == 0, "a delta creates nothing")
            #expect(try await f.sync(.full)[.toIntegration]?.inserted == 1)
            #expect(try await f.value(f.crm, "SELECT string_agg(name, ',') FROM client", as: String.self) == "Open")
        }
    }

    @Test("CRMFullSynchronization.T170_ParentMappingGetsSyncModifiedOnFilters: after a full sync the mapping's watermarks are the ERP record's modified-on and the CRM record's last synced modified-on")
    func fullSyncSetsWatermarks() async throws {
        try await OwnSchemaFixture.with { f in
            try await f.addMapping()
            try await f.erp.query("INSERT INTO debtor (name, modified_at) VALUES ('Customer A', now() - interval '1 minute')")
            #expect(try await f.watermarks().local == nil)
            try await f.sync(.full)
            let debtor = try await f.value(f.erp, "SELECT modified_at::text FROM debtor", as: String.self)
            let synced = try await f.value(f.coordination, "SELECT integration_modified_at::text FROM couplet.couplings", as: String?.self)
            let watermarks = try await f.watermarks()
            #expect(watermarks.local == debtor)
            #expect(watermarks.integration == synced, "\(watermarks)")
        }
    }
}
