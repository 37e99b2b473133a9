import Foundation
import Postgres
import PostgresTestSupport
import Testing

@testable import Sync

@Suite("Filter grammar: parsed, never passed on as SQL")
struct RecordFilterGrammarTests {
    @Test("filters in the grammar parse", arguments: [
        "NOT isdisabled AND islicensed AND NOT isintegrationuser",
        "blocked = '' AND credit_limit >= -1.5e3",
        "status IN ('not_started', 'in_progress')",
        "document_type = 'order' AND status = 'released'\n AND sell_to_customer_no IN (SELECT no FROM customer WHERE blocked = '')",
        "customer_no NOT IN (SELECT no FROM sales.customer WHERE blocked = '' AND (city IS NULL OR city <> 'Oslo'))",
        "(a BETWEEN 1 AND 10 OR b NOT BETWEEN 'a' AND 'm') and name ilike 'ab%' AND name NOT LIKE '%x'",
        "\"Post Code\" <> 'a;b)' AND \"€$a$\" IS NOT NULL AND größe > 3 AND TRUE",
        "city <> '$1' AND note = 'it''s -- not a comment'",
    ])
    func parses(text: String) throws {
        #expect(try RecordFilter(parsing: text).text == text)
    }

    @Test("the tree follows SQL's precedence: NOT, then AND, then OR")
    func precedence() throws {
        let column = { (name: String) in FilterOperand.column(try PostgresIdentifier(name)) }
        #expect(try RecordFilter(parsing: "a OR NOT b AND c").condition
            == .or(.truth(column("a")), .and(.not(.truth(column("b"))), .truth(column("c")))))
        #expect(try RecordFilter(parsing: "n BETWEEN 1 AND 2 AND m").condition
            == .and(.between(column("n"), low: .literal(.number("1")), high: .literal(.number("2")), negated: false), .truth(column("m"))))
    }

    @Test("anything outside the grammar is refused where it starts, with what to write instead", arguments: [
        ("blocked = false; DROP TABLE customer", 16, "';' ends a statement: a filter is one predicate, never a second statement"),
        ("true) OR (true", 5, "expected AND, OR or the end of the filter, found ')'"),
        ("(a = 1", 7, "expected ')' to close the parenthesis, found the end of the filter"),
        ("a = 1 -- all", 7, "comments are not part of the filter grammar"),
        ("name = 'it''s", 8, "the text that starts here is never closed"),
        ("   ", 1, "a filter must not be empty: leave the key out to synchronize every record"),
        ("€$a$ IS NULL) OR (true)) OR ((€$a$ IS NULL", 1, "unexpected '€'; a name with characters other than letters, digits and '_' goes in double quotes"),
        ("pg_sleep(10) IS NULL", 9, "functions are not part of the filter grammar: compare the column itself"),
        ("city::text = 'x'", 5, "casts are not part of the filter grammar: a literal takes the type of the column it is compared with"),
        ("note = $$a$$", 8, "'$' has no meaning in a filter: there are no parameters or dollar-quoted strings; write text in single quotes"),
        ("name = E'x'", 9, "expected AND, OR or the end of the filter, found the text \"x\""),
        ("t.city = 'x'", 2, "qualified names are not part of the filter grammar: name the column alone"),
        ("no IN (SELECT no FROM customer UNION SELECT code FROM secret)", 32, "expected ')' to close the subquery, found 'UNION'"),
        ("no IN (SELECT * FROM secret)", 15, "'*' is not part of the filter grammar: a subquery selects one column, and there is no arithmetic"),
        ("no = NULL", 6, "NULL is not a value to compare with: write IS NULL or IS NOT NULL"),
        ("'x'", 1, "a value alone is not a condition: compare it with a column (for example code = 'X')"),
        ("in = 1", 1, "expected a column or a value, found the keyword IN; a column with that name goes in double quotes"),
        ("n = 12abc", 7, "a number must not run into a name; names starting with a digit go in double quotes"),
        ("a = 1 + 2", 7, "arithmetic and other operators are not part of the filter grammar"),
        ("name = 'a\0b'", 10, "a filter must not contain a NUL character"),
    ])
    func refuses(text: String, position: Int, message: String) {
        #expect(throws: FilterError(message: message, position: position)) { try RecordFilter(parsing: text) }
    }

    @Test("length and nesting are bounded, so no filter exhausts the stack or the planner")
    func bounds() {
        let deep = String(repeating: "NOT ", count: RecordFilter.maximumDepth) + "blocked"
        #expect(throws: FilterError(message: "a filter nests at most 32 levels deep", position: 129)) {
            try RecordFilter(parsing: "NOT " + deep)
        }
        #expect((try? RecordFilter(parsing: deep)) != nil)
        let parenthesized = String(repeating: "(", count: 100_000) + "a"
        #expect(throws: FilterError(message: "a filter is at most 4000 characters long", position: 4001)) {
            try RecordFilter(parsing: parenthesized)
        }
        #expect(throws: FilterError(message: "a filter nests at most 32 levels deep", position: 33)) {
            try RecordFilter(parsing: String(repeating: "(", count: 40) + "a" + String(repeating: ")", count: 40))
        }
    }
}

