import Foundation
import Postgres
import YAMLFile
import Yams

/// The mappings file: the YAML a person keeps in version control and applies with
/// `couplet mappings apply`.
///
/// ```yaml
/// endpoints:
///   - name: erp            # connection string from COUPLET_ENDPOINT_ERP_URL, never in the file
///   - name: crm
///     description: Dynamics-like CRM
/// mappings:
///   - name: CUSTOMER
///     direction: bidirectional            # to_integration | from_integration | bidirectional
///     local:       {endpoint: erp, table: public.customer, key: no, modified: modified_at, filter: "blocked = false"}
///     integration: {endpoint: crm, table: account, key: id, modified: modified_at}
///     sync_only_coupled: false            # default true: deltas leave uncoupled records alone (full and records runs create them)
///     allow_insert: true                  # default true
///     update_conflict: get_from_integration   # fail (default) | send_to_integration | get_from_integration | merge
///     deletion_conflict: remove_coupling      # fail (default) | restore | remove_coupling | propagate
///     depends_on: [SALESPEOPLE]
///     batch_size: 1000                    # 1-100000, default 1000
///     enabled: true                       # default true
///     fields:
///       - {local: no, integration: account_number}
///       - {local: salesperson_code, integration: owner_id, direction: to_integration,
///          to_integration: "lookup(SALESPEOPLE)", not_null: true}
///       - {local: country_code, integration: country, to_integration: "trim | map(COUNTRIES)",
///          from_integration: "map(COUNTRIES)"}
/// value_maps:                             # optional
///   - name: COUNTRIES
///     values: {NO: Norway, SE: Sweden}    # local value: integration value, one-to-one
///     default_to_integration: null        # optional; absent: a value in no pair fails its record
///     default_from_integration: NO        # optional
/// ```
///
/// A field has `local` and `integration` (required), `direction` (default bidirectional),
/// `to_integration` and `from_integration` rules (`trim | uppercase`), `constant` (text or null),
/// `not_null`, `clear_on_failure` and `comparison` (text, numeric or date_time). Text values stay
/// text: `key: no` is the column `no`.
public enum MappingFile {
    /// Reads every endpoint, value map and mapping in `yaml`, the text of the file named `file`.
    ///
    /// `otherMappings` are the mappings that exist outside the file and stay (the stored ones
    /// that an apply without `--prune` keeps), each with what it depends on: `lookup(…)` rules and
    /// `depends_on` may name them, and a dependency cycle through them is a cycle. Likewise
    /// `map(…)` rules may name `otherValueMaps`.
    ///
    /// - Throws: `FileProblems` with every problem in the file, each at the line and column it
    ///   concerns: YAML syntax, unknown or missing keys, wrong types, invalid choices (listing the
    ///   valid ones), names and identifiers, rules and filters that do not parse,
    ///   duplicates, unknown endpoints, lookups, value maps and dependencies, dependency cycles,
    ///   value maps that are not one-to-one.
    public static func parse(
        _ yaml: String, file: String, otherMappings: [String: [String]] = [:], otherValueMaps: Set<String> = []
    ) throws(FileProblems) -> MappingFileDefinition {
        var reader = MappingFileReader(file: file)
        let definition = reader.read(yaml)
        let references = MappingReferences(
            file: definition, declared: reader.declaredMappings, others: otherMappings,
            declaredValueMaps: reader.declaredValueMaps, otherValueMaps: otherValueMaps)
        references.check(into: &reader.problems)
        if let error = reader.problems.error { throw error }
        return definition
    }
}

/// Walks the YAML tree of a mappings file, collecting definitions and located problems.
struct MappingFileReader {
    var problems: ProblemCollector
    /// Every mapping written in the file with a valid name, even when the rest of it is wrong.
    private(set) var declaredMappings: [DeclaredMapping] = []
    /// Every value map written in the file with a valid name, even when the rest of it is wrong.
    private(set) var declaredValueMaps: [(name: String, place: FilePlace)] = []

    init(file: String) {
        problems = ProblemCollector(file: file)
    }

