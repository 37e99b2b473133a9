import DataverseEmulator
import Foundation
import Testing

/// `$select`, `$filter`, `$orderby`, `$top`, `$count` and value formats, as query-data and filter-rows describe them.
@Suite("Emulator queries")
struct QueryTests {
    static let setup = """
        CREATE TABLE category (value int PRIMARY KEY);
        CREATE TABLE account (
          accountid uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL, revenue numeric(19,4),
          numberofemployees int, creditonhold boolean NOT NULL DEFAULT false, createdon timestamptz NOT NULL DEFAULT now(),
          lastvisit date, CHECK (numberofemployees >= 0), category int REFERENCES category (value));
        INSERT INTO account (accountid, name, revenue, numberofemployees, creditonhold, createdon, lastvisit) VALUES
          ('00000000-0000-0000-0000-000000000001', 'Contoso Ltd', 100000, 50, false, '2026-12-07T10:00:00Z', '2026-12-01'),
          ('00000000-0000-0000-0000-000000000002', 'Fabrikam (sample)', 5000, 2000, true, '2026-11-01T08:30:00Z', NULL),
          ('00000000-0000-0000-0000-000000000003', 'O''Brian Inc.', NULL, 5, false, '2025-01-01T00:00:00Z', NULL),
          ('00000000-0000-0000-0000-000000000004', 'adventure works', 250000.5, NULL, false, '2026-12-06T23:59:59Z', NULL);
        """

