import Foundation
import Postgres
import PostgresTestSupport
import Testing
import YAMLFile

@testable import Sync

/// A mappings file for `SyncFixture`'s tables: CUSTOMER between the ERP's customer and the CRM's account.
func customerFile(
    local: String = "{endpoint: erp, table: customer, key: no, modified: modified_at, filter: \"city IS NOT NULL\"}",
    integration: String = "{endpoint: crm, table: account, key: id, modified: modified_at}",
    fields: [String] = [
        "{local: no, integration: account_number}", "{local: name, integration: name}",
        "{local: city, integration: city, to_integration: trim, from_integration: trim}", "{local: credit_limit, integration: credit_limit, comparison: numeric}",
    ]
) -> String {
    (["endpoints:", "  - name: erp", "  - name: crm", "mappings:", "  - name: CUSTOMER", "    local: \(local)",
      "    integration: \(integration)", "    fields:"] + fields.map { "      - \($0)" }).joined(separator: "\n") + "\n"
}

/// An ERP and a CRM database with `SyncFixture`'s tables, without a coordination database: what
/// checking a mappings file against its endpoints needs.
struct EndpointFixture {
    let erp: PostgresConnection
    let crm: PostgresConnection
    let endpoints: EndpointDirectory

    static func with(isolation: isolated (any Actor)? = #isolation, _ body: (EndpointFixture) async throws -> Void) async throws {
        try await SampleEndpoints.with { sample in
            try await body(EndpointFixture(erp: sample.erp, crm: sample.crm, endpoints: EndpointDirectory(environment: sample.environment)))
        }
    }

    /// The problems the endpoint check finds for `yaml` (which must parse), as `line:column: message`.
    func endpointProblems(_ yaml: String) async throws -> [String] {
        try await endpointProblems(MappingFile.parse(yaml, file: "m.yaml"))
    }

    /// The problems the endpoint check finds for `file`, as `line:column: message`.
    func endpointProblems(_ file: MappingFileDefinition) async throws -> [String] {
        await MappingEndpointCheck(endpoints: endpoints).problems(in: file).map { problem in
            "\(problem.line):\(problem.column): \(problem.severity == .warning ? "warning: " : "")\(problem.message)"
        }
    }
}

/// The warning every file on the fixture's tables gets: the ERP keeps credit limits as text.
let creditLimitWarning = "12:44: warning: mapping CUSTOMER, local column customer.credit_limit → integration column account.credit_limit "
    + "(to_integration): text values go into a column of type numeric(12,2): a value that is not a valid numeric fails its record"

@Suite("Mappings file: checked against the endpoints")
struct MappingEndpointCheckTests {
    @Test("a file that matches the tables passes, warning about text written to a numeric column")
    func goodFile() async throws {
        try await EndpointFixture.with { f in
            let problems = try await f.endpointProblems(customerFile())
            #expect(problems == [creditLimitWarning])
        }
    }

    @Test("deletion_conflict restore is warned about: it re-creates records a person deleted; the other policies are not")
    func restoreWarns() async throws {
        try await EndpointFixture.with { f in
            let file = customerFile().replacingOccurrences(of: "    fields:", with: "    deletion_conflict: restore\n    fields:")
            let problems = try await f.endpointProblems(file)
            let restoreWarning = "5:5: warning: " + MappingEndpointCheck.restoreWarning("CUSTOMER")
            let creditLimitLineDown = creditLimitWarning.replacingOccurrences(of: "12:44", with: "13:44")  // one line added above it
            #expect(problems == [restoreWarning, creditLimitLineDown])
            for policy in ["fail", "remove_coupling", "propagate"] {
                let other = customerFile().replacingOccurrences(of: "    fields:", with: "    deletion_conflict: \(policy)\n    fields:")
                let otherProblems = try await f.endpointProblems(other)
                #expect(otherProblems == [creditLimitLineDown], "\(policy)")
            }
        }
    }

