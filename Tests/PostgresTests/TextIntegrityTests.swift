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
}
