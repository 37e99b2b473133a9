import Foundation
import Sync
import Testing
@testable import ODataConnector

/// Values and filters between Couplet's terms and Dataverse's, checked without a service.
@Suite struct DataverseTranslationTests {
    private let account = DataverseEntity(
        logicalName: "account", entitySet: "accounts", primaryID: "accountid",
        attributes: [
            "accountid": .guid, "name": .text, "creditlimit": .decimal, "statecode": .integer, "donotemail": .boolean,
            "modifiedon": .dateTime, "ownerid": .lookup(targets: ["systemuser", "team"]), "owneridtype": .text,
            "parentaccountid": .lookup(targets: ["account"]),
        ])

    @Test("instants read in PostgreSQL's UTC text, whichever form the service writes, and go back as ISO 8601")
    func instants() throws {
        #expect(ODataValues.text(.string("2026-12-07T10:00:00Z"), kind: .dateTime) == "2026-12-07 10:00:00+00")
        #expect(ODataValues.text(.string("2026-12-07T10:00:00.25Z"), kind: .dateTime) == "2026-12-07 10:00:00.25+00")
        #expect(ODataValues.instant("2026-12-07 11:30:00+01:30") == ODataValues.instant("2026-12-07T10:00:00Z"))
        #expect(ODataValues.instant("2026-12-07 10:00:00.123456+00") != nil)
        #expect(try ODataValues.json("2026-12-07 10:00:00.5+00", kind: .dateTime).get() == .string("2026-12-07T10:00:00.5Z"))
        #expect(ODataValues.instant("yesterday") == nil)
        #expect(try ODataValues.json("2015-01-31", kind: .dateTime).get() == .string("2015-01-31"), "a DateOnly value stays a day")
        #expect(ODataValues.text(.string("2015-01-31"), kind: .dateTime) == "2015-01-31")
    }

    @Test("a value travels unchanged or fails its record, never rounded or guessed")
    func valuesTravelUnchanged() throws {
        #expect(try ODataValues.json("1234.5600", kind: .decimal).get() == .number("1234.5600"))
        #expect(ODataValues.text(.number("1234.5600"), kind: .decimal) == "1234.5600")
        #expect(try ODataValues.json("-7", kind: .integer).get() == .number("-7"))
        for (text, kind) in [("12.5", ODataValueKind.integer), ("1e3", .decimal), ("lots", .decimal), ("yes", .boolean), ("C10000", .guid)] {
            guard case .failure = ODataValues.json(text, kind: kind) else { Issue.record("\(text) as \(kind) should be refused"); continue }
        }
        #expect(try ODataValues.json("t", kind: .boolean).get() == .bool(true))
        #expect(try ODataValues.json(nil, kind: .integer).get() == .null)
        #expect(ODataValues.text(.bool(false), kind: .boolean) == "false")
        #expect(ODataValues.text(.string("ABCDEF00-0000-0000-0000-000000000001"), kind: .guid) == "abcdef00-0000-0000-0000-000000000001")
    }

    @Test("the key of a record Couplet creates is one GUID per source token, the same on every attempt")
    func derivedKeys() {
        let first = ODataValues.guid(for: "CUSTOMER/to_integration/C10000")
        #expect(first == ODataValues.guid(for: "CUSTOMER/to_integration/C10000"))
        #expect(first != ODataValues.guid(for: "CUSTOMER/to_integration/C10001"))
        #expect(UUID(uuidString: first) != nil)
        #expect(first == first.lowercased())
    }

    @Test("filters compile to $filter with literals in their column's type and quotes doubled")
    func filters() throws {
        let compile = { (text: String) throws -> String in
            try account.filterCompiler.compile(RecordFilter(parsing: text).condition)
        }
        #expect(try compile("statecode = 0 AND NOT donotemail") == "((statecode eq 0) and not ((donotemail eq true)))")
        #expect(try compile("name = 'O''Brien'") == "(name eq 'O''Brien')")
        #expect(try compile("name ILIKE 'Contoso%'") == "startswith(name,'Contoso')")
        #expect(try compile("name NOT ILIKE '%Ltd%'") == "not contains(name,'Ltd')")
        #expect(try compile("creditlimit BETWEEN 100 AND 200.50") == "(creditlimit ge 100 and creditlimit le 200.50)")
        #expect(try compile("statecode IN (0, 1)") == "(statecode eq 0 or statecode eq 1)")
        #expect(try compile("ownerid IS NOT NULL") == "(_ownerid_value ne null)")
        #expect(try compile("parentaccountid = 'ABCDEF00-0000-0000-0000-000000000001'")
            == "(_parentaccountid_value eq abcdef00-0000-0000-0000-000000000001)")
        #expect(try compile("modifiedon > '2026-12-01 00:00:00+00'") == "(modifiedon gt 2026-12-01T00:00:00Z)")
    }

    @Test("what Dataverse cannot mean as PostgreSQL does is refused with the reason, not approximated")
    func unsupportedFilters() throws {
        for text in ["name LIKE 'A%'", "name ILIKE 'A_c%'", "name ILIKE 'a%b%'", "statecode IN (SELECT value FROM states)",
                     "statecode = 'zero'", "nosuchcolumn = 1", "owneridtype = 'team'"] {
            #expect(throws: (any Error).self, "\(text)") { try account.filterCompiler.compile(RecordFilter(parsing: text).condition) }
        }
    }

    @Test("a lookup's type column is set through its binding; the lookup reads as _name_value")
    func lookups() {
        #expect(account.lookupTyped(by: "owneridtype") == "ownerid")
        #expect(account.lookupTyped(by: "parentaccountidtype") == nil)
        #expect(account.readProperty("ownerid") == "_ownerid_value")
        #expect(account.readProperty("name") == "name")
    }
}