@Suite("Filters on a real endpoint: compiled to quoted names and bound values")
struct RecordFilterSQLTests {
    /// A table unlike the demo's: an identity key, `char(3)` codes, a quoted name with a space and
    /// one with `€` and `$` in it, and a second table for membership tests.
    static let schema = """
        CREATE TABLE "Odd Things" (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, code char(3), city text,
            amount numeric(10, 2), active boolean NOT NULL, "Post Code" text, "€$a$" text,
            modified_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO "Odd Things" (code, city, amount, active, "Post Code", "€$a$") VALUES
            ('A1', '$1', 10.50, true, '0150', 'x'), ('B2', 'Oslo', -3, false, NULL, NULL), ('C3', ' oslo ', 0, true, '0151', 'y'),
            ('A1', NULL, 1000, true, '9990', NULL), ('D4', 'Bergen', 999.99, false, '5003', 'z'), ('E5', 'it''s', NULL, true, NULL, 'x');
        CREATE TABLE blocked_codes (code char(3) NOT NULL, reason text NOT NULL);
        INSERT INTO blocked_codes VALUES ('A1', 'audit'), ('D4', 'credit');
        """

    @Test("each form selects exactly the rows the same predicate written as SQL selects", arguments: [
        ("city <> '$1'", "city <> '$1'"),
        ("city = 'it''s' OR city ILIKE '%OSLO%'", "city = 'it''s' OR city ILIKE '%OSLO%'"),
        ("amount BETWEEN -3 AND 10.5 AND NOT active", "amount BETWEEN -3 AND 10.5 AND NOT active"),
        ("amount NOT BETWEEN 0 AND 1e3", "amount NOT BETWEEN 0 AND 1e3"),
        ("code IN ('A1', 'D4')", "code IN ('A1', 'D4')"),
        ("\"Post Code\" LIKE '015_' OR \"€$a$\" IS NULL", "\"Post Code\" LIKE '015_' OR \"€$a$\" IS NULL"),
        ("code NOT IN (SELECT code FROM blocked_codes WHERE reason = 'audit')",
         "code NOT IN (SELECT code FROM blocked_codes WHERE reason = 'audit')"),
        ("active AND code IN (SELECT code FROM public.blocked_codes)", "active AND code IN (SELECT code FROM blocked_codes)"),
        ("amount > 1 OR city IS NOT NULL AND NOT (active = TRUE)", "amount > 1 OR city IS NOT NULL AND NOT (active = TRUE)"),
    ])
    func sameRowsAsSQL(filter: String, sql: String) async throws {
        try await withTestConnection { db in
            try await db.runScript(Self.schema, name: "odd things")
            let compiled = try await ids(db, "SELECT id FROM \"Odd Things\" WHERE \(try RecordFilter(parsing: filter).sql) ORDER BY id")
            let written = try await ids(db, PostgresQuery(unsafeSQL: "SELECT id FROM \"Odd Things\" WHERE \(sql) ORDER BY id"))
            #expect(compiled == written)
            #expect(!compiled.isEmpty && compiled.count < 6, "the predicate discriminates: \(compiled)")
        }
    }

