import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

/// The value map example of docs/mappings.md, parsed; each edit replaces every occurrence of its text first.
private func exampleFile(_ edits: (String, String)...) throws -> MappingFileDefinition {
    var yaml = try documentedValueMapExample()
    for (old, new) in edits {
        precondition(yaml.contains(old))
        yaml = yaml.replacingOccurrences(of: old, with: new)
    }
    return try MappingFile.parse(yaml, file: "mappings.yaml")
}

@Suite("Value maps in the store: apply, prune, load, and records that fail alone")
struct ValueMapStoreTests {
    @Test("apply stores the map; load binds it into both directions of the field; a second apply changes nothing")
    func applyAndLoad() async throws {
        try await withMigratedDatabase { _, db in
            let file = try exampleFile()
            let report = try await MappingStore.apply(file, prune: false, on: db)
            #expect(report.valueMaps.created == ["COUNTRIES"])
            #expect(try await MappingStore.storedValueMaps(on: db) == [countries])
            let loaded = try await MappingStore.load("CUSTOMER", on: db)
            let maps = Dictionary(uniqueKeysWithValues: file.valueMaps.map { ($0.name, $0) })
            #expect(loaded.fields == file.mappings[0].mapping.fields.map { $0.binding(maps) })
            let country = try #require(loaded.fields.last)
            #expect(try country.toIntegration.apply(to: " no") == "Norway")
            #expect(try country.fromIntegration.apply(to: "Sweden") == "SE")
            #expect(try country.fromIntegration.apply(to: "Finland") == nil)
            let again = try await MappingStore.apply(file, prune: false, on: db)
            #expect(again.valueMaps.unchanged == ["COUNTRIES"] && !again.hasChanges)
        }
    }

    @Test("a changed pair or default updates the map; without --prune a map not in the file is kept, with it deleted")
    func updateAndPrune() async throws {
        try await withMigratedDatabase { _, db in
            try await MappingStore.apply(try exampleFile(), prune: false, on: db)
            let changed = try exampleFile(("DK: Denmark", "DK: Danmark"), ("default_from_integration: null", "default_from_integration: NO"))
            #expect(try await MappingStore.plan(changed, prune: false, on: db).valueMaps.updated == ["COUNTRIES"])
            try await MappingStore.apply(changed, prune: false, on: db)
            let stored = try #require(try await MappingStore.storedValueMaps(named: ["COUNTRIES"], on: db).first)
            #expect(stored.pairs.last == ValuePair(local: "DK", integration: "Danmark") && stored.fromIntegrationDefault == .replace(with: "NO"))
            let renamed = try exampleFile(("name: COUNTRIES", "name: LANDS"), ("map(COUNTRIES)", "map(LANDS)"))
            let kept = try await MappingStore.apply(renamed, prune: false, on: db)
            #expect(kept.valueMaps.created == ["LANDS"] && kept.valueMaps.retained == ["COUNTRIES"])
            let pruned = try await MappingStore.apply(renamed, prune: true, on: db)
            #expect(pruned.valueMaps.deleted == ["COUNTRIES"])
            #expect(try await MappingStore.valueMapNames(on: db) == ["LANDS"])
            #expect(try await db.query("SELECT count(*) FROM couplet.value_map_pairs").single().decode(Int.self, at: 0) == 3)
        }
    }

    @Test("the database refuses a map that is not one-to-one even when written by hand")
    func oneToOneInTheDatabase() async throws {
        try await withMigratedDatabase { _, db in
            try await MappingStore.apply(try exampleFile(), prune: false, on: db)
            await #expect(throws: PostgresError.self) {
                try await db.query("INSERT INTO couplet.value_map_pairs VALUES ('COUNTRIES', 4, 'NOR', 'Norway')")
            }
        }
    }

    @Test("a mapping whose map(X) is not stored fails to load, saying what to do")
    func missingMap() async throws {
        try await withMigratedDatabase { _, db in
            try await MappingStore.apply(try exampleFile(), prune: false, on: db)
            try await db.query("DELETE FROM couplet.value_maps")
            let failure = try #require(await #expect(throws: SyncFailure.self) { try await MappingStore.load("CUSTOMER", on: db) })
            #expect(failure.code == .configuration)
            #expect(failure.message == "mapping CUSTOMER uses map(COUNTRIES), but there is no value map COUNTRIES; "
                + "declare it under value_maps in the mappings file and apply the file again")
        }
    }

    @Test("a sync translates each record; a value in no pair fails that record alone, naming the map and the fix")
    func syncFailsUnmappedRecordAlone() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "to_integration")
            try await MappingStore.apply(
                MappingFileDefinition(file: "m.yaml", endpoints: [], mappings: [], valueMaps: [countries]), prune: false, on: f.coordination)
            try await f.coordination.query(
                "UPDATE couplet.field_mappings SET to_integration_rule = 'trim | map(COUNTRIES)' WHERE mapping = 'CUSTOMER' AND local_field = 'city'")
            try await f.erp.runScript("INSERT INTO customer (no, name, city) VALUES ('1', 'one', 'NO'), ('2', 'two', 'FI')", name: "two")
            let counts = try await f.sync(.full)[.toIntegration]
            #expect(counts?.inserted == 1 && counts?.failed == 1)
            #expect(try await f.accounts()["1"]?.city == "Norway")
            // The class's text groups with other records' (`message`); this record's words name the value and the map.
            let message = try await f.coordination.query("SELECT record_message FROM couplet.sync_errors").single().decode(String.self, at: 0)
            #expect(message.contains("\"FI\" is no local value of value map COUNTRIES; add it to COUNTRIES"), "\(message)")
        }
    }
}
