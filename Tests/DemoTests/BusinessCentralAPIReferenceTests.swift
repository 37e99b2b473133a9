import BusinessCentralEmulator
import DataverseEmulator
import Demo
import Foundation
import Logging
import ODataConnector
import Postgres
import PostgresTestSupport
import Sync
import Testing

/// Both products behind their APIs: the API-shaped demo ERP (`couplet demo seed --erp
/// business-central`) served by the Business Central emulator, the demo CRM by the Dataverse
/// emulator, `mappings-api.yaml` applied with the emulators' addresses, and an engine reaching both
/// through the real connectors.
struct BusinessCentralAPIReference: ReferenceIntegration {
    let demo: DemoFixture
    let coordination: PostgresConnection
    let engine: SyncEngine
    /// The applied mappings file.
    let file: MappingFileDefinition
    /// What the engine found the endpoints through.
    let endpoints: EndpointDirectory

    /// The client secret both emulators accept.
    static let secret = "api-reference-secret"
    /// The mappings in `mappings-api.yaml`, in dependency order.
    static let mappings = ["SALESPEOPLE", "CURRENCY", "UNIT-OF-MEASURE", "CUSTOMER", "CONTACT", "ITEM-PRODUCT"]

    /// `mappings-api.yaml` with the erp endpoint pointed at `businessCentral` (its address and company;
    /// the file's client id is the emulator's default) and the crm endpoint's URL and authority at `dataverse`.
    static func mappingsYAML(businessCentral: BusinessCentralEmulator, dataverse: String) throws -> String {
        let yaml = try String(contentsOfFile: deployFile("mappings-api.yaml"), encoding: .utf8)
        let company = businessCentral.configuration.companies.first.flatMap { businessCentral.companyID(named: $0.name) } ?? ""
        return yaml
            .replacingOccurrences(
                of: "url: https://api.businesscentral.dynamics.com\n    authority: https://login.microsoftonline.com/\n",
                with: "url: \(businessCentral.baseURL)\n    authority: \(businessCentral.baseURL)/\n")
            .replacingOccurrences(of: "company: 11111111-2222-3333-4444-555555555555\n", with: "company: \(company)\n")
            .replacingOccurrences(of: "url: https://contoso.crm4.dynamics.com\n", with: "url: \(dataverse)\n")
            .replacingOccurrences(
                of: "client_id: 51f81489-12ee-4a9e-aaae-a2591f45987d\n    authority: https://login.microsoftonline.com/\n",
                with: "client_id: 51f81489-12ee-4a9e-aaae-a2591f45987d\n    authority: \(dataverse)/\n")
    }

    /// Seeds the API-shaped demo, serves both sides with the emulators, applies `mappings-api.yaml`, runs `body`.
    static func with(isolation: isolated (any Actor)? = #isolation, _ body: (BusinessCentralAPIReference) async throws -> Void) async throws {
        try await withMigratedDatabase { _, coordination in
            try await DemoFixture.with(erp: .businessCentral) { demo in
                let quiet = Logger(label: "emulator", factory: { _ in SwiftLogNoOpLogHandler() })
                let erp = try PostgresConfiguration(demo.environment["COUPLET_ENDPOINT_ERP_URL"] ?? "")
                let crm = try PostgresConfiguration(demo.environment["COUPLET_ENDPOINT_CRM_URL"] ?? "")
                let businessCentral = BusinessCentralEmulator(configuration: .init(database: erp, clientSecret: secret), logger: quiet)
                let dataverse = DataverseEmulator(configuration: .init(database: crm, clientSecret: secret), logger: quiet)
                _ = try await businessCentral.start()
                _ = try await dataverse.start()
                do {
                    let yaml = try mappingsYAML(businessCentral: businessCentral, dataverse: dataverse.environmentURL)
                    try await run(demo, coordination, yaml: yaml, body)
                } catch {
                    await dataverse.stop()
                    await businessCentral.stop()
                    throw error
                }
                await dataverse.stop()
                await businessCentral.stop()
            }
        }
    }

    private static func run(
        _ demo: DemoFixture, _ coordination: PostgresConnection, yaml: String,
        isolation: isolated (any Actor)? = #isolation, _ body: (BusinessCentralAPIReference) async throws -> Void
    ) async throws {
        let file = try MappingFile.parse(yaml, file: "mappings-api.yaml")
        try await MappingStore.apply(file, prune: false, on: coordination)
        let environment = ["COUPLET_ENDPOINT_ERP_SECRET": secret, "COUPLET_ENDPOINT_CRM_SECRET": secret]
        let endpoints = EndpointDirectory(
            environment: environment,
            connectors: [BusinessCentralConnector(logger: Logger(label: "test")), DataverseConnector(logger: Logger(label: "test"))])
        try await body(BusinessCentralAPIReference(
            demo: demo, coordination: coordination,
            engine: SyncEngine(coordination: coordination, endpoints: endpoints, logger: Logger(label: "test")),
            file: file, endpoints: endpoints))
    }

