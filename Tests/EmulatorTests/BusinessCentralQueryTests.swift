import BusinessCentralEmulator
import Foundation
import Testing

/// Reading: paging, `$filter`, `$orderby`, `$select`, `$count`, `$metadata`, and the values as the API writes them.
@Suite("Business Central emulator queries")
struct BusinessCentralQueryTests {
    /// 25 customers numbered 10000, 10010, … (the sequence), named `Customer 01` … `Customer 25`.
    static let twentyFive = customerTables + """
        INSERT INTO customers (id, "displayName", city, "creditLimit", "firstOrderDate")
        SELECT gen_random_uuid(), 'Customer ' || lpad(n::text, 2, '0'), CASE WHEN n % 2 = 0 THEN 'Atlanta' ELSE 'Boston' END,
               n * 100.5, DATE '2026-01-01' + n
        FROM generate_series(1, 25) n ORDER BY n;
        """

    static func names(_ reply: Reply) -> [String] {
        reply.json["value"]?.arrayValue?.compactMap { $0["displayName"]?.stringValue } ?? []
    }

    @Test("odata.maxpagesize pages with nextLinks and Preference-Applied; $top stops the paging")
    func paging() async throws {
        try await withBusinessCentral(setup: Self.twentyFive) { bc in
            var link: String? = bc.company + "customers?$orderby=number"
            var pages: [[String]] = []
            while let next = link {
                let reply = try await bc.send(.GET, next, headers: [("Prefer", "odata.maxpagesize=10")])
                #expect(reply.status == 200, "\(reply.body)")
                #expect(reply.header("Preference-Applied") == "odata.maxpagesize=10")
                pages.append(Self.names(reply))
                link = reply.json["@odata.nextLink"]?.stringValue
            }
            #expect(pages.map(\.count) == [10, 10, 5])
            #expect(pages.flatMap { $0 } == (1...25).map { String(format: "Customer %02d", $0) })

            let first = try await bc.send(.GET, bc.company + "customers?$orderby=number&$top=15", headers: [("Prefer", "odata.maxpagesize=10")])
            let nextLink = try #require(first.json["@odata.nextLink"]?.stringValue)
            #expect(nextLink.hasPrefix(bc.root + bc.company + "customers?"))
            let second = try await bc.send(.GET, nextLink, headers: [("Prefer", "odata.maxpagesize=10")])
            #expect(Self.names(second).count == 5)
            #expect(second.json["@odata.nextLink"] == nil)

            let skipped = try await bc.send(.GET, bc.company + "customers?$orderby=number&$skip=20&$count=true")
            #expect(Self.names(skipped) == (21...25).map { String(format: "Customer %02d", $0) })
            #expect(skipped.json["@odata.count"] == .number("25"))
            #expect(skipped.json["@odata.nextLink"] == nil)

            let count = try await bc.send(.GET, bc.company + "customers/$count?$filter=city eq 'Atlanta'")
            #expect(count.body == "12")
            let bad = try await bc.send(.GET, bc.company + "customers?$skiptoken=nonsense")
            #expect(bad.status == 400)
        }
    }

