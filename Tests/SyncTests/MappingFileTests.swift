import Foundation
import Testing
import YAMLFile

@testable import Sync

@Suite("Mappings file: reading")
struct MappingFileReadingTests {
    @Test("a good file reads into endpoints and mappings, with the schema's defaults for absent keys")
    func goodFile() throws {
        let file = try MappingFile.parse(goodMappingsFile, file: "mappings.yaml")
        #expect(file.endpoints.map(\.name) == ["erp", "crm"])
        #expect(file.endpoints[1].description == "the CRM")
        #expect(file.endpoints[0].place == FilePlace(line: 2, column: 5))
        #expect(file.mappings.map(\.name) == ["SALESPEOPLE", "CUSTOMER"])

        let salespeople = file.mappings[0]
        #expect(salespeople.mapping.settings.direction == .fromIntegration)
        #expect(salespeople.mapping.settings.syncOnlyCoupled == true, "the default, as in Business Central")
        #expect(salespeople.mapping.settings.allowInsert == true)
        #expect(salespeople.mapping.settings.updateConflictPolicy == .fail)
        #expect(salespeople.mapping.batchSize == 1000)
        #expect(salespeople.isEnabled && salespeople.dependsOn.isEmpty)
        #expect(salespeople.mapping.integration.filter?.text == "active")

        let customer = file.mappings[1].mapping
        #expect(customer.local.table.parts == ["public", "customer"])
        #expect(customer.local.key.description == "no", "a plain no stays the column no")
        #expect(customer.local.filter?.text == "blocked = false")
        #expect(customer.settings.updateConflictPolicy == .getFromIntegration)
        #expect(customer.settings.deletionConflictPolicy == .removeCoupling)
        #expect(customer.batchSize == 500)
        #expect(file.mappings[1].dependsOn == ["SALESPEOPLE"])
        #expect(customer.fields.count == 5)
        #expect(customer.fields[1].toIntegration.description == "trim")
        #expect(customer.fields[2].direction == .toIntegration && customer.fields[2].notNull)
        #expect(customer.fields[2].toIntegration.referencedMappings == ["SALESPEOPLE"])
        #expect(customer.fields[3].comparison == .numeric && customer.fields[3].clearOnFailure && customer.fields[3].constant == nil)
        #expect(customer.fields[4].constant == "NO", "a constant is text as written")
        #expect(customer.fields[4].fromIntegration.description == "trim | uppercase")
    }

    @Test("the parts of a mapping remember their places")
    func places() throws {
        let customer = try MappingFile.parse(goodMappingsFile, file: "m.yaml").mappings[1]
        #expect(customer.place(of: .name) == FilePlace(line: 13, column: 11))
        #expect(customer.place(of: .table(.local)) == FilePlace(line: 15, column: 41))
        #expect(customer.place(of: .column(field: 2, side: .local)) == FilePlace(line: 27, column: 17))
        #expect(customer.place(of: .modified(.integration)) == FilePlace(line: 16, column: 69))
        #expect(customer.place(of: .filter(.integration)) == customer.place(of: .side(.integration)), "an absent part falls back to its side")
    }

    @Test("lookups and dependencies may name stored mappings outside the file")
    func storedMappings() throws {
        let yaml = oneMapping(fields: ["{local: owner, integration: owner_id, to_integration: \"lookup(SALESPEOPLE)\"}"], "depends_on: [CURRENCY]")
        #expect(!mappingFileProblems(yaml).isEmpty)
        #expect(mappingFileProblems(yaml, others: ["SALESPEOPLE": [], "CURRENCY": []]).isEmpty)
    }
}

