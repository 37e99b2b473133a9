import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

/// The good file, parsed.
private func goodFile() throws -> MappingFileDefinition {
    try MappingFile.parse(goodMappingsFile, file: "mappings.yaml")
}

/// The good file with each `(old, new)` text replaced, parsed.
private func editedFile(_ edits: (String, String)...) throws -> MappingFileDefinition {
    var yaml = goodMappingsFile
    for (old, new) in edits {
        precondition(yaml.contains(old))
        yaml = yaml.replacingOccurrences(of: old, with: new)
    }
    return try MappingFile.parse(yaml, file: "mappings.yaml")
}

private func stored(_ name: String, on db: PostgresConnection) async throws -> StoredMapping {
    try #require(try await MappingStore.storedMappings(named: [name], on: db).first)
}

private let someInstant = Date(timeIntervalSince1970: 1_750_000_000)

/// Sets both watermarks of `mapping` and gives it one coupling, as a sync would have.
private func simulateSync(_ mapping: String, on db: PostgresConnection) async throws {
    try await db.query(
        "UPDATE couplet.table_mappings SET local_watermark = \(someInstant), integration_watermark = \(someInstant) WHERE name = \(mapping)")
    try await db.query("INSERT INTO couplet.couplings (mapping, local_id, integration_id) VALUES (\(mapping), '1', 'a')")
}

@Suite("Mappings store: apply, plan, read back")
struct MappingStoreApplyTests {
    @Test("a good file round-trips: what MappingStore.load reads back is what the file says")
    func roundTrip() async throws {
        try await withMigratedDatabase { _, db in
            let file = try goodFile()
            let report = try await MappingStore.apply(file, prune: false, on: db)
            #expect(report.endpoints.created == ["erp", "crm"])
            #expect(report.mappings.created == ["SALESPEOPLE", "CUSTOMER"])
            for definition in file.mappings {
                let loaded = try await MappingStore.load(definition.name, on: db)
                #expect(loaded.settings == definition.mapping.settings)
                #expect(loaded.fields == definition.mapping.fields)
                #expect(loaded.batchSize == definition.mapping.batchSize)
                for side in SyncSide.allCases {
                    let (back, written) = (loaded.side(side), definition.mapping.side(side))
                    #expect(back.endpoint == written.endpoint && back.table == written.table && back.key == written.key)
                    #expect(back.modified == written.modified && back.filter == written.filter && back.watermark == nil)
                }
                #expect(try await stored(definition.name, on: db).row == MappingRow(definition))
            }
            let customer = try await stored("CUSTOMER", on: db).row
            #expect(customer.dependsOn == ["SALESPEOPLE"] && customer.isEnabled)
            #expect(customer.fields.map(\.toIntegration) == [nil, "trim", "lookup(\"SALESPEOPLE\")", nil, nil], "rules are stored in their canonical text")
            let description = try await db.query("SELECT description FROM couplet.endpoints WHERE name = 'crm'").single().decode(String?.self, at: 0)
            #expect(description == "the CRM")
        }
    }

    @Test("templates and match fields in the file reach the engine, and a second apply keeps them")
    func templatesAndMatching() async throws {
        try await withMigratedDatabase { _, db in
            let file = try editedFile(
                ("integration: {endpoint: crm, table: account, key: id, modified: modified_at}",
                 "integration: {endpoint: crm, table: account, key: id, modified: modified_at, template: {city: Unknown, rating: null}}"),
                ("- {local: no, integration: account_number}", "- {local: no, integration: account_number, match_priority: 1, match_case_sensitive: true}"))
            try await MappingStore.apply(file, prune: false, on: db)
            let loaded = try await MappingStore.load("CUSTOMER", on: db)
            #expect(loaded.integration.template == ["city": "Unknown", "rating": nil])
            #expect(loaded.matchFields.map(\.field.localField) == ["no"])
            #expect(loaded.matchFields.first?.caseSensitive == true)
            #expect(loaded.settings.matchConfigured)
            let again = try await MappingStore.apply(file, prune: false, on: db)
            #expect(again.mappings.updated.isEmpty, "nothing changed")
        }
    }

    @Test("applying the same file again writes nothing")
    func idempotent() async throws {
        try await withMigratedDatabase { _, db in
            try await MappingStore.apply(try goodFile(), prune: false, on: db)
            let before = try await stored("CUSTOMER", on: db).updatedAt
            let again = try await MappingStore.apply(try goodFile(), prune: false, on: db)
            #expect(!again.hasChanges)
            #expect(again.mappings.unchanged == ["SALESPEOPLE", "CUSTOMER"] && again.endpoints.unchanged == ["erp", "crm"])
            #expect(try await stored("CUSTOMER", on: db).updatedAt == before)
        }
    }

