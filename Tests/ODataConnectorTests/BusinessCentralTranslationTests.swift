import Foundation
import Postgres
@testable import Sync
import Testing
@testable import ODataConnector

/// Business Central's metadata, values, filters, requests and answers, checked without a service.
/// The examples are those of the API v2.0 reference (MicrosoftDocs/dynamics365smb-devitpro-pb,
/// `dev-itpro/api-reference/v2.0/`): the customer resource, its create example, and the JSON batch page.
@Suite struct BusinessCentralTranslationTests {
    /// An excerpt in the shape of Business Central's `$metadata`: the customer type of the resource
    /// page (a few of its properties), its `blocked` enumeration, and an entity set keyed by a number.
    static let metadata = """
        <?xml version="1.0" encoding="utf-8"?>
        <edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
          <edmx:DataServices>
            <Schema Namespace="Microsoft.NAV" Alias="NAV" xmlns="http://docs.oasis-open.org/odata/ns/edm">
              <EnumType Name="customerBlocked">
                <Member Name="_x0020_" Value="0" />
                <Member Name="Ship" Value="1" />
                <Member Name="Invoice" Value="2" />
                <Member Name="All" Value="3" />
              </EnumType>
              <EntityType Name="customer">
                <Key><PropertyRef Name="id" /></Key>
                <Property Name="id" Type="Edm.Guid" Nullable="false" />
                <Property Name="number" Type="Edm.String" MaxLength="20" />
                <Property Name="displayName" Type="Edm.String" MaxLength="100" />
                <Property Name="balanceDue" Type="Edm.Decimal" Scale="Variable">
                  <Annotation Term="Org.OData.Core.V1.Computed" Bool="true" />
                </Property>
                <Property Name="creditLimit" Type="Edm.Decimal" Scale="Variable" />
                <Property Name="taxLiable" Type="Edm.Boolean" />
                <Property Name="blocked" Type="Microsoft.NAV.customerBlocked" />
                <Property Name="lastPaymentDate" Type="Edm.Date" />
                <Property Name="website" Type="Edm.String" MaxLength="80">
                  <Annotation Term="Org.OData.Core.V1.Permissions">
                    <EnumMember>Org.OData.Core.V1.Permission/Read</EnumMember>
                  </Annotation>
                </Property>
                <Property Name="lastModifiedDateTime" Type="Edm.DateTimeOffset" />
                <NavigationProperty Name="currency" Type="Microsoft.NAV.currency" />
              </EntityType>
              <EntityType Name="legacyRow">
                <Key><PropertyRef Name="number" /></Key>
                <Property Name="number" Type="Edm.Int32" Nullable="false" />
              </EntityType>
              <EntityContainer Name="NAV">
                <EntitySet Name="customers" EntityType="Microsoft.NAV.customer" />
                <EntitySet Name="legacyRows" EntityType="NAV.legacyRow" />
              </EntityContainer>
            </Schema>
          </edmx:DataServices>
        </edmx:Edmx>
        """

    static func customers() throws -> BusinessCentralEntity {
        try #require(try BusinessCentralMetadata.entities(from: Array(metadata.utf8))["customers"])
    }

    @Test("$metadata gives each entity set's properties, their kinds, MaxLength and what the service computes")
    func metadataExcerpt() throws {
        let entities = try BusinessCentralMetadata.entities(from: Array(Self.metadata.utf8))
        #expect(entities.keys.sorted() == ["customers"], "an entity set not keyed by a GUID is left out")
        let customers = try Self.customers()
        #expect(customers.key == "id")
        #expect(customers.properties["id"] == .init(kind: .guid, maxLength: nil, isReadOnly: true))
        #expect(customers.properties["number"] == .init(kind: .text, maxLength: 20, isReadOnly: false))
        #expect(customers.properties["balanceDue"]?.isReadOnly == true)
        #expect(customers.properties["website"]?.isReadOnly == true)
        #expect(customers.properties["creditLimit"] == .init(kind: .decimal, maxLength: nil, isReadOnly: false))
        #expect(customers.properties["blocked"]?.kind == .enumeration(members: [" ", "Ship", "Invoice", "All"]), "as the examples write them")
        #expect(customers.properties["lastPaymentDate"]?.kind == .date)
        #expect(customers.properties["currency"] == nil, "a navigation property is no column")
        let columns = Dictionary(uniqueKeysWithValues: customers.catalogTable.columns.map { ($0.name, $0.type) })
        #expect(columns["lastModifiedDateTime"] == "timestamp with time zone")
        #expect(columns["lastPaymentDate"] == "date")
        #expect(columns["blocked"] == "text")
    }