    @Test("a field carried both ways with rules one way only is warned about at its rules, saying what to add; one-way fields and mappings are not")
    func oneWayRulesWarn() async throws {
        try await EndpointFixture.with { f in
            let oneWay = customerFile().replacingOccurrences(of: "to_integration: trim, from_integration: trim", with: "to_integration: uppercase")
            let problems = try await f.endpointProblems(oneWay)
            #expect(problems.first == "11:58: warning: mapping CUSTOMER: field city ↔ city travels both ways but has rules to_integration only (uppercase), so a value they change travels back unchanged. Add from_integration rules that give customer's form (the same rules when they normalise, like trim or uppercase), or make the field to_integration only (direction: to_integration)")
            #expect(problems.count == 2, "and the credit limit's: \(problems)")
            let oneWayField = oneWay.replacingOccurrences(of: "to_integration: uppercase", with: "to_integration: uppercase, direction: to_integration")
            #expect(try await f.endpointProblems(oneWayField) == [creditLimitWarning])
            let oneWayMapping = oneWay.replacingOccurrences(of: "    fields:", with: "    direction: to_integration\n    fields:")
            #expect(try await f.endpointProblems(oneWayMapping).count == 1, "only the credit limit's")
        }
    }

    @Test("a missing table is reported at the table, naming mapping, side and endpoint")
    func missingTable() async throws {
        try await EndpointFixture.with { f in
            let yaml = customerFile(local: "{endpoint: erp, table: customers, key: no, modified: modified_at}")
            let problems = try await f.endpointProblems(yaml)
            #expect(problems == [
                "6:35: mapping CUSTOMER, local side (erp customers): table customers does not exist (or is not on the search_path)",
            ])
        }
    }

    @Test("missing columns are reported where the file names them, listing the table's columns")
    func missingColumns() async throws {
        try await EndpointFixture.with { f in
            let yaml = customerFile(
                local: "{endpoint: erp, table: customer, key: number, modified: modified_at}",
                fields: ["{local: no, integration: account_number}", "{local: phone, integration: telephone}"])
            let problems = try await f.endpointProblems(yaml)
            #expect(problems == [
                "6:50: mapping CUSTOMER, local side (erp customer), column number: no such column "
                    + "(customer has no, name, city, credit_limit, salesperson_code, modified_at)",
                "10:17: mapping CUSTOMER, local side (erp customer), column phone: no such column "
                    + "(customer has no, name, city, credit_limit, salesperson_code, modified_at)",
                "10:37: mapping CUSTOMER, integration side (crm account), column telephone: no such column "
                    + "(account has id, account_number, name, city, credit_limit, owner_id, modified_at)",
            ])
        }
    }

    @Test("a constant needs no source column, but the column it writes must exist")
    func constants() async throws {
        try await EndpointFixture.with { f in
            let yaml = customerFile(fields: ["{local: no, integration: account_number}", "{local: anything, integration: city, direction: to_integration, constant: Oslo}"])
            let problems = try await f.endpointProblems(yaml)
            #expect(problems == [])
        }
    }

    @Test("paired columns that cannot hold each other's values are errors, both ways")
    func typeMismatch() async throws {
        try await EndpointFixture.with { f in
            try await f.erp.runScript("ALTER TABLE customer ADD blocked boolean", name: "blocked")
            try await f.crm.runScript("ALTER TABLE account ADD opened_on date", name: "opened_on")
            let yaml = customerFile(fields: ["{local: no, integration: account_number}", "{local: blocked, integration: opened_on}"])
            let problems = try await f.endpointProblems(yaml)
            #expect(problems == [
                "10:17: mapping CUSTOMER, integration column account.opened_on → local column customer.blocked (from_integration): "
                    + "date values cannot be written to a column of type boolean",
                "10:39: mapping CUSTOMER, local column customer.blocked → integration column account.opened_on (to_integration): "
                    + "boolean values cannot be written to a column of type date",
            ])
        }
    }

    @Test("a lookup writes the referenced mapping's key, so its source column's type is not compared with the target's")
    func lookupNotTypeChecked() async throws {
        try await EndpointFixture.with { f in
            try await f.crm.runScript("ALTER TABLE account ADD opened_on date", name: "opened_on")
            try await f.erp.runScript("ALTER TABLE customer ADD bill_to text", name: "bill_to")
            let lookup = customerFile(fields: [
                "{local: no, integration: account_number}",
                "{local: bill_to, integration: opened_on, direction: to_integration, to_integration: \"lookup(CUSTOMER)\"}",
            ])
            #expect(try await f.endpointProblems(lookup) == [])
            let plain = customerFile(fields: ["{local: no, integration: account_number}", "{local: bill_to, integration: opened_on, direction: to_integration}"])
            #expect(try await f.endpointProblems(plain).count == 1, "without the lookup, text into date is doubtful")
        }
    }

    @Test("the modified-on column must be a timestamp")
    func modifiedOn() async throws {
        try await EndpointFixture.with { f in
            let yaml = customerFile(integration: "{endpoint: crm, table: account, key: id, modified: name}")
            let problems = try await f.endpointProblems(yaml)
            #expect(problems == [
                "7:69: mapping CUSTOMER, integration side (crm account), column name: the modified-on column must be a timestamp (timestamptz), not text",
                creditLimitWarning,
            ])
        }
    }

    @Test("a filter that does not fit the table is refused with the server's reason; its values are bound, not spliced")
    func filterThatDoesNotFit() async throws {
        try await EndpointFixture.with { f in
            for (filter, reason) in [
                ("name", "argument of WHERE must be type boolean, not type text"),
                ("colour = 'red'", "column \"colour\" does not exist"),
                ("modified_at > 'soon'", "invalid input syntax for type timestamp with time zone: \"soon\""),
            ] {
                let yaml = customerFile(local: "{endpoint: erp, table: customer, key: no, modified: modified_at, filter: \"\(filter)\"}")
                let problems = try await f.endpointProblems(yaml)
                #expect(problems == [
                    "6:85: mapping CUSTOMER, local side (erp customer): the filter does not fit the table: \(reason)",
                    creditLimitWarning,
                ])
            }
        }
    }

    @Test("an endpoint without a connection string is reported at its declaration, once")
    func missingEndpoint() async throws {
        let check = MappingEndpointCheck(endpoints: EndpointDirectory(environment: [:]))
        let problems = await check.problems(in: try MappingFile.parse(customerFile(), file: "m.yaml"))
        #expect(problems.map(\.description) == [
            "m.yaml:2:5: endpoint erp has no connection string: set COUPLET_ENDPOINT_ERP_URL or COUPLET_ENDPOINT_ERP_URL_FILE",
            "m.yaml:3:5: endpoint crm has no connection string: set COUPLET_ENDPOINT_CRM_URL or COUPLET_ENDPOINT_CRM_URL_FILE",
        ])
    }
}

