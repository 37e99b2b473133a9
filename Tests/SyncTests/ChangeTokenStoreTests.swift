import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

/// How the change tokens of `couplet.table_mappings` (Schema/0023) are loaded and kept by applies.
@Suite struct ChangeTokenStoreTests {
    private func tokens(on db: PostgresConnection) async throws -> (local: ChangeToken?, integration: ChangeToken?) {
        let mapping = try await MappingStore.load("CUSTOMER", on: db)
        return (mapping.local.changeToken, mapping.integration.changeToken)
    }

    private func apply(_ edit: (String) -> String, on db: PostgresConnection) async throws {
        try await MappingStore.apply(try MappingFile.parse(edit(goodMappingsFile), file: "mappings.yaml"), prune: false, on: db)
    }

    @Test("a stored token is loaded per side; an apply moving a side to another table clears that side's token only, a filter change keeps it")
    func appliesKeepTokensOfTheSameTable() async throws {
        try await withMigratedDatabase { _, db in
            try await apply({ $0 }, on: db)
            try await db.query(
                "UPDATE couplet.table_mappings SET local_change_token = 'l1', integration_change_token = 'i1' WHERE name = 'CUSTOMER'")
            #expect(try await tokens(on: db) == (ChangeToken("l1"), ChangeToken("i1")))

            try await apply({ $0.replacingOccurrences(of: "filter: \"blocked = false\"", with: "filter: \"blocked = true\"") }, on: db)
            #expect(try await tokens(on: db) == (ChangeToken("l1"), ChangeToken("i1")), "the same table's changes: the token still names them")

            try await apply({ $0.replacingOccurrences(of: "table: account, key: id", with: "table: client_account, key: id") }, on: db)
            #expect(try await tokens(on: db) == (ChangeToken("l1"), nil))
        }
    }

    @Test("the database refuses an empty token and one longer than the engine keeps")
    func tokensAreBounded() async throws {
        try await withMigratedDatabase { _, db in
            try await apply({ $0 }, on: db)
            for text in ["", String(repeating: "x", count: ChangeToken.maximumLength + 1)] {
                await #expect(throws: (any Error).self) {
                    try await db.query("UPDATE couplet.table_mappings SET integration_change_token = \(text) WHERE name = 'CUSTOMER'")
                }
                #expect(ChangeToken(text) == nil)
            }
        }
    }
}