    @Test("a changed mapping is updated and its fields replaced; watermarks stay, here and on unchanged mappings")
    func update() async throws {
        try await withMigratedDatabase { _, db in
            try await MappingStore.apply(try goodFile(), prune: false, on: db)
            try await simulateSync("CUSTOMER", on: db)
            try await simulateSync("SALESPEOPLE", on: db)
            let before = try await stored("CUSTOMER", on: db)
            let file = try editedFile(
                ("batch_size: 500", "batch_size: 200"),
                ("      - {local: name, integration: name, to_integration: \"trim\", comparison: text}\n", ""))
            let report = try await MappingStore.apply(file, prune: false, on: db)
            #expect(report.mappings.updated == ["CUSTOMER"] && report.mappings.unchanged == ["SALESPEOPLE"])
            #expect(report.watermarkResets.isEmpty)
            let after = try await stored("CUSTOMER", on: db)
            #expect(after.row.batchSize == 200)
            #expect(after.row.fields.map(\.local) == ["no", "salesperson_code", "credit_limit", "city"])
            #expect(after.updatedAt > before.updatedAt)
            #expect(after.localWatermark == someInstant && after.integrationWatermark == someInstant)
            #expect(try await stored("SALESPEOPLE", on: db).localWatermark == someInstant)
            let positions = try await db.query("SELECT array_agg(position ORDER BY position) FROM couplet.field_mappings WHERE mapping = 'CUSTOMER'")
            #expect(try positions.single().decode([Int].self, at: 0) == [1, 2, 3, 4])
        }
    }

    @Test("changing a side's table or key resets that side's watermark only, and says so")
    func sideChange() async throws {
        try await withMigratedDatabase { _, db in
            try await MappingStore.apply(try goodFile(), prune: false, on: db)
            try await simulateSync("CUSTOMER", on: db)
            let file = try editedFile(("table: public.customer, key: no,", "table: public.client, key: number,"))
            let planned = try await MappingStore.plan(file, prune: false, on: db)
            let report = try await MappingStore.apply(file, prune: false, on: db)
            #expect(planned == report)
            #expect(report.watermarkResets == [
                .init(mapping: "CUSTOMER", side: .local, changes: ["table public.customer → public.client", "key no → number"], previous: someInstant),
            ])
            #expect(report.couplings == ["CUSTOMER": 1])
            let after = try await stored("CUSTOMER", on: db)
            #expect(after.localWatermark == nil)
            #expect(after.integrationWatermark == someInstant)
        }
    }

    @Test("mappings and endpoints not in the file are kept, or deleted with --prune (with their couplings)")
    func prune() async throws {
        try await withMigratedDatabase { _, db in
            try await MappingStore.apply(try goodFile(), prune: false, on: db)
            try await db.runScript("INSERT INTO couplet.endpoints (name) VALUES ('legacy')", name: "extra endpoint")
            try await simulateSync("SALESPEOPLE", on: db)
            let withoutSalespeople = try MappingFile.parse(
                oneMapping(fields: ["{local: no, integration: account_number}"]), file: "m.yaml")
            let kept = try await MappingStore.apply(withoutSalespeople, prune: false, on: db)
            #expect(kept.mappings.retained == ["SALESPEOPLE"] && kept.mappings.deleted.isEmpty)
            #expect(kept.endpoints.retained == ["legacy"])
            #expect(kept.mappings.updated == ["CUSTOMER"])

            let pruned = try await MappingStore.apply(withoutSalespeople, prune: true, on: db)
            #expect(pruned.mappings.deleted == ["SALESPEOPLE"] && pruned.endpoints.deleted == ["legacy"])
            #expect(pruned.couplings == ["SALESPEOPLE": 1])
            #expect(try await MappingStore.storedMappings(on: db).map(\.row.name) == ["CUSTOMER"])
            #expect(try await db.query("SELECT count(*) FROM couplet.couplings").single().decode(Int.self, at: 0) == 0)
            #expect(try await db.query("SELECT count(*) FROM couplet.endpoints").single().decode(Int.self, at: 0) == 2)
        }
    }

    @Test("a dry run reports what apply would do and writes nothing")
    func dryRun() async throws {
        try await withMigratedDatabase { _, db in
            let plan = try await MappingStore.plan(try goodFile(), prune: true, on: db)
            #expect(plan.mappings.created == ["SALESPEOPLE", "CUSTOMER"] && plan.endpoints.created == ["erp", "crm"])
            #expect(try await MappingStore.storedMappings(on: db).isEmpty)
            #expect(try await db.query("SELECT count(*) FROM couplet.endpoints").single().decode(Int.self, at: 0) == 0)
        }
    }

    @Test("stored dependencies feed the file's reference checks")
    func dependencies() async throws {
        try await withMigratedDatabase { _, db in
            try await MappingStore.apply(try goodFile(), prune: false, on: db)
            let dependencies = try await MappingStore.dependencies(on: db)
            #expect(dependencies == ["SALESPEOPLE": [], "CUSTOMER": ["SALESPEOPLE"]])
            let contact = oneMapping(name: "CONTACT", "depends_on: [CUSTOMER]")
            #expect(mappingFileProblems(contact, others: dependencies).isEmpty)
        }
    }
}