    /// The names the filter selects, in key order.
    static func names(_ emulated: Emulated, _ query: String) async throws -> [String] {
        let reply = try await emulated.send(.GET, "accounts?$select=name&" + query)
        guard reply.status == 200 else { throw HarnessError("\(query): \(reply.status) \(reply.body)") }
        return reply.json["value"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
    }

    @Test("Comparison, logical and grouping operators; null, numbers, booleans, guids, datetimes")
    func operators() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            do {
                let value = try await Self.names(emulated, "$filter=revenue gt 5000")
                #expect(value == ["Contoso Ltd", "adventure works"])
            }
            do {
                let value = try await Self.names(emulated, "$filter=revenue ge 5000 and revenue lt 100000")
                #expect(value == ["Fabrikam (sample)"])
            }
            do {
                let value = try await Self.names(emulated, "$filter=revenue le 5000 or revenue eq null")
                #expect(value == ["Fabrikam (sample)", "O'Brian Inc."])
            }
            do {
                let value = try await Self.names(emulated, "$filter=revenue ne null and not (creditonhold eq true)")
                #expect(value == ["Contoso Ltd", "adventure works"])
            }
            do {
                let value = try await Self.names(emulated, "$filter=creditonhold eq true")
                #expect(value == ["Fabrikam (sample)"])
            }
            do {
                let value = try await Self.names(emulated, "$filter=accountid eq 00000000-0000-0000-0000-000000000003")
                #expect(value == ["O'Brian Inc."])
            }
            do {
                let value = try await Self.names(emulated, "$filter=createdon ge 2026-12-01T00:00:00Z")
                #expect(value == ["Contoso Ltd", "adventure works"])
            }
            do {
                let value = try await Self.names(emulated, "$filter=lastvisit eq 2026-12-01")
                #expect(value == ["Contoso Ltd"])
            }
            do {
                let value = try await Self.names(emulated, "$filter=revenue eq 250000.5")
                #expect(value == ["adventure works"])
            }
        }
    }

    @Test("String comparisons ignore case; contains, startswith, endswith; quotes doubled")
    func strings() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            do {
                let value = try await Self.names(emulated, "$filter=name eq 'CONTOSO LTD'")
                #expect(value == ["Contoso Ltd"])
            }
            do {
                let value = try await Self.names(emulated, "$filter=contains(name,'(SAMPLE)')")
                #expect(value == ["Fabrikam (sample)"])
            }
            do {
                let value = try await Self.names(emulated, "$filter=startswith(name,'Adv')")
                #expect(value == ["adventure works"])
            }
            do {
                let value = try await Self.names(emulated, "$filter=endswith(name,'inc.')")
                #expect(value == ["O'Brian Inc."])
            }
            do {
                let value = try await Self.names(emulated, "$filter=not contains(name,'o')")
                #expect(value == ["Fabrikam (sample)"])
            }
            do {
                let value = try await Self.names(emulated, "$filter=name eq 'o''brian inc.'")
                #expect(value == ["O'Brian Inc."])
            }
            do {
                let value = try await Self.names(emulated, "$filter=name gt 'b' and name lt 'D'")
                #expect(value == ["Contoso Ltd"])
            }
        }
    }

    @Test("Microsoft.Dynamics.CRM.In with single or double quotes and parameter aliases; Between")
    func queryFunctions() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            do {
                let value = try await Self.names(emulated, "$filter=Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['contoso ltd','Fabrikam (sample)'])")
                #expect(value == ["Contoso Ltd", "Fabrikam (sample)"])
            }
            do {
                let value = try await Self.names(emulated, #"$filter=Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)&@p1='name'&@p2=["O'Brian Inc.","Nobody"]"#)
                #expect(value == ["O'Brian Inc."])
            }
            do {
                let value = try await Self.names(emulated, #"$filter=Microsoft.Dynamics.CRM.NotIn(PropertyName='numberofemployees',PropertyValues=["50","5"])"#)
                #expect(value == ["Fabrikam (sample)"])
            }
            do {
                let value = try await Self.names(emulated, #"$filter=Microsoft.Dynamics.CRM.Between(PropertyName='numberofemployees',PropertyValues=["5","2000"])"#)
                #expect(value == ["Contoso Ltd", "Fabrikam (sample)", "O'Brian Inc."])
            }
            let odata401In = try await emulated.send(.GET, "accounts?$filter=name in ('Contoso Ltd')")
            #expect(odata401In.status == 400)
        }
    }

    @Test("$orderby ascending and descending on several columns; strings ignore case; nulls first ascending")
    func orderBy() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            do {
                let value = try await Self.names(emulated, "$orderby=name")
                #expect(value == ["adventure works", "Contoso Ltd", "Fabrikam (sample)", "O'Brian Inc."])
            }
            do {
                let value = try await Self.names(emulated, "$orderby=revenue desc")
                #expect(value == ["adventure works", "Contoso Ltd", "Fabrikam (sample)", "O'Brian Inc."])
            }
            do {
                let value = try await Self.names(emulated, "$orderby=creditonhold desc,revenue asc")
                #expect(value == ["Fabrikam (sample)", "O'Brian Inc.", "Contoso Ltd", "adventure works"])
            }
        }
    }

    @Test("$top, $count, and $top ignored under odata.maxpagesize as page-results says")
    func topAndCount() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let top = try await emulated.send(.GET, "accounts?$select=name,revenue&$top=3&$count=true")
            #expect(top.json["value"]?.arrayValue?.count == 3)
            #expect(top.json["@odata.count"] == .number("4"))
            #expect(top.json["@odata.nextLink"] == nil)
            let paged = try await emulated.send(.GET, "accounts?$select=name&$top=1", headers: [("Prefer", "odata.maxpagesize=3")])
            #expect(paged.json["value"]?.arrayValue?.count == 3)
            #expect(paged.json["@odata.nextLink"] != nil)
        }
    }

    @Test("Values: datetimes in UTC with Z, dates, decimals and integers as numbers, booleans, nulls")
    func valueFormats() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let record = try await emulated.send(.GET, "accounts(00000000-0000-0000-0000-000000000001)").json
            #expect(record["createdon"] == .string("2026-12-07T10:00:00Z"))
            #expect(record["lastvisit"] == .string("2026-12-01"))
            #expect(record["revenue"] == .number("100000.0000"))
            #expect(record["numberofemployees"] == .number("50"))
            #expect(record["creditonhold"] == .bool(false))
            #expect(record["@odata.etag"]?.stringValue?.hasPrefix("W/\"") == true)
            let other = try await emulated.send(.GET, "accounts(00000000-0000-0000-0000-000000000003)").json
            #expect(other["revenue"] == .null)
        }
    }

    @Test("Writes refuse values of the wrong JSON type and unknown properties; constraint violations name the column")
    func writeValidation() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let wrongType = try await emulated.send(.POST, "accounts", body: #"{"name": "X", "creditonhold": "yes"}"#)
            #expect(wrongType.status == 400)
            #expect(wrongType.json["error"]?["message"]?.stringValue?.contains("Edm.Boolean") == true)
            let unknown = try await emulated.send(.POST, "accounts", body: #"{"name": "X", "color": "red"}"#)
            #expect(unknown.status == 400)
            let missing = try await emulated.send(.POST, "accounts", body: #"{"revenue": 1}"#)
            #expect(missing.status == 400)
            #expect(missing.json["error"]?["message"]?.stringValue?.contains("'name'") == true)
            let check = try await emulated.send(.POST, "accounts", body: #"{"name": "X", "numberofemployees": -1}"#)
            #expect(check.status == 400)
            #expect(check.json["error"]?["message"]?.stringValue?.contains("'numberofemployees'") == true, "\(check.body)")
            let foreignKey = try await emulated.send(.POST, "accounts", body: #"{"name": "X", "category": 99}"#)
            #expect(foreignKey.status == 400)
            #expect(foreignKey.json["error"]?["message"]?.stringValue?.contains("'category'") == true, "\(foreignKey.body)")
            let duplicate = try await emulated.send(.POST, "accounts", body: #"{"accountid": "00000000-0000-0000-0000-000000000001", "name": "Again"}"#)
            #expect(duplicate.status == 412)
            #expect(duplicate.json["error"]?["code"] == .string("0x80040237"))
            let honoured = try await emulated.send(.POST, "accounts", body: #"{"accountid": "00000000-0000-0000-0000-0000000000aa", "name": "Mine"}"#)
            #expect(honoured.header("OData-EntityId")?.hasSuffix("accounts(00000000-0000-0000-0000-0000000000aa)") == true)
        }
    }

    @Test("Pages without $orderby follow the key: a record inserted before the cursor shifts no page")
    func keyedPaging() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let first = try await emulated.send(.GET, "accounts?$select=name", headers: [("Prefer", "odata.maxpagesize=2")])
            var names = first.json["value"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            try await sql(emulated, "INSERT INTO account (accountid, name) VALUES ('00000000-0000-0000-0000-000000000000', 'Inserted before')")
            var next = first.json["@odata.nextLink"]?.stringValue
            while let link = next {
                let page = try await emulated.send(.GET, link, headers: [("Prefer", "odata.maxpagesize=2")])
                names += page.json["value"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
                next = page.json["@odata.nextLink"]?.stringValue
            }
            #expect(names == ["Contoso Ltd", "Fabrikam (sample)", "O'Brian Inc.", "adventure works"])
        }
    }

    @Test("A request body over 16 MiB is refused with 413")
    func bodyLimit() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let big = "{\"name\": \"" + String(repeating: "x", count: 17 * 1024 * 1024) + "\"}"
            let reply = try await emulated.send(.POST, "accounts", body: big)
            #expect(reply.status == 413)
        }
    }

    @Test("A $filter nested too deeply is refused, not a crash")
    func deepFilter() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let deep = String(repeating: "(", count: 5000) + "name eq 'x'" + String(repeating: ")", count: 5000)
            let reply = try await emulated.send(.GET, "accounts?$filter=" + deep)
            #expect(reply.status == 400)
            let nots = String(repeating: "not ", count: 5000) + "name eq 'x'"
            #expect(try await emulated.send(.GET, "accounts?$filter=" + nots).status == 400)
        }
    }

    @Test("Paging one record at a time gives the same order as one page, for every $orderby (nulls, case, directions)")
    func pagedOrderMatchesUnpaged() async throws {
        try await withEmulator(setup: Self.setup + "INSERT INTO account (name, revenue) VALUES ('contoso ltd', 100000), ('Zed', NULL);") { emulated in
            for order in ["revenue", "revenue desc", "name desc", "creditonhold desc,revenue asc", "numberofemployees,name", "createdon desc"] {
                let whole = try await Self.names(emulated, "$orderby=\(order)")
                var paged: [String] = []
                var next: String? = "accounts?$select=name&$orderby=\(order)"
                while let link = next {
                    let page = try await emulated.send(.GET, link, headers: [("Prefer", "odata.maxpagesize=1")])
                    paged += page.json["value"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
                    next = page.json["@odata.nextLink"]?.stringValue
                }
                #expect(paged == whole, "$orderby=\(order)")
                #expect(whole.count == 6)
            }
        }
    }

    @Test("A record that moves behind the cursor while a client pages by modified-on is read again, none is skipped")
    func keysetWithOrderBy() async throws {
        try await withEmulator(setup: Self.setup) { emulated in
            let first = try await emulated.send(.GET, "accounts?$select=name&$orderby=createdon asc", headers: [("Prefer", "odata.maxpagesize=2")])
            var names = first.json["value"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
            #expect(names == ["O'Brian Inc.", "Fabrikam (sample)"])
            try await sql(emulated, "UPDATE account SET createdon = '2030-01-01T00:00:00Z' WHERE name = 'O''Brian Inc.'")
            var next = first.json["@odata.nextLink"]?.stringValue
            while let link = next {
                let page = try await emulated.send(.GET, link, headers: [("Prefer", "odata.maxpagesize=2")])
                names += page.json["value"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
                next = page.json["@odata.nextLink"]?.stringValue
            }
            #expect(names == ["O'Brian Inc.", "Fabrikam (sample)", "adventure works", "Contoso Ltd", "O'Brian Inc."])
        }
    }
}