    /// How many records of each side of `mapping` have an open error.
    func failedRecords(_ mapping: String) async throws -> (local: Int, integration: Int) {
        try await coordination.query(
            """
            SELECT count(DISTINCT local_id) FILTER (WHERE local_id IS NOT NULL AND integration_id IS NULL),
                   count(DISTINCT integration_id) FILTER (WHERE integration_id IS NOT NULL AND local_id IS NULL)
            FROM couplet.sync_errors WHERE mapping = \(mapping) AND closed_at IS NULL
            """).single().decode((Int, Int).self)
    }

    /// The single integer `sql` returns on `connection`.
    func count(_ connection: PostgresConnection, _ sql: PostgresQuery) async throws -> Int {
        try await demo.count(connection, sql)
    }
}

@Suite("The reference integration with both products behind their APIs: Business Central API v2.0 and Dataverse", .serialized)
struct BusinessCentralAPIReferenceTests {
    @Test("mappings-api.yaml parses, names the six mappings in dependency order, and passes the endpoint check against the emulators")
    func mappingsValidate() async throws {
        try await BusinessCentralAPIReference.with { reference in
            #expect(reference.file.mappings.map(\.name) == BusinessCentralAPIReference.mappings)
            #expect(reference.file.endpoints.map(\.kind) == ["business-central", "dataverse"])
            let problems = await MappingEndpointCheck(endpoints: reference.endpoints).problems(in: reference.file)
            #expect(!problems.contains { $0.severity == .error }, "\(problems.map(\.description))")
            let warned = Set(problems.map { $0.description.contains("paymentTermsId") || $0.description.contains("shipmentMethodId") })
            #expect(warned == [true], "only the value-mapped ids are warned of (uuid ↔ option value): \(problems.map(\.description))")
        }
    }

    @Test("docs/business-central.md lists every mapping of mappings-api.yaml, in order, with its entity set and every Business Central property it maps")
    func coverageDocumented() throws {
        let file = try MappingFile.parse(
            try String(contentsOfFile: deployFile("mappings-api.yaml"), encoding: .utf8), file: "mappings-api.yaml")
        #expect(file.mappings.map(\.name) == BusinessCentralAPIReference.mappings)
        let rows = try documentedMappingRows(section: "Both products behind their APIs")
        #expect(rows.map { $0.first ?? "" } == BusinessCentralAPIReference.mappings)
        for (row, mapping) in zip(rows, file.mappings) {
            let entitySet = mapping.mapping.local.table.description
            #expect(row.count == 3 && row[1].hasPrefix("\(entitySet) ↔ \(mapping.mapping.integration.table.description)"), "\(mapping.name): \(row)")
            var properties: [String] = []
            for field in mapping.mapping.fields where field.localField != "constant" && !properties.contains(field.localField) {
                properties.append(field.localField)
            }
            #expect(row.last == properties.joined(separator: ", "), "\(mapping.name)")
        }
    }

