import Foundation
import Testing

@testable import Postgres

@Suite("Text formats without a server")
struct EncodingTests {
    @Test("timestamps parse with any UTC offset the server prints")
    func timestampParsing() throws {
        let expected = Date(timeIntervalSince1970: 1_743_296_400)  // 2025-03-30T01:00:00Z
        #expect(PostgresTimestamp.parse("2025-03-30 01:00:00+00") == expected)
        #expect(PostgresTimestamp.parse("2025-03-30 03:00:00+02") == expected)
        #expect(PostgresTimestamp.parse("2025-03-29 21:30:00-03:30") == expected)
        #expect(PostgresTimestamp.parse("2025-03-30 06:45:00+05:45") == expected)
        #expect(PostgresTimestamp.parse("2025-03-30T01:00:00Z") == expected)
        #expect(PostgresTimestamp.parse("2025-03-30 01:00:00") == expected)
        let fractional = try #require(PostgresTimestamp.parse("2025-03-30 01:00:00.25+00"))
        #expect(fractional.timeIntervalSince(expected) == 0.25)
        #expect(PostgresTimestamp.parse("1969-12-31 23:59:59+00") == Date(timeIntervalSince1970: -1))
        #expect(PostgresTimestamp.parse("infinity") == .distantFuture)
        #expect(PostgresTimestamp.parse("-infinity") == .distantPast)
    }

    @Test("malformed timestamps are refused", arguments: [
        "", "2025-3-30 01:00:00+00", "2025-03-30", "2025-13-01 00:00:00+00", "2025-03-30 25:00:00+00",
        "2025-03-30 01:00:00+2", "2025-03-30 01:00:00.1234567+00", "2025-03-30 01:00:00 BC", "yesterday",
    ])
    func timestampRefusal(text: String) {
        #expect(PostgresTimestamp.parse(text) == nil)
    }

    @Test("timestamps format as UTC with microseconds, before 1970 too")
    func timestampFormatting() {
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 1_743_296_400.5)) == "2025-03-30T01:00:00.500000Z")
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: -1.25)) == "1969-12-31T23:59:58.750000Z")
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000000Z")
    }

    @Test("instants beyond the server's range format as infinity, the edges of the range as themselves")
    func timestampRange() {
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 999_999_999 * 86_400)) == "infinity")
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: -1e300)) == "-infinity")
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 9_224_318_015_999.5)) == "294276-12-31T23:59:59.500000Z")
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: .nan)) == "NaN")
    }

    @Test("every duration has an interval text, however long")
    func durationText() {
        #expect(Duration.milliseconds(1500).postgresText == "1 seconds 500000 microseconds")
        #expect(Duration.seconds(Int64.max).postgresText == "9223372036854775807 seconds 0 microseconds")
    }

    @Test("the day arithmetic agrees with itself over four centuries")
    func civilDateRoundTrip() {
        for days in stride(from: Int64(-150_000), through: 150_000, by: 7) {
            let (year, month, day) = PostgresTimestamp.civilDate(fromDaysSinceEpoch: days)
            #expect(PostgresTimestamp.daysSinceEpoch(year: year, month: month, day: day) == days)
        }
    }

    @Test("array literals round-trip quotes, backslashes, commas, braces and NULL")
    func arrayLiterals() throws {
        let elements: [String?] = ["plain", "with space", "quote\"inside", "back\\slash", "a,b", "{braces}", nil, "NULL", ""]
        let text = PostgresArrayLiteral.format(elements)
        #expect(PostgresArrayLiteral.parse(text) == elements)
        #expect(PostgresArrayLiteral.parse("{1,2,NULL}") == ["1", "2", nil])
        #expect(PostgresArrayLiteral.parse("{}") == [])
        #expect(PostgresArrayLiteral.parse("[0:1]={7,8}") == ["7", "8"])
        #expect(PostgresArrayLiteral.parse("{{1,2},{3,4}}") == nil)
        #expect(PostgresArrayLiteral.parse("{\"open}") == nil)
        #expect(PostgresArrayLiteral.parse("1,2") == nil)
    }

    @Test("values encode in PostgreSQL's text input format")
    func encodings() throws {
        #expect(true.postgresText == "t")
        #expect(Double.nan.postgresText == "NaN")
        #expect((-Double.infinity).postgresText == "-Infinity")
        #expect(Data([0, 15, 255]).postgresText == "\\x000fff")
        #expect(Optional<Int>.none.postgresText == nil)
        #expect(Optional<Int>.postgresType == .int8)
        #expect([1, 2].postgresText == "{\"1\",\"2\"}")
        #expect([Int].postgresType == .int8Array)
        #expect([String].postgresType == .textArray)
        #expect(try PostgresJSON(["b": 1, "a": 2]).postgresText == #"{"a":2,"b":1}"#)
    }

    @Test("a value JSON cannot express is refused when wrapped")
    func unencodableJSON() {
        #expect(throws: PostgresError.self) { try PostgresJSON(Double.nan) }
    }
}