    @Test("enumeration members named with CSDL escapes are the values the service writes")
    func memberNames() {
        #expect(BusinessCentralMetadata.memberValue("_x0020_") == " ")
        #expect(BusinessCentralMetadata.memberValue("Non_x002D_Inventory") == "Non-Inventory")
        #expect(BusinessCentralMetadata.memberValue("Ship") == "Ship")
        #expect(BusinessCentralMetadata.memberValue("_xZZ_x0041_") == "_xZZA")
        #expect(BusinessCentralMetadata.memberValue("_x12") == "_x12")
    }

    @Test("a $metadata that is not XML is refused in words")
    func brokenMetadata() {
        #expect(throws: SyncFailure.self) { try BusinessCentralMetadata.entities(from: Array("<html><body>Sign in</body></html>".utf8)) }
    }

    @Test("values read as PostgreSQL's text: the customer of the create example")
    func readingValues() throws {
        #expect(ODataValues.text(.string("2020-08-21T07:38:44.293Z"), kind: .dateTime) == "2020-08-21 07:38:44.293+00")
        #expect(ODataValues.text(.string("2026-12-07"), kind: .date) == "2026-12-07")
        #expect(ODataValues.text(.number("12345.60"), kind: .decimal) == "12345.60")
        #expect(ODataValues.text(.bool(true), kind: .boolean) == "true")
        #expect(ODataValues.text(.string("F2A5738A-44E3-EA11-BB43-000D3A2FECA1"), kind: .guid) == "f2a5738a-44e3-ea11-bb43-000d3a2feca1")
        #expect(ODataValues.text(.string(" "), kind: .enumeration(members: [" ", "Ship"])) == " ")
    }

    @Test("values written unchanged, or their record refused naming the column")
    func writingValues() throws {
        let customers = try Self.customers()
        func json(_ value: String?, _ column: String) -> Result<ODataJSON, RecordRefusal> {
            BusinessCentralTableEndpoint.json(value, for: customers.properties[column], named: column, in: "customers")
        }
        #expect(try json("10000", "number").get() == .string("10000"))
        #expect(try json("1234.5600", "creditLimit").get() == .number("1234.5600"))
        #expect(try json("t", "taxLiable").get() == .bool(true))
        #expect(try json("Ship", "blocked").get() == .string("Ship"))
        #expect(try json(" ", "blocked").get() == .string(" "), "the blank member of the create example")
        #expect(try json("2026-12-07", "lastPaymentDate").get() == .string("2026-12-07"))
        #expect(try json(nil, "displayName").get() == .null)
        for (value, column, words) in [
            (String(repeating: "x", count: 21), "number", "21 characters"), ("lots", "creditLimit", "not a number"),
            ("Blocked", "blocked", "none of"), ("12.07.2026", "lastPaymentDate", "not a day"), ("1.00", "balanceDue", "computes"),
            ("https://contoso.com", "website", "computes"), ("x", "nosuch", "no such property"),
        ] {
            guard case .failure(let refusal) = json(value, column) else { Issue.record("\(column) = \(value) should be refused"); continue }
            #expect(refusal.column == column)
            #expect(refusal.reason.contains(words), "\(refusal.reason)")
        }
    }