    @Test("A page begins after the previous page's last record: records written meanwhile shift no page")
    func stablePaging() async throws {
        try await withBusinessCentral(setup: Self.twentyFive) { bc in
            let first = try await bc.send(.GET, bc.company + "customers?$orderby=displayName desc&$skip=2", headers: [("Prefer", "odata.maxpagesize=10")])
            #expect(Self.names(first).first == "Customer 23" && Self.names(first).last == "Customer 14")
            try await sql(bc, "INSERT INTO customers (id, \"displayName\") VALUES (gen_random_uuid(), 'Customer 99'), (gen_random_uuid(), 'Customer 00');")
            let nextLink = try #require(first.json["@odata.nextLink"]?.stringValue)
            let second = try await bc.send(.GET, nextLink, headers: [("Prefer", "odata.maxpagesize=10")])
            #expect(Self.names(second) == (4...13).reversed().map { String(format: "Customer %02d", $0) })
            let third = try await bc.send(.GET, try #require(second.json["@odata.nextLink"]?.stringValue), headers: [("Prefer", "odata.maxpagesize=10")])
            #expect(Self.names(third) == ["Customer 03", "Customer 02", "Customer 01", "Customer 00"])
        }
    }

    @Test("The default page size applies without odata.maxpagesize")
    func defaultPageSize() async throws {
        try await withBusinessCentral(setup: Self.twentyFive, configure: { $0.pageSize = 20 }) { bc in
            let reply = try await bc.send(.GET, bc.company + "customers")
            #expect(Self.names(reply).count == 20)
            #expect(reply.json["@odata.nextLink"] != nil)
            #expect(reply.header("Preference-Applied") == nil)
        }
    }

    @Test("$filter: comparisons of every literal kind, in, and/or/not, parentheses, the documented functions")
    func filters() async throws {
        try await withBusinessCentral(setup: Self.twentyFive + "UPDATE customers SET \"displayName\" = 'O''Brien Co' WHERE number = '10000';") { bc in
            func matching(_ filter: String, schemaVersion: String? = nil) async throws -> Int {
                let version = schemaVersion.map { "&$schemaversion=" + $0 } ?? ""
                let reply = try await bc.send(.GET, bc.company + "customers?$filter=" + filter + version)
                #expect(reply.status == 200, "\(filter): \(reply.body)")
                return Self.names(reply).count
            }
            #expect(try await matching("city eq 'Atlanta'") == 12)
            #expect(try await matching("city eq 'atlanta'") == 0)
            #expect(try await matching("city ne 'Atlanta' and creditLimit gt 1000") == 8)
            #expect(try await matching("creditLimit le 301.5") == 3)
            #expect(try await matching("firstOrderDate ge 2026-01-20") == 7)
            #expect(try await matching("lastModifiedDateTime lt 2000-01-01T00:00:00Z") == 0)
            #expect(try await matching("lastModifiedDateTime gt 2019-08-18T20:05:51.603Z") == 25)
            #expect(try await matching("taxLiable eq false and currencyId eq null") == 25)
            #expect(try await matching("not (city eq 'Atlanta' or city eq 'Boston') or city eq null") == 0)
            #expect(try await matching("number in ('10010', '10020', '99999')") == 2)
            #expect(try await matching("creditLimit in (201, 301.5)") == 2)
            #expect(try await matching("displayName eq 'O''Brien Co'") == 1)
            #expect(try await matching("startswith(displayName,'Customer 1')") == 10)
            #expect(try await matching("startswith(displayName,'customer 1')") == 0)
            #expect(try await matching("endswith(displayName,'5') or contains(displayName,'Brien')") == 4)
            #expect(try await matching("tolower(displayName) eq 'customer 05'") == 1)
            #expect(try await matching("substring(number, 3) eq '20'") == 3)
            #expect(try await matching("contains(toupper(displayName),'BRIEN')", schemaVersion: "2.1") == 1)
            #expect(try await matching("blocked eq ' ' and type eq 'Company'") == 25)
            let id = try #require(try await bc.send(.GET, bc.company + "customers?$top=1").json["value"]?.arrayValue?.first?["id"]?.stringValue)
            #expect(try await matching("id eq \(id)") == 1)
        }
    }

    @Test("Refused: unknown properties, mistyped literals, in, unknown query options, $expand")
    func refusedFilters() async throws {
        try await withBusinessCentral(setup: customerTables) { bc in
            for (query, code) in [
                ("$filter=nickname eq 'x'", "BadRequest_NotFound"), ("$filter=creditLimit eq 'x'", "BadRequest_NotFound"),
                ("$filter=city eq 5", "BadRequest_NotFound"), ("$filter=city in ('a',2)", "BadRequest_NotFound"),
                ("$filter=city eq 'a' or number eq '1'", "BadRequest"), ("$filter=contains(tolower(city),'a')", "BadRequest"),
                ("$filter=city eq", "BadRequest_NotFound"), ("$filter=length(city) eq 2", "BadRequest_NotFound"),
                ("$apply=groupby((city))", "BadRequest_NotFound"), ("$orderby=nickname", "BadRequest_NotFound"),
                ("$select=nickname", "BadRequest_NotFound"), ("$top=-1", "BadRequest_NotFound"), ("$expand=currency", "BadRequest"),
            ] {
                let reply = try await bc.send(.GET, bc.company + "customers?" + query)
                #expect(reply.status == 400, "\(query): \(reply.status) \(reply.body)")
                #expect(reply.json["error"]?["code"]?.stringValue == code, "\(query): \(reply.body)")
                #expect(reply.json["error"]?["message"]?.stringValue?.contains("CorrelationId") == true)
            }
        }
    }

    @Test("$orderby with several keys, $select, and values as the API writes them")
    func orderAndValues() async throws {
        try await withBusinessCentral(setup: Self.twentyFive) { bc in
            let ordered = try await bc.send(.GET, bc.company + "customers?$orderby=city desc,creditLimit desc&$top=3&$select=displayName,city")
            #expect(Self.names(ordered) == ["Customer 25", "Customer 23", "Customer 21"])
            let first = try #require(ordered.json["value"]?.arrayValue?.first)
            #expect(first.objectMembers?.map(\.0) == ["@odata.etag", "displayName", "city"])
            #expect(ordered.json["@odata.context"]?.stringValue == bc.root + "$metadata#" + bc.company + "customers(displayName,city)")

            let one = try await bc.send(.GET, bc.company + "customers?$filter=number eq '10000'")
            let record = try #require(one.json["value"]?.arrayValue?.first)
            #expect(record["creditLimit"] == .number("100.5"))
            #expect(record["firstOrderDate"] == .string("2026-01-02"))
            #expect(record["taxLiable"] == .bool(false))
            #expect(record["blocked"] == .string(" "))
            let modified = try #require(record["lastModifiedDateTime"]?.stringValue)
            #expect(modified.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z/) != nil, "\(modified)")
            let id = try #require(record["id"]?.stringValue)
            #expect(id == id.lowercased())
            let single = try await bc.send(.GET, bc.company + "customers(\(id.uppercased()))")
            #expect(single.status == 200)
            #expect(single.header("ETag") == record["@odata.etag"]?.stringValue)
            let missing = try await bc.send(.GET, bc.company + "customers(\(UUID().uuidString))")
            #expect(missing.status == 404)
            #expect(missing.json["error"]?["code"]?.stringValue == "BadRequest_NotFound")
        }
    }

    @Test("Companies, the service document and $metadata with typed properties, enums and the key")
    func metadata() async throws {
        try await withBusinessCentral(
            setup: customerTables + "CREATE SCHEMA second; CREATE TABLE second.\"paymentTerms\" (id uuid PRIMARY KEY, code varchar(10) NOT NULL);",
            configure: { $0.companies = [.init(name: "CRONUS USA, Inc.", schema: "public"), .init(name: "Second", schema: "second")] }
        ) { bc in
            let companies = try await bc.send(.GET, "companies")
            let names = companies.json["value"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(names == ["CRONUS USA, Inc.", "Second"])
            let filtered = try await bc.send(.GET, "companies?$filter=name eq 'Second'")
            let second = try #require(filtered.json["value"]?.arrayValue?.first?["id"]?.stringValue)
            #expect(try await bc.send(.GET, "companies(\(second))/paymentTerms").status == 200)
            #expect(try await bc.send(.GET, "companies(\(second))/customers").status == 404)
            #expect(try await bc.send(.GET, "companies(\(UUID().uuidString))/customers").status == 404)

            let metadata = try await bc.send(.GET, "$metadata")
            #expect(metadata.status == 200)
            #expect(metadata.header("Content-Type")?.hasPrefix("application/xml") == true)
            for fragment in [
                "<EntityType Name=\"customer\">", "<Key><PropertyRef Name=\"id\"/></Key>",
                "<Property Name=\"id\" Type=\"Edm.Guid\" Nullable=\"false\"/>",
                "<Property Name=\"displayName\" Type=\"Edm.String\" Nullable=\"false\" MaxLength=\"100\"/>",
                "<Property Name=\"creditLimit\" Type=\"Edm.Decimal\" Nullable=\"false\" Precision=\"18\" Scale=\"2\"/>",
                "<Property Name=\"firstOrderDate\" Type=\"Edm.Date\"/>", "Type=\"Edm.DateTimeOffset\"", "Type=\"Edm.Boolean\"",
                "<Property Name=\"type\" Type=\"Microsoft.NAV.customerType\" Nullable=\"false\"/>",
                "<EnumType Name=\"customerBlocked\">", "<Member Name=\"Ship\" Value=\"1\"/>", "<EntityType Name=\"paymentTerm\">",
                "<EntitySet Name=\"customers\" EntityType=\"Microsoft.NAV.customer\"/>", "<EntityType Name=\"company\">",
            ] {
                #expect(metadata.body.contains(fragment), "no \(fragment)")
            }
            let service = try await bc.send(.GET, "")
            #expect(service.json["value"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["companies", "customers", "paymentTerms"])
        }
    }

    @Test("Entity type names: the singular of the set name")
    func singulars() {
        #expect(["customers", "contacts", "items", "currencies", "paymentTerms", "salespersonPurchasers", "taxAreas", "boxes", "unitsOfMeasure"]
            .map(BusinessCentralEmulator.entityTypeName)
            == ["customer", "contact", "item", "currency", "paymentTerm", "salespersonPurchaser", "taxArea", "box", "unitOfMeasure"])
    }
}