    @Test("a subquery's WHERE names its own table's columns: a column only the outer table has is an error, never a correlation")
    func subqueryDoesNotCorrelate() async throws {
        try await withTestConnection { db in
            try await db.runScript(Self.schema, name: "odd things")
            let filter = try RecordFilter(parsing: "code IN (SELECT code FROM blocked_codes WHERE city = 'Oslo')")
            await #expect {
                try await db.query("SELECT id FROM \"Odd Things\" WHERE \(filter.sql)")
            } throws: { error in
                (error as? PostgresError)?.message == "column couplet_member_1.city does not exist"
            }
        }
    }

    @Test("4. '$1' inside a filter's text is text, also where the filter follows bound values (match candidates)")
    func dollarInTextAfterBindings() async throws {
        try await withTestConnection { db in
            try await db.runScript(Self.schema, name: "odd things")
            let side = MappingSide(
                endpoint: "erp", table: try PostgresIdentifier("Odd Things"), key: try PostgresIdentifier("id"),
                modified: try PostgresIdentifier("modified_at"), filter: try RecordFilter(parsing: "city <> '$1'"), watermark: nil, template: [:])
            let endpoint = try PostgresTableEndpoint(connection: db, side: side, columns: ["€$a$"])
            // Rows 1 (city '$1') and 6 (city "it's") hold 'x'; the filter leaves row 6.
            #expect(try await endpoint.candidates(matching: ["€$a$"], values: [["x"]], caseSensitive: true) == [["6"]])
        }
    }

    private func ids(_ db: PostgresConnection, _ sql: PostgresQuery) async throws -> [Int] {
        try await db.query(sql).map { try $0.decode(Int.self, at: 0) }
    }
}

@Suite("Filters in sync runs")
struct RecordFilterSyncTests {
    @Test("4. '$1' inside a filter's text is text: it is not renumbered as a parameter")
    func dollarInText() async throws {
        try await SyncFixture.with { f in
            try await f.addCustomerMapping(direction: "to_integration", filter: "city <> '$1'")
            try await f.erp.runScript(
                "INSERT INTO customer (no, name, city) VALUES ('1', 'Dollar', '$1'), ('2', 'Oslo Ltd', 'Oslo')", name: "customers")
            try await f.sync(.full)
            #expect(try await f.accounts().keys.sorted() == ["2"])
        }
    }

    @Test("4. a filter written into couplet.table_mappings directly is parsed when loaded: SQL there runs nowhere")
    func storedFilterIsParsed() async throws {
        try await SyncFixture.with { f in
            try await f.erp.runScript(
                """
                CREATE TABLE secret_salaries (no text, name text, city text, credit_limit text, salesperson_code text, modified_at timestamptz);
                INSERT INTO secret_salaries VALUES ('S1', 'CEO salary 250000', NULL, NULL, NULL, now());
                INSERT INTO customer (no, name) VALUES ('1', 'Customer');
                """, name: "a table no mapping names")
            try await f.addCustomerMapping(direction: "to_integration")
            try await f.coordination.query(
                """
                UPDATE couplet.table_mappings SET local_filter = 'true) UNION ALL SELECT no, name, city, credit_limit, salesperson_code, modified_at, no FROM secret_salaries WHERE (true'
                """)
            await #expect {
                try await f.sync(.full)
            } throws: { error in
                let message = (error as? SyncFailure)?.message ?? "\(error)"
                return message.hasPrefix("mapping CUSTOMER local filter stored in couplet.table_mappings is not in Couplet's filter grammar: expected AND, OR or the end of the filter, found ')' (at character 5)")
            }
            #expect(try await f.accounts().isEmpty)
        }
    }
}