@Suite("Mappings file: every problem at its line and column")
struct MappingFileProblemTests {
    @Test("an unknown key lists the known ones")
    func unknownKey() {
        #expect(mappingFileProblems(oneMapping("colour: red")) == [
            "9:5: unknown key \"colour\"; expected one of name, direction, local, integration, sync_only_coupled, allow_insert, "
                + "update_conflict, deletion_conflict, depends_on, batch_size, enabled, fields",
        ])
    }

    @Test("missing keys are reported at the mapping or side that lacks them")
    func missingKeys() {
        let noFields = oneMapping().replacingOccurrences(of: "    fields:\n      - {local: no, integration: account_number}\n", with: "")
        #expect(mappingFileProblems(noFields) == ["5:5: mapping is missing the required key fields"])
        let noModified = oneMapping().replacingOccurrences(of: "key: no, modified: modified_at}", with: "key: no}")
        #expect(mappingFileProblems(noModified) == ["7:12: the local side is missing the required key modified"])
        #expect(mappingFileProblems("mappings: []\n") == ["1:1: the file is missing the required key endpoints"])
    }

    @Test("wrong types say what was expected", arguments: [
        ("batch_size: many", "9:17: batch_size must be a whole number, not \"many\""),
        ("allow_insert: sometimes", "9:19: allow_insert must be true or false, not \"sometimes\""),
        ("depends_on: SALESPEOPLE", "9:17: depends_on must be a list of mapping names, such as [SALESPEOPLE, CURRENCY]"),
        ("batch_size: 0", "9:17: batch_size 0 is out of range 1-100000"),
    ])
    func wrongTypes(line: String, problem: String) {
        #expect(mappingFileProblems(oneMapping(line)) == [problem])
    }

    @Test("an invalid choice lists the valid ones")
    func invalidChoices() {
        #expect(mappingFileProblems(oneMapping(direction: "sideways")) == [
            "6:16: direction must be one of to_integration, from_integration, bidirectional, not \"sideways\"",
        ])
        #expect(mappingFileProblems(oneMapping("deletion_conflict: delete")) == [
            "9:24: deletion_conflict must be one of fail, restore, remove_coupling, propagate, not \"delete\"",
        ])
        #expect(mappingFileProblems(oneMapping(fields: ["{local: no, integration: n, comparison: number}"])) == [
            "10:49: comparison must be one of text, numeric, date_time, not \"number\"",
        ])
    }

    @Test("a rule that does not parse is reported at the character at fault, with the parser's message")
    func ruleSyntax() throws {
        let problems = mappingFileProblems(oneMapping(fields: ["{local: no, integration: account_number, to_integration: \"trim | upper\"}"]))
        #expect(problems.count == 1)
        #expect(try #require(problems.first).hasPrefix("10:74: to_integration: unknown rule \"upper\"; known rules: uppercase"))
        #expect(try #require(problems.first).hasSuffix("(at character 8)"))
    }

    @Test("a lookup naming no mapping points at the name")
    func unknownLookup() {
        #expect(mappingFileProblems(oneMapping(fields: ["{local: no, integration: account_number, to_integration: \"lookup(NOPE)\"}"])) == [
            "10:74: lookup(NOPE) names no mapping: NOPE is neither in this file nor stored",
        ])
    }

    @Test("a dependency naming no mapping points at the item")
    func unknownDependency() {
        #expect(mappingFileProblems(oneMapping("depends_on: [SALESPEOPLE]")) == [
            "9:18: depends_on names \"SALESPEOPLE\", which is neither in this file nor stored",
        ])
    }

    @Test("a dependency cycle is named once, at the dependency that starts it")
    func cycles() {
        let two = oneMapping("depends_on: [CONTACT]") + """
              - name: CONTACT
                local: {endpoint: erp, table: contact, key: no, modified: modified_at}
                integration: {endpoint: crm, table: contact, key: id, modified: modified_at}
                depends_on: [CUSTOMER]
                fields: [{local: no, integration: number}]

            """
        #expect(mappingFileProblems(two) == [
            "9:18: dependency cycle: CUSTOMER → CONTACT → CUSTOMER; a mapping runs only after the ones it depends on",
        ])
        #expect(mappingFileProblems(oneMapping("depends_on: [CUSTOMER]")) == [
            "9:18: dependency cycle: CUSTOMER → CUSTOMER; a mapping runs only after the ones it depends on",
        ])
        #expect(mappingFileProblems(oneMapping("depends_on: [CONTACT]"), others: ["CONTACT": ["VENDOR"], "VENDOR": ["CUSTOMER"]]) == [
            "9:18: dependency cycle: CUSTOMER → CONTACT → VENDOR → CUSTOMER; a mapping runs only after the ones it depends on",
        ])
    }

    @Test("names and identifiers follow the schema's and PostgreSQL's rules")
    func identifiers() {
        let long = String(repeating: "A", count: 64)
        #expect(mappingFileProblems(oneMapping(name: long)) == ["5:11: mapping name \"\(long)\" must be 1-63 letters, digits, '_' or '-'"])
        #expect(mappingFileProblems(oneMapping(name: "MY MAPPING")) == ["5:11: mapping name \"MY MAPPING\" must be 1-63 letters, digits, '_' or '-'"])
        let accents = String(repeating: "é", count: 32)
        #expect(mappingFileProblems(oneMapping(fields: ["{local: \(accents), integration: a}"])) == [
            "10:17: local column \"éééééééééééééééééééé…\" is longer than PostgreSQL's 63-byte limit",
        ], "32 characters are 64 bytes")
        #expect(mappingFileProblems(oneMapping(fields: ["{local: \"a\\0b\", integration: a}"])) == [
            "10:17: local column must not contain a NUL character",
        ])
        #expect(mappingFileProblems(oneMapping().replacingOccurrences(of: "table: customer", with: "table: a.b.c")) == [
            "7:35: table \"a.b.c\" has more than one dot",
        ])
        let endpoints = oneMapping().replacingOccurrences(of: "  - name: crm\n", with: "  - name: crm\n  - name: 2nd\n")
        #expect(mappingFileProblems(endpoints) == [
            "4:11: endpoint name \"2nd\" must start with a letter and be 1-63 letters, digits or '_' (it names the variable COUPLET_ENDPOINT_<NAME>_URL)",
        ])
    }

    @Test("names used twice, and endpoints that read the same variable")
    func duplicates() {
        let twice = oneMapping() + oneMapping().components(separatedBy: "mappings:\n")[1]
        #expect(mappingFileProblems(twice) == ["11:11: duplicate mapping name \"CUSTOMER\": first defined at line 5"])
        let endpoints = oneMapping().replacingOccurrences(of: "  - name: crm\n", with: "  - name: crm\n  - name: ERP\n")
        #expect(mappingFileProblems(endpoints) == [
            "4:5: endpoints \"erp\" (line 2) and \"ERP\" would both read COUPLET_ENDPOINT_ERP_URL",
        ])
    }

    @Test("a side naming an endpoint the file does not declare")
    func undeclaredEndpoint() {
        #expect(mappingFileProblems(oneMapping().replacingOccurrences(of: "endpoint: crm", with: "endpoint: crn")) == [
            "8:29: endpoint \"crn\" is not declared under endpoints (declared: erp, crm)",
        ])
    }

    @Test("a filter outside the grammar is refused at the character at fault", arguments: [
        ("blocked = false; DROP TABLE customer", "7:101: filter: ';' ends a statement: a filter is one predicate, never a second statement"),
        ("true) OR (true", "7:90: filter: expected AND, OR or the end of the filter, found ')'"),
        ("name = 'it''s", "7:93: filter: the text that starts here is never closed"),
        ("   ", "7:86: filter: a filter must not be empty: leave the key out to synchronize every record"),
    ])
    func filters(filter: String, problem: String) {
        let yaml = oneMapping().replacingOccurrences(of: "modified: modified_at}\n    integration", with: "modified: modified_at, filter: \"\(filter)\"}\n    integration")
        #expect(mappingFileProblems(yaml) == [problem])
    }

    @Test("fields that never run, and target columns written twice")
    func fieldChecks() {
        #expect(mappingFileProblems(oneMapping(direction: "to_integration", fields: ["{local: no, integration: n, direction: from_integration}"])) == [
            "10:48: a from_integration field never runs in a to_integration mapping",
        ])
        #expect(mappingFileProblems(oneMapping(fields: ["{local: no, integration: n}", "{local: name, integration: n, direction: to_integration}"])) == [
            "11:36: integration column n is also written by the field at line 10 (to_integration); a column takes one value",
        ])
    }

    @Test("YAML that does not parse")
    func yamlSyntax() {
        #expect(mappingFileProblems("endpoints: [\nmappings: []\n") == [
            "3:1: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence)",
        ])
        #expect(mappingFileProblems("endpoints: []\nendpoints: []\nmappings: []\n").first?.contains("appears more than once") == true)
    }

    @Test("several problems at once, in file order")
    func several() {
        let yaml = oneMapping(
            direction: "sideways", fields: ["{local: no, integration: account_number, to_integration: \"lookup(NOPE)\"}"], "colour: red"
        ).replacingOccurrences(of: "endpoint: crm", with: "endpoint: crn")
        #expect(mappingFileProblems(yaml) == [
            "6:16: direction must be one of to_integration, from_integration, bidirectional, not \"sideways\"",
            "8:29: endpoint \"crn\" is not declared under endpoints (declared: erp, crm)",
            "9:5: unknown key \"colour\"; expected one of name, direction, local, integration, sync_only_coupled, allow_insert, "
                + "update_conflict, deletion_conflict, depends_on, batch_size, enabled, fields",
            "11:74: lookup(NOPE) names no mapping: NOPE is neither in this file nor stored",
        ])
    }

    @Test("anchors are refused before anything is composed: a key that is an alias of nested aliases cannot hang the reader")
    func aliasKeys() {
        let levels = (1...9).map { level in
            "  l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ", ") + "]"
        }
        let yaml = oneMapping() + (["bomb:", "  l0: &l0 lol"] + levels + ["  ? *l9", "  : 1"]).joined(separator: "\n") + "\n"
        let started = ContinuousClock.now
        let problems = mappingFileProblems(yaml)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(problems.count == 10)
        #expect(problems.first == "12:7: anchor &l0: anchors and aliases are not supported; write the value out wherever *l0 refers to it")
    }

    @Test("problems print like compiler diagnostics")
    func printing() {
        #expect(throws: FileProblems.self) { try MappingFile.parse(oneMapping("colour: red"), file: "deploy/mappings.yaml") }
        do {
            _ = try MappingFile.parse(oneMapping("colour: red"), file: "deploy/mappings.yaml")
        } catch {
            #expect(error.description.hasPrefix("deploy/mappings.yaml:9:5: unknown key \"colour\""))
        }
    }
}