    enum TopKey: String, CaseIterable {
        case endpoints, mappings
        case valueMaps = "value_maps"
    }

    mutating func read(_ yaml: String) -> MappingFileDefinition {
        let empty = MappingFileDefinition(file: problems.file, endpoints: [], mappings: [])
        let root = problems.compose(yaml)
        guard !problems.hasErrors else { return empty }
        guard let root, case .mapping(let top) = root else {
            problems.report(at: root, "expected a mapping with the keys endpoints and mappings, each a list")
            return empty
        }
        let nodes = problems.values(of: top, keys: TopKey.self)
        problems.require([TopKey.endpoints, .mappings], in: nodes, at: root, what: "the file")
        let endpoints = list(nodes[.endpoints], of: "endpoints").compactMap { endpoint(from: $0) }
        let valueMaps = list(nodes[.valueMaps], of: "value_maps").compactMap { valueMap(from: $0) }
        let mappings = list(nodes[.mappings], of: "mappings").compactMap { mapping(from: $0) }
        return MappingFileDefinition(file: problems.file, endpoints: endpoints, mappings: mappings, valueMaps: valueMaps)
    }

    /// The items of a top-level list.
    private mutating func list(_ node: Node?, of key: String) -> [Node] {
        guard let node else { return [] }
        guard case .sequence(let items) = node else {
            problems.report(at: node, "\(key) must be a list (write \(key): [] for none)")
            return []
        }
        return Array(items)
    }

    // MARK: - Endpoints

    enum EndpointKey: String, CaseIterable { case name, kind, description, url, tenant, environment, company, authority, client_id }

    private mutating func endpoint(from item: Node) -> EndpointDefinition? {
        guard case .mapping(let mapping) = item else {
            problems.report(at: item, "each endpoint must be a mapping with at least the key name")
            return nil
        }
        let nodes = problems.values(of: mapping, keys: EndpointKey.self)
        problems.require([EndpointKey.name], in: nodes, at: item, what: "endpoint")
        let name = problems.value(nodes[.name]) { try MappingFileRules.endpointName($0.text("name")) }
        let kind = problems.value(nodes[.kind]) { try MappingFileRules.endpointKind($0.text("kind")) }
        let description = problems.value(nodes[.description]) { try $0.text("description") }
        guard let name else { return nil }
        let kindName = kind ?? "postgres"
        let allowed = MappingFileRules.endpointKinds[kindName] ?? ([], [])
        var settings: [String: String] = [:]
        for key in EndpointKey.allCases where ![.name, .kind, .description].contains(key) {
            guard let node = nodes[key] else {
                if allowed.required.contains(key.rawValue) { problems.report(at: item, "a \(kindName) endpoint needs \(key.rawValue)") }
                continue
            }
            guard allowed.required.contains(key.rawValue) || allowed.optional.contains(key.rawValue) else {
                problems.report(at: node, "a \(kindName) endpoint has no setting \(key.rawValue)")
                continue
            }
            settings[key.rawValue] = problems.value(node) { try MappingFileRules.endpointSetting(key.rawValue, $0.text(key.rawValue)) }
        }
        return EndpointDefinition(name: name, kind: kindName, description: description, settings: settings, place: item.place)
    }

    // MARK: - Value maps

    private mutating func valueMap(from item: Node) -> ValueMap? {
        var reader = ValueMapReader(problems: problems)
        let valueMap = reader.read(item)
        problems = reader.problems
        declaredValueMaps += reader.declared
        return valueMap
    }

    // MARK: - Mappings

    private mutating func mapping(from item: Node) -> TableMappingDefinition? {
        guard case .mapping(let mapping) = item else {
            problems.report(at: item, "each mapping must be a mapping with the keys name, local, integration and fields")
            return nil
        }
        var reader = TableMappingReader(item: item, problems: problems)
        let definition = reader.read(mapping)
        problems = reader.problems
        if let declared = reader.declared { declaredMappings.append(declared) }
        return definition
    }
}
