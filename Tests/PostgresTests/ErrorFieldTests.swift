import Postgres
import PostgresTestSupport
import Testing

@Suite("Server errors name the constraint, table, column and type")
struct ErrorFieldTests {
    @Test("a CHECK violation names its constraint, table and schema")
    func checkViolation() async throws {
        try await withTestConnection { db in
            try await db.query("CREATE TABLE item (price numeric CONSTRAINT price_positive CHECK (price > 0))")
            let error = await #expect(throws: PostgresError.self) { try await db.query("INSERT INTO item VALUES (\(-1))") }
            #expect(error?.sqlState == "23514")
            #expect(error?.constraintName == "price_positive")
            #expect(error?.tableName == "item")
            #expect(error?.schemaName == "public")
        }
    }

    @Test("a NOT NULL violation names its column")
    func notNullViolation() async throws {
        try await withTestConnection { db in
            try await db.query("CREATE TABLE customer (no text NOT NULL, name text)")
            let error = await #expect(throws: PostgresError.self) {
                try await db.query("INSERT INTO customer (name) VALUES (\("Ada"))")
            }
            #expect(error?.sqlState == "23502")
            #expect(error?.columnName == "no")
            #expect(error?.tableName == "customer")
        }
    }

    @Test("a foreign key violation names its constraint and the referencing table")
    func foreignKeyViolation() async throws {
        try await withTestConnection { db in
            try await db.query("CREATE TABLE customer (no text PRIMARY KEY)")
            try await db.query("CREATE TABLE sales_order (no text, customer_no text CONSTRAINT order_customer REFERENCES customer)")
            let error = await #expect(throws: PostgresError.self) {
                try await db.query("INSERT INTO sales_order VALUES (\("SO1"), \("C404"))")
            }
            #expect(error?.sqlState == "23503")
            #expect(error?.constraintName == "order_customer")
            #expect(error?.tableName == "sales_order")
        }
    }

    @Test("a domain's CHECK violation names the data type")
    func domainViolation() async throws {
        try await withTestConnection { db in
            try await db.query("CREATE DOMAIN percent AS int CONSTRAINT percent_range CHECK (VALUE BETWEEN 0 AND 100)")
            let error = await #expect(throws: PostgresError.self) { try await db.query("SELECT \(150)::int::percent") }
            #expect(error?.dataTypeName == "percent")
            #expect(error?.constraintName == "percent_range")
        }
    }
}