    @Test("the API-shaped demo ERP holds the Postgres demo's customers, contacts and items, with number series past the numbers taken")
    func seeded() async throws {
        try await DemoFixture.with(erp: .businessCentral) { api in
            try await DemoFixture.with { postgres in
                for (table, source) in [("customers", "customer"), ("contacts", "contact"), ("items", "item")] {
                    let apiNumbers = try await api.erp.query("SELECT number FROM \(try PostgresIdentifier(table)) ORDER BY 1")
                        .map { try $0.decode(String.self, at: 0) }
                    let numbers = try await postgres.erp.query("SELECT no FROM \(try PostgresIdentifier(source)) ORDER BY 1")
                        .map { try $0.decode(String.self, at: 0) }
                    #expect(apiNumbers == numbers && numbers.count > 30, "\(table)")
                }
                let next = try await api.erp.query("SELECT nextval('\"customerNumbers\"')").single().decode(Int.self, at: 0)
                #expect(try await api.count(api.erp, "SELECT count(*) FROM customers WHERE number = 'C' || \(next)") == 0)
                #expect(try await api.count(api.erp, "SELECT count(*) FROM customers WHERE blocked = 'All'")
                        == postgres.count(postgres.erp, "SELECT count(*) FROM customer WHERE blocked = 'all'"))
                #expect(try await api.count(api.crm, "SELECT count(*) FROM transactioncurrency")
                        == api.count(api.erp, "SELECT count(*) FROM currencies WHERE code <> 'EUR'") + 1, "the CRM holds every ERP currency and its base")
            }
        }
    }

    @Test("full syncs in dependency order through both APIs: both sides agree, only the demo's duplicate records fail, a second run writes nothing")
    func fullSyncs() async throws {
        try await BusinessCentralAPIReference.with { reference in
            let first = try await reference.fullSyncs()
            var failures: [String] = []
            for mapping in BusinessCentralAPIReference.mappings { failures += try await reference.errors(mapping).map { "\(mapping) \($0)" } }
            #expect(failures.allSatisfy { $0.contains("have the same match-field values") }, "\(failures)")
            try await expectCountsAgree(reference)
            try await expectCustomersEqual(reference)
            let second = try await reference.fullSyncs()
            for (mapping, counts) in second {
                #expect(counts.inserted + counts.modified == 0, "\(mapping) wrote again: \(counts)")
                #expect(counts.failed == first[mapping]?.failed, "\(mapping): \(counts.failed) failed, first \(first[mapping]?.failed ?? -1)")
            }
        }
    }

    /// Each mapping's couplings cover both sides' records in its filters, but for the records that failed.
    private func expectCountsAgree(_ reference: BusinessCentralAPIReference) async throws {
        let (erp, crm) = (reference.demo.erp, reference.demo.crm)
        let units = try await erp.query("SELECT code FROM \"unitsOfMeasure\"").map { try $0.decode(String.self, at: 0) }
        let sides: [(String, PostgresQuery, PostgresQuery)] = [
            ("CURRENCY", "SELECT count(*) FROM currencies", "SELECT count(*) FROM transactioncurrency WHERE isocurrencycode <> 'EUR'"),
            ("UNIT-OF-MEASURE", "SELECT count(*) FROM \"unitsOfMeasure\"", "SELECT count(*) FROM uomschedule WHERE name = ANY(\(units))"),
            ("CUSTOMER", "SELECT count(*) FROM customers WHERE blocked = ' '", "SELECT count(*) FROM account WHERE customertypecode = 3 AND statecode = 0"),
            ("CONTACT", "SELECT count(*) FROM contacts WHERE type = 'Person'", "SELECT count(*) FROM contact WHERE statecode = 0"),
            ("ITEM-PRODUCT", "SELECT count(*) FROM items WHERE type = 'Inventory' AND NOT blocked",
             "SELECT count(*) FROM product WHERE producttypecode = 1 AND statecode = 0"),
        ]
        for (mapping, local, integration) in sides {
            let coupled = try await reference.pairs(mapping).count
            let (localFailed, integrationFailed) = try await reference.failedRecords(mapping)
            let (erpCount, crmCount) = (try await reference.count(erp, local), try await reference.count(crm, integration))
            #expect(coupled == erpCount - localFailed && coupled == crmCount - integrationFailed && coupled > 0,
                    "\(mapping): \(coupled) coupled; ERP \(erpCount), \(localFailed) failed; CRM \(crmCount), \(integrationFailed) failed")
        }
        let users = try await crm.query(
            "SELECT lower(internalemailaddress) FROM systemuser WHERE NOT isdisabled AND islicensed AND NOT isintegrationuser"
        ).map { try $0.decode(String?.self, at: 0) }
        #expect(try await reference.pairs("SALESPEOPLE").count == reference.count(
            erp, "SELECT count(*) FROM \"salespersonPurchasers\" WHERE lower(email) = ANY(\(users.compactMap { $0 }))"),
                "every salesperson with a CRM user")
    }

    /// Every coupled customer's account holds its name, city and e-mail; a customer seeded in the ERP
    /// (its id derived from its number) also its number, credit limit, currency and payment terms. A
    /// customer made from an account keeps what the ERP gave it on insert (its number from the number
    /// series, the template's payment terms) to itself until it changes.
    private func expectCustomersEqual(_ reference: BusinessCentralAPIReference) async throws {
        let currencies = try await reference.pairs("CURRENCY")
        let terms = Dictionary(uniqueKeysWithValues: try await reference.coordination.query(
            "SELECT local_value, integration_value FROM couplet.value_map_pairs WHERE value_map = 'PAYMENT-TERMS'"
        ).map { try $0.decode((String, String).self) })
        let customers = try await keyedRows(
            """
            SELECT id::text, number, "displayName", city, lower(email), "creditLimit"::numeric(18,2)::text, "currencyId"::text,
                   "paymentTermsId"::text
            FROM customers
            """, on: reference.demo.erp)
        let accounts = try await keyedRows(
            """
            SELECT accountid::text, accountnumber, name, address1_city, emailaddress1, creditlimit::numeric(18,2)::text,
                   transactioncurrencyid::text, paymenttermscode::text
            FROM account
            """, on: reference.demo.crm)
        let seeded = Set(try await reference.demo.erp.query("SELECT id::text FROM customers WHERE id = md5('customers ' || number)::uuid")
            .map { try $0.decode(String.self, at: 0) })
        let pairs = try await reference.pairs("CUSTOMER")
        for (customer, account) in pairs {
            let (row, accountRow) = (try #require(customers[customer]), try #require(accounts[account]))
            if seeded.contains(customer) {
                let expected = Array(row.prefix(5)) + [row[5].flatMap { currencies[$0] }, row[6].flatMap { terms[$0] }]
                #expect(expected == accountRow, "customer \(row[0] ?? customer)")
            } else {
                #expect(row[1...3] == accountRow[1...3], "customer \(row[0] ?? customer) made from an account")
            }
        }
        #expect(pairs.count > 30 && pairs.keys.filter(seeded.contains).count > 30)
    }
}