    @Test("filters compile to Business Central's $filter; what it cannot mean is refused, naming it")
    func filters() throws {
        let compiler = try Self.customers().filterCompiler
        let compile = { (text: String) throws -> String in try compiler.compile(RecordFilter(parsing: text).condition) }
        #expect(try compile("blocked = 'Ship' AND displayName LIKE 'Adatum%'") == "((blocked eq 'Ship') and startswith(displayName,'Adatum'))")
        #expect(try compile("creditLimit > 1000.50 AND taxLiable") == "((creditLimit gt 1000.50) and (taxLiable eq true))")
        #expect(try compile("lastPaymentDate >= '2026-12-01'") == "(lastPaymentDate ge 2026-12-01)")
        #expect(try compile("number IN ('10000', 'O''Neil')") == "(number eq '10000' or number eq 'O''Neil')")
        #expect(try compile("lastModifiedDateTime > '2026-12-07 10:00:00+00'") == "(lastModifiedDateTime gt 2026-12-07T10:00:00Z)")
        #expect(try compile("number = '1' OR number = '2'") == "((number eq '1') or (number eq '2'))", "an OR on one field")
        #expect(try compile("NOT taxLiable") == "(taxLiable eq false)")
        #expect(try compile("NOT (creditLimit > 5 AND creditLimit < 9)") == "((creditLimit le 5) or (creditLimit ge 9))")
        #expect(try compile("number NOT IN ('1', '2')") == "((number ne '1') and (number ne '2'))")
        #expect(try compile("creditLimit NOT BETWEEN 1 AND 2") == "((creditLimit lt 1) or (creditLimit gt 2))")
        for (text, words) in [
            ("displayName ILIKE 'a%'", "Business Central compares text with case, so ILIKE cannot hold as written; use LIKE"),
            ("number = '1' OR displayName = 'x'", "cannot OR conditions on different fields (displayName, number)"),
            ("NOT (number = '1' AND displayName = 'x')", "cannot OR conditions on different fields"),
            ("displayName IS NULL", "holds no NULL"), ("displayName NOT LIKE 'A%'", "cannot negate a pattern"),
            ("number IN (SELECT no FROM legacy)", "cannot read another table"),
        ] {
            do {
                _ = try compile(text)
                Issue.record("\(text) should be refused")
            } catch {
                #expect("\(error)".contains(words), "\(error)")
            }
        }
        for text in ["creditLimit = 'much'", "nosuch = 1", "lastPaymentDate = 'Monday'"] {
            #expect(throws: (any Error).self, "\(text)") { try compile(text) }
        }
    }