@Suite("Decoding errors name the column")
struct DecodingTests {
    let columns = PostgresColumns(names: ["id", "name", "missing"], types: [.int8, .text, .int4])

    private func row(_ values: [String?]) -> PostgresRow { PostgresRow(columns: columns, values: values) }

    @Test("a type mismatch names the column and both types")
    func typeMismatch() {
        let error = #expect(throws: PostgresError.self) { try row(["1", "Ada", nil]).decode(Int.self, column: "name") }
        #expect(error?.code == .decoding)
        #expect(error?.message == #"column "name" (text) as Int: expected an integer type, got text"#)
    }

    @Test("NULL decodes into an Optional and is refused otherwise")
    func nulls() throws {
        let row = row(["1", "Ada", nil])
        #expect(try row.decode(Int32?.self, column: "missing") == nil)
        let error = #expect(throws: PostgresError.self) { try row.decode(Int32.self, column: "missing") }
        #expect(error?.message.contains("unexpected NULL") == true)
        #expect(error?.message.contains("\"missing\"") == true)
    }

    @Test("an unknown column lists the columns there are")
    func unknownColumn() {
        let error = #expect(throws: PostgresError.self) { try row(["1", "Ada", nil]).decode(Int.self, column: "nmae") }
        #expect(error?.message == #"no column "nmae" in the result (columns: id, name, missing)"#)
    }

    @Test("tuples decode leading columns in order")
    func tuples() throws {
        let (id, name, missing) = try row(["7", "Ada", nil]).decode((Int, String, Int?).self)
        #expect(id == 7 && name == "Ada" && missing == nil)
    }

    @Test("an integer that does not fit is refused")
    func overflow() {
        let wide = PostgresRow(columns: PostgresColumns(names: ["n"], types: [.int8]), values: ["40000"])
        #expect(throws: PostgresError.self) { try wide.decode(Int16.self, at: 0) }
        #expect((try? wide.decode(Int32.self, at: 0)) == 40000)
    }

    @Test("array elements report their position")
    func arrayElements() {
        let array = PostgresRow(columns: PostgresColumns(names: ["ids"], types: [.int8Array]), values: ["{1,NULL,3}"])
        let error = #expect(throws: PostgresError.self) { try array.decode([Int].self, at: 0) }
        #expect(error?.message.contains("element 2: unexpected NULL") == true)
        #expect((try? array.decode([Int?].self, at: 0)) == [1, nil, 3])
    }
}

@Suite("Queries and identifiers")
struct QueryTests {
    @Test("interpolated values become numbered parameters, never SQL text")
    func interpolation() {
        let name = "Robert'); DROP TABLE students; --"
        let query: PostgresQuery = "SELECT * FROM t WHERE name = \(name) AND id > \(5)"
        let (sql, bindings) = query.rendered()
        #expect(sql == "SELECT * FROM t WHERE name = $1 AND id > $2")
        #expect(bindings.map(\.text) == [name, "5"])
        #expect(bindings.map(\.type) == [.unknown, .int8])
    }

