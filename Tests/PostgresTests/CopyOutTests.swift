import Foundation
import Postgres
import PostgresTestSupport
import Testing

@Suite("COPY TO STDOUT, and piping it into COPY FROM STDIN")
struct CopyOutTests {
    struct Planned: Error {}

    private static let item = try! PostgresIdentifier("item")
    private static let copyOfItem = try! PostgresIdentifier("item_copy")
    private static let columns = try! ["id", "label", "price", "seen"].map { try PostgresIdentifier($0) }

    /// 100,000 rows whose labels hold tabs, newlines, backslashes, non-ASCII text and NULLs.
    private func makeItems(_ db: PostgresConnection) async throws {
        try await db.runScript(
            """
            CREATE TABLE item (id int8 PRIMARY KEY, label text, price numeric, seen timestamptz);
            CREATE TABLE item_copy (LIKE item);
            INSERT INTO item
            SELECT n, CASE WHEN n % 100 = 0 THEN NULL ELSE E'item\\t' || n || E'\\nline \\\\ two ünïcødé 🙂' END,
                   n / 4.0, timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second'
            FROM generate_series(1, 100000) n;
            """, name: "items")
    }

    @Test("a large result arrives in bounded pieces of whole rows, and piped into COPY FROM STDIN it is identical")
    func streamAndPipe() async throws {
        try await TestDatabase.with { database in
            let source = try await database.connect()
            let target = try await database.connect()
            defer {
                source.close()
                target.close()
            }
            try await makeItems(source)
            var pieces = 0
            var largest = 0
            var lines = 0
            let written = try await target.copy(into: Self.copyOfItem, columns: Self.columns) { writer in
                let sent = try await source.copyOut("SELECT \(Self.columns) FROM \(Self.item) ORDER BY id") { piece in
                    pieces += 1
                    largest = max(largest, piece.count)
                    lines += piece.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
                    #expect(piece.last == UInt8(ascii: "\n"), "each piece ends on a row boundary")
                    try await writer.send(piece)
                }
                #expect(sent == 100_000)
            }
            #expect(written == 100_000)
            #expect(lines == 100_000, "a newline inside a value travels escaped, one line per row")
            #expect(pieces > 10, "streamed in pieces, not in one")
            #expect(largest < 65_536 + 1_024, "a piece is about 64 KiB: memory follows the piece, not the table")
            let differences = try await source.query(
                "SELECT count(*) FROM ((TABLE item EXCEPT ALL TABLE item_copy) UNION ALL (TABLE item_copy EXCEPT ALL TABLE item)) d"
            ).single().decode(Int.self, at: 0)
            #expect(differences == 0)
            #expect(try await source.query("SELECT count(*) FROM item_copy WHERE label IS NULL").single().decode(Int.self, at: 0) == 1_000)
        }
    }

    @Test("a consumer that gives up ends the COPY at once and the connection stays usable")
    func consumerThrows() async throws {
        try await withTestConnection { db in
            let started = ContinuousClock.now
            var pieces = 0
            await #expect(throws: Planned.self) {
                // generate_series in the select list streams; in FROM it would be materialized before the first row.
                try await db.copyOut("SELECT generate_series(1, 100000000) AS n, repeat('x', 100)") { _ in
                    pieces += 1
                    if pieces == 2 { throw Planned() }
                }
            }
            #expect(pieces == 2)
            // libpq would let the next statement wait for, and drop, every remaining row: the server must stop instead.
            let answer = try await db.query("SELECT 41 + 1").single().decode(Int.self, at: 0)
            #expect(answer == 42)
            #expect(started.duration(to: .now) < .seconds(5), "the server stopped instead of sending 100 million rows")
        }
    }

    @Test("cancelling the task mid-stream leaves the connection usable, for COPY TO and COPY FROM")
    func cancellation() async throws {
        try await withTestConnection { db in
            try await makeItems(db)
            let reader = Task {
                try await db.copyOut("SELECT generate_series(1, 100000000)") { _ in
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            reader.cancel()
            let cancelled = ContinuousClock.now
            await #expect(throws: (any Error).self) { try await reader.value }
            #expect(try await db.query("SELECT 1").single().decode(Int.self, at: 0) == 1)
            #expect(cancelled.duration(to: .now) < .seconds(5), "the server stopped sending")

            let writer = Task {
                try await db.copy(into: Self.copyOfItem, columns: Self.columns) { writer in
                    for id in 1... {
                        try await writer.send(Array("\(id)\tx\t1\t2026-01-01 00:00:00+00\n".utf8))
                        try await Task.sleep(for: .milliseconds(5))
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            writer.cancel()
            await #expect(throws: (any Error).self) { try await writer.value }
            #expect(try await db.query("SELECT count(*) FROM item_copy").single().decode(Int.self, at: 0) == 0)
        }
    }

    @Test("a server error mid-stream is thrown with its SQLSTATE; a bound value is refused before sending")
    func errors() async throws {
        try await withTestConnection { db in
            let failure = await #expect(throws: PostgresError.self) {
                try await db.copyOut("SELECT 1 / (50000 - n) FROM generate_series(1, 100000) n", name: "divide") { _ in }
            }
            #expect(failure?.sqlState == "22012")
            #expect(failure?.statementName == "divide")
            #expect(try await db.query("SELECT 1").single().decode(Int.self, at: 0) == 1)
            let refused = await #expect(throws: PostgresError.self) {
                try await db.copyOut("SELECT \("secret")::text") { _ in }
            }
            #expect(refused?.code == .encoding)
            #expect(refused.map { !String(reflecting: $0).contains("secret") } == true)
            let empty = try await db.copyOut("SELECT 1 WHERE false") { _ in Issue.record("no piece for no rows") }
            #expect(empty == 0)
        }
    }
}