    @Test("the service root and the company's collections are the documented URLs")
    func urls() async throws {
        let root = BusinessCentralConnector.serviceRoot(url: "https://api.businesscentral.dynamics.com", tenant: "contoso.onmicrosoft.com", environment: "production")
        #expect(root?.absoluteString == "https://api.businesscentral.dynamics.com/v2.0/contoso.onmicrosoft.com/production/api/v2.0/")
        #expect(BusinessCentralConnector.serviceRoot(url: "https://api.businesscentral.dynamics.com", tenant: "", environment: "production") == nil)
        try await TestSetup().withClient(try #require(URL(string: "http://127.0.0.1:9/"))) { client, _ in
            let endpoint = try Self.endpoint(client)
            #expect(endpoint.collection == "companies(11111111-2222-3333-4444-555555555555)/customers")
            #expect(endpoint.resource(filter: [endpoint.keyIn(["f2a5738a-44e3-ea11-bb43-000d3a2feca1", "04a5738a-44e3-ea11-bb43-000d3a2feca1"])], orderBy: "lastModifiedDateTime asc,id asc", select: endpoint.selectList)
                == "companies(11111111-2222-3333-4444-555555555555)/customers?$select=id,lastModifiedDateTime,number,displayName&$filter=(id%20in%20(f2a5738a-44e3-ea11-bb43-000d3a2feca1,04a5738a-44e3-ea11-bb43-000d3a2feca1))&$orderby=lastModifiedDateTime%20asc,id%20asc")
            let chunks = endpoint.chunks(Array(repeating: "f2a5738a-44e3-ea11-bb43-000d3a2feca1", count: 100))
            #expect(chunks.count > 1 && chunks.allSatisfy { $0.count <= 45 }, "a read by ids stays within a URL of a few thousand characters")
        }
    }

    @Test("a record of the create example's answer reads with its id, modified-on and mapped values")
    func recordFromAnswer() async throws {
        let answer = try ODataJSON.parse("""
            {"@odata.etag":"W/\\"JzQ0O0pEWT0nOw==\\"","id":"F2A5738A-44E3-EA11-BB43-000D3A2FECA1","number":"10000",
             "displayName":"Adatum Corporation","blocked":" ","lastModifiedDateTime":"2020-08-21T07:38:44.293Z"}
            """)
        try await TestSetup().withClient(try #require(URL(string: "http://127.0.0.1:9/"))) { client, _ in
            let record = try await Self.endpoint(client).record(from: answer)
            #expect(record.id == "f2a5738a-44e3-ea11-bb43-000d3a2feca1")
            #expect(record.modifiedOn == ODataValues.instant("2020-08-21T07:38:44.293Z"))
            #expect(record.values["displayName"] == "Adatum Corporation")
            #expect(record.values["number"] == "10000")
        }
    }

    @Test("writes travel as a JSON batch, a request per record, going on after a failure")
    func batchRequest() throws {
        let batch = BusinessCentralTableEndpoint.jsonBatch([
            ODataBatchRequest(method: .post, url: "companies(c)/customers", body: .object(["displayName": .string("Adatum")])),
            ODataBatchRequest(method: .patch, url: "companies(c)/customers(f2a5738a-44e3-ea11-bb43-000d3a2feca1)",
                              headers: [("If-Match", "W/\"JzQ0O0pEWT0nOw==\"")], body: .object(["number": .string("10000")])),
        ])
        #expect(batch.continueOnError)
        #expect(batch.json.jsonText == #"{"requests":[{"method":"POST","id":"1","url":"companies(c)/customers","headers":{"Content-Type":"application/json"},"body":{"displayName":"Adatum"}},{"method":"PATCH","id":"2","url":"companies(c)/customers(f2a5738a-44e3-ea11-bb43-000d3a2feca1)","headers":{"If-Match":"W/\"JzQ0O0pEWT0nOw==\"","Content-Type":"application/json"},"body":{"number":"10000"}}]}"#)
    }

    @Test("an error answer of the batch page refuses its record with the service's code and message")
    func batchAnswer() async throws {
        let requests = (1...3).map { ODataJSONBatchRequest(id: "\($0)", method: .patch, url: "companies(c)/items(\($0))") }
        let result = try ODataJSONBatch(requests: requests, continueOnError: true)
            .decode(try ODataJSON.parse(try golden("use-odata-batch.response.json")), status: 200, endpoint: "erp")
        #expect(result.responses.map(\.status) == [200, 204, 400])
        try await TestSetup().withClient(try #require(URL(string: "http://127.0.0.1:9/"))) { client, _ in
            let refusal = try Self.endpoint(client).refusal(result.responses[2], values: ["type": "Invalid Type"])
            #expect(refusal.detail.hasPrefix("Business Central Unknown: 'Invalid Type' is not an option."))
            #expect(refusal.reason == "Business Central refused it (Unknown)")
            #expect(refusal.concern == .value)
        }
    }

    /// The customers of a company, mapping `number` and `displayName`, over `client`.
    static func endpoint(_ client: ODataClient) throws -> BusinessCentralTableEndpoint {
        let side = MappingSide(
            endpoint: "erp", table: try PostgresIdentifier("customers"), key: try PostgresIdentifier("id"),
            modified: try PostgresIdentifier("lastModifiedDateTime"), filter: nil, watermark: nil, template: [:])
        return BusinessCentralTableEndpoint(
            session: BusinessCentralSession(client: client, company: "11111111-2222-3333-4444-555555555555"),
            entity: try customers(), side: side, columns: ["number", "displayName"], filter: nil)
    }
}

