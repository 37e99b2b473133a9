import Foundation
import PostgresTestSupport
import Testing

@testable import Postgres

/// A quote, brace or backslash followed by a combining mark is one Character to Swift but two
/// scalars to PostgreSQL and libpq. Found by fuzzing filters: a quoted name holding `"` + U+05BA
/// kept its quote undoubled, so the name ended early and the rest was read as SQL.
@Suite("Quoting and parsing read scalars: a combining mark never hides a quote")
struct CombiningMarkTests {
    /// A name whose quote a combining mark (U+05BA) follows, and text after it that would be SQL.
    static let name = "e,G\"\u{05BA} OR true OR \""

    @Test("a quoted identifier doubles a quote that a combining mark follows; the server reads the same name back")
    func identifierQuoting() async throws {
        let identifier = try PostgresIdentifier(Self.name)
        #expect(Array(identifier.quoted.utf8) == Array("\"e,G\"\"\u{05BA} OR true OR \"\"\"".utf8))
        try await withTestConnection { db in
            try await db.query("CREATE TABLE \(identifier) (x int)")
            let names = try await db.query("SELECT relname::text FROM pg_class WHERE relname::text LIKE 'e,G%'").map { try $0.decode(String.self, at: 0) }
            #expect(names.map { Array($0.utf8) } == [Array(Self.name.utf8)])
        }
    }

    @Test("array elements that start with a combining mark or hold a quote before one come back whole")
    func arrayElements() async throws {
        let elements = ["\u{05BA}x", "a\"\u{05BA}", "\\\u{0301}", "plain"]
        try await withTestConnection { db in
            let back = try await db.query("SELECT \(elements)::text[]").single().decode([String].self, at: 0)
            #expect(back.map { Array($0.utf8) } == elements.map { Array($0.utf8) })
        }
    }
}