    @Test("fragments keep their parameters in order")
    func fragments() {
        let filter: PostgresQuery = "a = \(1) AND b = \(2)"
        let trusted = PostgresQuery(unsafeSQL: "c = $1 OR d = $2", bindings: [PostgresBinding(3), PostgresBinding(4)])
        let query: PostgresQuery = "SELECT \("x") WHERE \(filter) AND (\(trusted))"
        let (sql, bindings) = query.rendered()
        #expect(sql == "SELECT $1 WHERE a = $2 AND b = $3 AND (c = $4 OR d = $5)")
        #expect(bindings.map(\.text) == ["x", "1", "2", "3", "4"])
        let joined = PostgresQuery.joined(["(\(1))", "(\(2))"], separator: ", ").rendered()
        #expect(joined.sql == "($1), ($2)")
    }

    @Test("a `$` number that is none of a fragment's own parameters stays as written, however long")
    func foreignPlaceholderNumbers() {
        let filter = PostgresQuery(unsafeSQL: "city <> '$99999999999999999999'")
        let trusted = PostgresQuery(unsafeSQL: "c = $1 AND d <> '$99999999999999999999' AND e <> '$2'", bindings: [PostgresBinding(3)])
        let query: PostgresQuery = "SELECT \("x") WHERE \(filter) AND \(trusted)"
        #expect(query.rendered().sql
            == "SELECT $1 WHERE city <> '$99999999999999999999' AND c = $2 AND d <> '$99999999999999999999' AND e <> '$2'")
        #expect(query.rendered().bindings.map(\.text) == ["x", "3"])
    }

    @Test("identifiers are quoted so no name escapes its quotes")
    func identifiers() throws {
        let table = try PostgresIdentifier("we\"ird", schema: "erp")
        let query: PostgresQuery = "SELECT \([try PostgresIdentifier("a"), try PostgresIdentifier("b c")]) FROM \(table)"
        #expect(query.rendered().sql == #"SELECT "a", "b c" FROM "erp"."we""ird""#)
        #expect(try PostgresIdentifier(qualified: "crm.account").parts == ["crm", "account"])
    }

    @Test("invalid identifiers are refused with the reason", arguments: [
        ("", "must not be empty"),
        (String(repeating: "x", count: 64), "longer than PostgreSQL's 63-byte limit"),
        ("nul\0byte", "must not contain a NUL character"),
        ("a.b.c", "has more than one dot"),
    ])
    func invalidIdentifiers(name: String, reason: String) {
        let error = #expect(throws: PostgresError.self) { try PostgresIdentifier(qualified: name, what: "table") }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains(reason) == true)
    }
}

@Suite("Connection strings keep their password")
struct ConfigurationTests {
    @Test("description shows where, never the password")
    func description() throws {
        let url = try PostgresConfiguration("postgres://erp:S3cr%40t@db.example:6432/sales?sslmode=require")
        #expect(url.description == "erp@db.example:6432/sales")
        #expect(url.containsPassword)
        let keywords = try PostgresConfiguration("host=db user=crm password='p w' dbname=crm")
        #expect(keywords.description == "crm@db:5432/crm")
        #expect(!"\(keywords)".contains("p w"))
    }

    @Test("an unparsable string is refused without repeating its password")
    func unparsable() {
        for text in ["postgres://erp:Sup3rSecret@db:notaport/x?bogus=1", "host=db password=Sup3rSecret nonsense"] {
            let error = #expect(throws: PostgresError.self) { try PostgresConfiguration(text) }
            #expect(error?.code == .invalidConfiguration)
            #expect(error.map { !String(reflecting: $0).contains("Sup3rSecret") } == true)
        }
    }

    @Test("another database on the same server keeps the other settings")
    func replacingDatabase() throws {
        let base = try PostgresConfiguration("postgres://erp:pw@db:6432/sales?application_name=x")
        let other = base.replacingDatabase(with: "it's")
        #expect(other.database == "it's")
        #expect(other.host == "db" && other.port == "6432" && other.user == "erp")
        #expect(!other.description.contains("pw"))
    }
}
