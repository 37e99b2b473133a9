import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

/// The `merge` update-conflict policy end to end, on `OwnSchemaTables`' debtor ↔ client.
@Suite("Field-level merge")
struct FieldMergeTests {
    /// A DEBTOR mapping under `merge` with one debtor synced to the CRM and the pair in step.
    private func withSyncedPair(crm: CRMService, _ body: (OwnSchemaFixture) async throws -> Void) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(updateConflict: "merge")
            try await f.erp.query("INSERT INTO debtor (name, country, credit_limit, manager) VALUES ('Adatum', 'NO', 100, 'ANNA')")
            try await f.sync(.full)
            try await f.sync()
            try await body(f)
        }
    }

    private func debtor(_ f: OwnSchemaFixture) async throws -> String {
        try await f.value(f.erp, "SELECT concat_ws('/', name, country, credit_limit, manager) FROM debtor")
    }

    private func client(_ f: OwnSchemaFixture) async throws -> String {
        try await f.value(f.crm, "SELECT concat_ws('/', name, country, credit, manager) FROM client")
    }

    @Test("changes to different fields on the two sides both travel, and the pair is then in step", arguments: CRMService.allCases)
    func differentFieldsBothTravel(crm: CRMService) async throws {
        try await withSyncedPair(crm: crm) { f in
            try await f.erp.query("UPDATE debtor SET credit_limit = 500")
            try await f.crm.query("UPDATE client SET manager = 'BOB'")
            let counts = try await f.sync()
            #expect(counts.values.allSatisfy { $0.failed == 0 }, "\(counts)")
            #expect(try await debtor(f) == "Adatum/NO/500.00/BOB")
            #expect(try await client(f) == "Adatum/NO/500.00/BOB")
            let quiet = try await f.sync()
            #expect(quiet.values.allSatisfy { $0.modified == 0 && $0.failed == 0 }, "in step: \(quiet)")
            #expect(try await f.errors().isEmpty)
        }
    }

    @Test("a field changed on both sides to different values fails the record naming it; nothing is written until they agree", arguments: CRMService.allCases)
    func sameFieldDifferentValuesConflicts(crm: CRMService) async throws {
        try await withSyncedPair(crm: crm) { f in
            try await f.erp.query("UPDATE debtor SET credit_limit = 500, country = 'SE'")
            try await f.crm.query("UPDATE client SET credit = 900")
            let counts = try await f.sync()
            #expect(counts[.toIntegration]?.failed == 1 && counts[.fromIntegration]?.failed == 1, "\(counts)")
            #expect(try await debtor(f) == "Adatum/SE/500.00/ANNA", "the ERP keeps its values")
            #expect(try await client(f) == "Adatum/NO/900/ANNA", "the CRM keeps its values, the ERP's country too waits")
            let errors = try await f.errors()
            #expect(Set(errors.map(\.errorClass)) == ["update_conflict:fields:credit", "update_conflict:fields:credit_limit"])
            let message = try #require(errors.first?.message)
            let number = try await f.value(f.crm, "SELECT number FROM client", as: String.self)
            #expect(message.contains("DEBTOR") && message.contains(number) && message.contains("client.credit") && message.contains("couplet resolve"),
                    "names mapping, keys, the field and what to do: \(message)")

            try await f.crm.query("UPDATE client SET credit = 500")
            let agreed = try await f.sync()
            #expect(agreed.values.allSatisfy { $0.failed == 0 }, "\(agreed)")
            #expect(try await client(f) == "Adatum/SE/500/ANNA", "once the field agrees, the other change travels")
            #expect(try await f.value(f.coordination, "SELECT count(*) FROM couplet.sync_errors WHERE closed_at IS NULL", as: Int.self) == 0)
        }
    }

    @Test("the same field changed on both sides to the same value is no conflict", arguments: CRMService.allCases)
    func sameValueIsNoConflict(crm: CRMService) async throws {
        try await withSyncedPair(crm: crm) { f in
            try await f.erp.query("UPDATE debtor SET manager = 'CARL', country = 'DK'")
            try await f.crm.query("UPDATE client SET manager = 'CARL', name = 'Adatum AS'")
            let counts = try await f.sync()
            #expect(counts.values.allSatisfy { $0.failed == 0 }, "\(counts)")
            #expect(try await debtor(f) == "Adatum AS/DK/100.00/CARL")
            #expect(try await client(f) == "Adatum AS/DK/100.00/CARL")
        }
    }

    @Test("a pair whose last synced fields are not known (coupled by hand) conflicts on every differing field instead of guessing", arguments: CRMService.allCases)
    func unknownFieldsConflict(crm: CRMService) async throws {
        try await OwnSchemaFixture.with(crm: crm) { f in
            try await f.addMapping(updateConflict: "merge")
            let id = try await f.value(f.erp, "INSERT INTO debtor (name, manager) VALUES ('Adatum', 'ANNA') RETURNING id::text", as: String.self)
            let client = try await f.value(f.crm, "INSERT INTO client (number, name, manager) VALUES (\(id), 'Adatum', 'BOB') RETURNING id::text",
                                           as: String.self)
            try await RecordActions.couple(mapping: "DEBTOR", localID: id, integrationID: client, on: f.coordination)
            try await f.sync()
            #expect(try await f.value(f.erp, "SELECT manager FROM debtor", as: String.self) == "ANNA")
            #expect(try await f.value(f.crm, "SELECT manager FROM client", as: String.self) == "BOB")
            #expect(try await f.errors().map(\.errorClass).contains("update_conflict:fields:manager"))
        }
    }

    @Test("the coupling keeps fingerprints of the fields, not their values", arguments: CRMService.allCases)
    func fingerprintsHoldNoData(crm: CRMService) async throws {
        try await withSyncedPair(crm: crm) { f in
            let stored = try await f.value(f.coordination, "SELECT local_fields::text || integration_fields::text FROM couplet.couplings",
                                           as: String.self)
            #expect(stored.contains("\"manager\"") && stored.contains("\"credit_limit\""), "\(stored)")
            #expect(!stored.contains("ANNA") && !stored.contains("Adatum"), "\(stored)")
        }
    }
}