@Suite("Mappings file: what the sync role may do")
struct MappingPrivilegeTests {
    private func findings(direction: String, allowInsert: Bool, local: CatalogTable, integration: CatalogTable) throws -> [String] {
        let yaml = oneMapping(direction: direction, "allow_insert: \(allowInsert)")
        let mapping = try MappingFile.parse(yaml, file: "m.yaml").mappings[0]
        return MappingCatalogCheck(definition: mapping, tables: [.local: local, .integration: integration]).findings().map(\.message)
    }

    private func table(kind: String = "r", select: Bool = true, insert: Bool = true, update: Bool = true) -> CatalogTable {
        let columns = ["no", "id", "account_number", "modified_at"].map {
            CatalogColumn(name: $0, type: $0 == "modified_at" ? "timestamp with time zone" : "text",
                          baseType: $0 == "modified_at" ? "timestamp with time zone" : "text", category: TypeCategory(code: $0 == "modified_at" ? "D" : "S"))
        }
        return CatalogTable(kind: kind, columns: columns, canSelect: select, canInsert: insert, canUpdate: update)
    }

    @Test("a side that is written needs UPDATE, and INSERT when inserts are allowed")
    func writes() throws {
        #expect(try findings(direction: "to_integration", allowInsert: true, local: table(insert: false, update: false), integration: table(insert: false)) == [
            "mapping CUSTOMER, integration side (crm account): the sync role may not INSERT into it, and allow_insert is true (set it to false, or grant INSERT)",
        ])
        #expect(try findings(direction: "to_integration", allowInsert: false, local: table(), integration: table(insert: false)) == [])
        #expect(try findings(direction: "bidirectional", allowInsert: false, local: table(update: false), integration: table(select: false)) == [
            "mapping CUSTOMER, local side (erp customer): the sync role may not UPDATE it, and a from_integration pass writes this side",
            "mapping CUSTOMER, integration side (crm account): the sync role may not SELECT from it",
        ])
    }

    @Test("a materialized view can be read, not written; a sequence is no table")
    func kinds() throws {
        #expect(try findings(direction: "to_integration", allowInsert: false, local: table(kind: "m"), integration: table()) == [])
        #expect(try findings(direction: "from_integration", allowInsert: false, local: table(kind: "m"), integration: table(kind: "S")) == [
            "mapping CUSTOMER, local side (erp customer): a materialized view cannot be written, and a from_integration pass writes this side",
            "mapping CUSTOMER, integration side (crm account): account is a sequence, not a table or view",
        ])
    }
}
