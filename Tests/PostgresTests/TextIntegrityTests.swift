import Postgres
import PostgresTestSupport
import Testing

@Suite("Text PostgreSQL cannot hold or Swift cannot read is refused, never altered")
struct TextIntegrityTests {
    @Test("a NUL inside a bound value is refused before anything is sent, naming the parameter but not the value")
    func nulInParameter() async throws {
        try await withTestConnection { db in
            try await db.query("CREATE TABLE note (id int8, body text)")
            let error = await #expect(throws: PostgresError.self) {
                try await db.query("INSERT INTO note VALUES (\(1), \("secret\u{0}cut"))", name: "insert note")
            }
            #expect(error?.code == .invalidParameter)
            #expect(error?.message.contains("$2") == true)
            #expect(error?.message.contains("NUL") == true)
            #expect(error?.statementName == "insert note")
            #expect(error.map { !String(reflecting: $0).contains("secret") } == true)
            #expect(try await db.query("SELECT count(*) FROM note").single().decode(Int.self, at: 0) == 0)
        }
    }

    @Test("a NUL inside an array element is refused too")
    func nulInArrayElement() async throws {
        try await withTestConnection { db in
            let error = await #expect(throws: PostgresError.self) { try await db.query("SELECT \(["ok", "a\u{0}b"])::text[]") }
            #expect(error?.code == .invalidParameter)
        }
    }

    @Test("text that is not valid UTF-8 (from a SQL_ASCII database) is flagged by column, and decoding it throws")
    func invalidUTF8() async throws {
        try await TestDatabase.with(encoding: "SQL_ASCII") { database in
            let db = try await database.connect()
            defer { db.close() }
            try await db.query("CREATE TABLE customer (no text, name text)")
            try await db.query(#"INSERT INTO customer VALUES ('C1', E'caf\xe9')"#)
            let row = try await db.query("SELECT no, name FROM customer").single()
            #expect(!row.hasInvalidText(at: 0))
            #expect(row.hasInvalidText(at: 1))
            #expect(try row.decode(String.self, at: 0) == "C1")
            let error = #expect(throws: PostgresError.self) { try row.decode(String.self, column: "name") }
            #expect(error?.code == .decoding)
            #expect(error?.message.contains("name") == true)
            #expect(error?.message.contains("UTF-8") == true)
            #expect(throws: PostgresError.self) { try row.decode(String?.self, at: 1) }
        }
    }
}
