import Foundation
import PostgresTestSupport
import Testing

@testable import Sync

/// COUNTRIES as docs/mappings.md declares it: no default to integration, NULL from integration.
let countries = ValueMap(
    name: "COUNTRIES",
    pairs: [ValuePair(local: "NO", integration: "Norway"), ValuePair(local: "SE", integration: "Sweden"),
            ValuePair(local: "DK", integration: "Denmark")],
    fromIntegrationDefault: .replace(with: nil))

/// `rules` parsed and bound to COUNTRIES for a pass in `direction`.
private func chain(_ rules: String, _ direction: SyncDirection, _ map: ValueMap = countries) throws -> TransformationChain {
    try TransformationChain(parsing: rules).binding([map.name: map], for: direction)
}

/// A file with the endpoints erp and crm, `valueMaps` under value_maps, and a CUSTOMER mapping whose country field has `rules` both ways.
func valueMapFile(_ valueMaps: String, to: String = "map(COUNTRIES)", from: String = "map(COUNTRIES)") -> String {
    """
    endpoints: [{name: erp}, {name: crm}]
    value_maps:
    \(valueMaps)
    mappings:
      - name: CUSTOMER
        local: {endpoint: erp, table: customer, key: no, modified: modified_at}
        integration: {endpoint: crm, table: account, key: id, modified: modified_at}
        fields:
          - {local: country_code, integration: country, to_integration: "\(to)", from_integration: "\(from)"}

    """
}

/// The value map example of docs/mappings.md: the yaml block after its marker `<!-- value-maps-example -->`.
func documentedValueMapExample() throws -> String {
    let block = try DocumentationPage.named("docs/mappings.md").codeBlocks.first { $0.marker == "value-maps-example" }
    return try #require(block, "docs/mappings.md marks its value map example").text + "\n"
}

@Suite("Value maps: the rule map(NAME), both directions, defaults and failures")
struct ValueMapRuleTests {
    @Test("map(NAME) parses alone and in a chain and reads back from its canonical text")
    func parses() throws {
        let parsed = try TransformationChain(parsing: "trim | map(COUNTRIES) | uppercase")
        #expect(parsed.rules == [.trim, .valueMap(name: "COUNTRIES"), .uppercase])
        #expect(parsed.description == "trim | map(\"COUNTRIES\") | uppercase")
        #expect(try TransformationChain(parsing: parsed.description) == parsed)
        #expect(parsed.referencedValueMaps == ["COUNTRIES"] && parsed.referencedMappings.isEmpty)
        #expect(throws: TransformationError.self) { try TransformationChain(parsing: "map()") }
    }

    @Test("to_integration maps local → integration; from_integration maps back; in chains; NULL passes")
    func bothDirections() throws {
        #expect(try chain("map(COUNTRIES)", .toIntegration).apply(to: "NO") == "Norway")
        #expect(try chain("map(COUNTRIES)", .fromIntegration).apply(to: "Norway") == "NO")
        #expect(try chain(" trim | uppercase | map(COUNTRIES)", .toIntegration).apply(to: "  se ") == "Sweden")
        #expect(try chain("map(COUNTRIES) | lowercase", .fromIntegration).apply(to: "Denmark") == "dk")
        #expect(try chain("map(COUNTRIES)", .toIntegration).apply(to: nil) == nil)
        for pair in countries.pairs {
            let there = try chain("map(COUNTRIES)", .toIntegration).apply(to: pair.local)
            #expect(try chain("map(COUNTRIES)", .fromIntegration).apply(to: there) == pair.local, "each direction inverts the other")
        }
    }

    @Test("a value in no pair: the direction's default (NULL or text), else a failure naming the map, the value and the fix")
    func unmappedValues() throws {
        #expect(try chain("map(COUNTRIES)", .fromIntegration).apply(to: "Finland") == nil, "default_from_integration: null")
        var withDefault = countries
        withDefault.toIntegrationDefault = .replace(with: "Other")
        #expect(try chain("map(COUNTRIES)", .toIntegration, withDefault).apply(to: "FI") == "Other")
        let error = try #require(throws: TransformationError.self) { try chain("trim | map(COUNTRIES)", .toIntegration).apply(to: "FI ") }
        #expect(error.code == .unmappedValue && error.value == "FI")
        #expect(error.message == "\"FI\" is no local value of value map COUNTRIES; add it to COUNTRIES under value_maps "
            + "in the mappings file, or give COUNTRIES a default_to_integration, and apply the file again")
    }

    @Test("an unbound map(NAME) (a chain not loaded from the store) refuses to guess")
    func unbound() throws {
        let error = try #require(throws: TransformationError.self) { try TransformationChain(parsing: "map(COUNTRIES)").apply(to: "NO") }
        #expect(error.code == .valueMapUnavailable)
        #expect(error.message.contains("needs value map COUNTRIES"))
    }
}