/// The etag guard both services' updates and deletions share.
@Suite struct ODataWriteGuardTests {
    @Test("a write names the etag the record was read with, or the current one while it carries the modified-on read; leaves a record changed since or gone alone; '*' when it names no state")
    func ifMatch() throws {
        let read = try #require(ODataValues.instant("2026-12-07T10:00:00Z"))
        let etags = ["f2a5738a-44e3-ea11-bb43-000d3a2feca1": RecordStamp(modifiedOn: read, version: "W/\"JzQ0O0pEWT0nOw==\"")]
        let modifiedOnly = RecordStamp(modifiedOn: read)
        #expect(BusinessCentralTableEndpoint.ifMatch("F2A5738A-44E3-EA11-BB43-000D3A2FECA1", expected: modifiedOnly, etags: etags) == "W/\"JzQ0O0pEWT0nOw==\"")
        #expect(BusinessCentralTableEndpoint.ifMatch("f2a5738a-44e3-ea11-bb43-000d3a2feca1", expected: RecordStamp(modifiedOn: read.addingTimeInterval(-1)), etags: etags) == nil)
        #expect(BusinessCentralTableEndpoint.ifMatch("04a5738a-44e3-ea11-bb43-000d3a2feca1", expected: modifiedOnly, etags: etags) == nil)
        #expect(BusinessCentralTableEndpoint.ifMatch("04a5738a-44e3-ea11-bb43-000d3a2feca1", expected: nil, etags: etags) == "*")
        let asRead = RecordStamp(modifiedOn: read, version: "W/\"JzQ0O0pEWj0nOw==\"")
        #expect(BusinessCentralTableEndpoint.ifMatch("f2a5738a-44e3-ea11-bb43-000d3a2feca1", expected: asRead, etags: etags) == asRead.version,
                "the etag as read, not the current one of the same second")
    }

    @Test("matching compares values trimmed, inner white space folded and, unless case-sensitive, case folded")
    func matchNormalisation() {
        #expect(matchNormal("  Adatum \t Corporation ", caseSensitive: false) == "adatum corporation")
        #expect(matchNormal("  Adatum \t Corporation ", caseSensitive: true) == "Adatum Corporation")
    }
}

/// Opening a Business Central endpoint from a mappings file's settings, without a service.
@Suite struct BusinessCentralConnectorTests {
    static let settings = [
        "tenant": "contoso.onmicrosoft.com", "environment": "production",
        "company": "11111111-2222-3333-4444-555555555555", "client_id": "66666666-7777-8888-9999-000000000000",
    ]

    @Test("a missing setting or a company that is not a GUID is refused, naming the endpoint")
    func missingSettings() async {
        let connector = BusinessCentralConnector(logger: .init(label: "test"))
        for broken in [Self.settings.filter { $0.key != "environment" }, Self.settings.merging(["company": "CRONUS"]) { $1 }] {
            do {
                _ = try await connector.open(EndpointDefinition(name: "erp", kind: "business-central", settings: broken), environment: [:])
                Issue.record("\(broken) should be refused")
            } catch {
                #expect("\(error)".contains("business-central endpoint erp needs tenant, environment, company (a GUID) and client_id"))
            }
        }
    }

    @Test("the secret comes only from the environment; its absence names the variable, its value never shows")
    func secret() async throws {
        let connector = BusinessCentralConnector(logger: .init(label: "test"))
        let endpoint = EndpointDefinition(name: "erp", kind: "business-central", settings: Self.settings)
        do {
            _ = try await connector.open(endpoint, environment: [:])
            Issue.record("an endpoint without its secret should be refused")
        } catch {
            #expect("\(error)".contains("COUPLET_ENDPOINT_ERP_SECRET"))
        }
        let session = try await connector.open(endpoint, environment: ["COUPLET_ENDPOINT_ERP_SECRET": "s3cr3t"])
        let client = try #require((session as? BusinessCentralSession)?.client)
        #expect(client.service.root.absoluteString == "https://api.businesscentral.dynamics.com/v2.0/contoso.onmicrosoft.com/production/api/v2.0/")
        #expect(client.service.credentials.scope == "https://api.businesscentral.dynamics.com/.default")
        #expect(client.service.protection == .businessCentral)
        #expect(!"\(client.service)".contains("s3cr3t"))
        let again = try await connector.open(endpoint, environment: ["COUPLET_ENDPOINT_ERP_SECRET": "s3cr3t"])
        #expect((again as? BusinessCentralSession)?.client === client, "one client per endpoint for the process")
    }
}