@Suite("Value maps in the mappings file: parsed, and every problem located")
struct ValueMapFileTests {
    @Test("the documented example parses: pairs in order, an absent default fails, null is NULL")
    func documentedExample() throws {
        let file = try MappingFile.parse(try documentedValueMapExample(), file: "docs/mappings.md")
        #expect(file.valueMaps == [countries])
        #expect(file.mappings.first?.mapping.fields.last?.toIntegration.description == "trim | uppercase | map(\"COUNTRIES\")")
    }

    @Test("text defaults and values stay as written: NO, 01 and yes are text")
    func textAsWritten() throws {
        let file = try MappingFile.parse(
            valueMapFile("  - {name: TERMS, values: {01: 'Net 30', yes: NO}, default_to_integration: 'Due on receipt', default_from_integration: 01}",
                         to: "map(TERMS)", from: "map(TERMS)"),
            file: "m.yaml")
        #expect(file.valueMaps == [ValueMap(
            name: "TERMS", pairs: [ValuePair(local: "01", integration: "Net 30"), ValuePair(local: "yes", integration: "NO")],
            toIntegrationDefault: .replace(with: "Due on receipt"), fromIntegrationDefault: .replace(with: "01"))])
    }

    @Test("a map that is not one-to-one is refused at the second pair, naming both local values")
    func ambiguous() {
        let problems = mappingFileProblems(valueMapFile("  - name: COUNTRIES\n    values: {NO: Norway, NOR: Norway}"))
        #expect(problems == [
            "4:31: COUNTRIES is not one-to-one: \"NO\" (line 4) and \"NOR\" both map to \"Norway\", so from_integration could not "
                + "tell which local value \"Norway\" stands for; give each local value its own integration value",
        ])
    }

    @Test("wrong names, non-text values, a local value twice, a duplicate name, a wrong shape: each at its place")
    func locatedProblems() {
        let problems = mappingFileProblems(valueMapFile(
            """
              - {name: COUNTRIES, values: {NO: Norway, SE: [Sweden], DK: null, "NO": Norge}}
              - {name: COUNTRIES, values: {XX: Y}, default_to_integration: {a: b}}
              - {name: "bad name", values: [NO, SE]}
              - {name: EMPTY, values: {}, colour: red}
              - [COUNTRIES]
            """))
        #expect(problems == [
            "3:48: the integration value of \"SE\" in COUNTRIES must be text",
            "3:62: the integration value of \"DK\" in COUNTRIES must be text",
            "3:68: local value \"NO\" is listed twice in COUNTRIES: first at line 3",
            "4:12: duplicate value map name \"COUNTRIES\": first defined at line 3",
            "4:64: default_to_integration must be text or null, not a mapping",
            "5:12: value map name \"bad name\" must be 1-63 letters, digits, '_' or '-'",
            "5:32: values of the value map must be a mapping of local values to integration values, such as {NO: Norway, SE: Sweden}",
            "6:27: values of EMPTY must be a mapping of local values to integration values, such as {NO: Norway, SE: Sweden}",
            "6:31: unknown key \"colour\"; expected one of name, values, default_to_integration, default_from_integration",
            "7:5: each value map must be a mapping with the keys name and values, such as {name: COUNTRIES, values: {NO: Norway}}",
        ])
    }

    @Test("map(X) naming no value map is refused at the name, unless X is stored")
    func unknownValueMap() throws {
        let yaml = valueMapFile("  - {name: COUNTRIES, values: {NO: Norway}}", to: "trim | map(CURRENCIES)")
        #expect(mappingFileProblems(yaml) == [
            "9:81: map(CURRENCIES) names no value map: CURRENCIES is neither under value_maps in this file nor stored",
        ])
        _ = try MappingFile.parse(yaml, file: "m.yaml", otherValueMaps: ["CURRENCIES"])
    }
}
