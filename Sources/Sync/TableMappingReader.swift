import Postgres
import YAMLFile
import Yams

/// Reads one item of a mappings file's `mappings:` list into a `TableMappingDefinition`,
/// reporting every problem and noting where each part was written.
struct TableMappingReader {
    enum Key: String, CaseIterable {
        case name, direction, local, integration
        case syncOnlyCoupled = "sync_only_coupled", allowInsert = "allow_insert"
        case updateConflict = "update_conflict", deletionConflict = "deletion_conflict"
        case dependsOn = "depends_on", batchSize = "batch_size", enabled, fields
    }

    enum SideKey: String, CaseIterable {
        case endpoint, table, key, modified, filter, template
        case modifiedBy = "modified_by"
    }

    enum FieldKey: String, CaseIterable {
        case local, integration, direction
        case toIntegration = "to_integration", fromIntegration = "from_integration"
        case constant, notNull = "not_null", clearOnFailure = "clear_on_failure", comparison
        case matchPriority = "match_priority", matchCaseSensitive = "match_case_sensitive"
    }

    let item: Node
    var problems: ProblemCollector
    /// The mapping's name, when it is valid.
    private(set) var name: String?
    /// Where the name is written, when there is a name.
    private var namePlace: FilePlace?
    /// What the mapping depends on, with where each is written.
    private var dependencies: [(name: String, place: FilePlace)] = []
    private var places: [MappingPart: FilePlace] = [:]
    /// The match settings of the fields that have a match priority, by field position.
    private var matching: [Int: (priority: Int, caseSensitive: Bool)] = [:]

    init(item: Node, problems: ProblemCollector) {
        self.item = item
        self.problems = problems
        places[.mapping] = item.place
    }

    /// The definition, or nil when a required part is missing or wrong (every problem is reported).
    mutating func read(_ mapping: Node.Mapping) -> TableMappingDefinition? {
        let nodes = problems.values(of: mapping, keys: Key.self)
        problems.require([Key.name, .local, .integration, .fields], in: nodes, at: item, what: "mapping")
        namePlace = nodes[.name]?.place
        name = value(nodes[.name], at: .name) { try MappingFileRules.mappingName($0.text("name")) }
        let direction = value(nodes[.direction]) { try $0.choice("direction", MappingDirection.self) } ?? .bidirectional
        let local = nodes[.local].flatMap { side(.local, $0) }
        let integration = nodes[.integration].flatMap { side(.integration, $0) }
        let fields = nodes[.fields].flatMap { fieldList($0, direction: direction) }
        dependencies = nodes[.dependsOn].flatMap { readDependencies($0) } ?? []
        let policies = readPolicies(nodes)
        let batchSize = value(nodes[.batchSize]) { try MappingFileRules.batchSize($0.integer("batch_size")) } ?? 1000
        let enabled = value(nodes[.enabled]) { try $0.boolean("enabled") } ?? true
        guard let name, let local, let integration, let fields else { return nil }
        let settings = MappingSettings(
            name: name, localTable: local.table.description, integrationTable: integration.table.description,
            direction: direction, syncOnlyCoupled: policies.syncOnlyCoupled, allowInsert: policies.allowInsert,
            updateConflictPolicy: policies.update, deletionConflictPolicy: policies.deletion)
        let matchFields = matching.sorted { $0.key < $1.key }.map { index, match in
            MatchField(field: fields[index], priority: match.priority, caseSensitive: match.caseSensitive)
        }
        let definition = MappingDefinition(
            settings: settings.matching(!matchFields.isEmpty), fields: fields, local: local, integration: integration,
            batchSize: batchSize, matchFields: matchFields.sorted { $0.priority < $1.priority })
        return TableMappingDefinition(mapping: definition, dependsOn: dependencies.map(\.name), isEnabled: enabled, places: places)
    }

    /// What to do with uncoupled records and conflicts, with the schema's defaults for absent keys
    /// (`sync_only_coupled: true` as in Business Central, `allow_insert: true`, conflicts `fail`).
    private mutating func readPolicies(_ nodes: [Key: Node]) -> (
        syncOnlyCoupled: Bool, allowInsert: Bool, update: UpdateConflictPolicy, deletion: DeletionConflictPolicy
    ) {
        let syncOnlyCoupled = value(nodes[.syncOnlyCoupled]) { try $0.boolean("sync_only_coupled") }
        let allowInsert = value(nodes[.allowInsert]) { try $0.boolean("allow_insert") }
        let update = value(nodes[.updateConflict]) { try $0.choice("update_conflict", UpdateConflictPolicy.self) }
        let deletion = value(nodes[.deletionConflict]) { try $0.choice("deletion_conflict", DeletionConflictPolicy.self) }
        return (syncOnlyCoupled ?? true, allowInsert ?? true, update ?? .fail, deletion ?? .fail)
    }

    // MARK: - Sides

    private mutating func side(_ side: SyncSide, _ node: Node) -> MappingSide? {
        places[.side(side)] = node.place
        guard case .mapping(let mapping) = node else {
            problems.report(at: node, "\(side.rawValue) must be a mapping with the keys endpoint, table, key and modified (and filter)")
            return nil
        }
        let nodes = problems.values(of: mapping, keys: SideKey.self)
        problems.require([SideKey.endpoint, .table, .key, .modified], in: nodes, at: node, what: "the \(side.rawValue) side")
        let endpoint = value(nodes[.endpoint], at: .endpoint(side)) { try $0.text("endpoint") }
        let table = value(nodes[.table], at: .table(side)) { try MappingFileRules.table($0.text("table")) }
        let key = value(nodes[.key], at: .key(side)) { try MappingFileRules.column($0.text("key"), "key") }
        let modified = value(nodes[.modified], at: .modified(side)) { try MappingFileRules.column($0.text("modified"), "modified") }
        let filter = value(nodes[.filter], at: .filter(side)) { try MappingFileRules.filter($0) }
        let template = value(nodes[.template]) { try MappingFileRules.template($0) } ?? [:]
        let modifiedBy = value(nodes[.modifiedBy], at: .modified(side)) { try MappingFileRules.column($0.text("modified_by"), "modified_by") }
        guard let endpoint, let table, let key, let modified else { return nil }
        return MappingSide(
            endpoint: endpoint, table: table, key: key, modified: modified, filter: filter, watermark: nil, template: template,
            modifiedBy: modifiedBy)
    }

    // MARK: - Dependencies

    /// The mapping's name and dependencies, even when the rest of it is wrong, so that names and
    /// dependencies are checked across the file anyway.
    var declared: DeclaredMapping? {
        guard let name, let namePlace else { return nil }
        return DeclaredMapping(name: name, place: namePlace, dependencies: dependencies)
    }

    private mutating func readDependencies(_ node: Node) -> [(name: String, place: FilePlace)]? {
        guard case .sequence(let items) = node else {
            problems.report(at: node, "depends_on must be a list of mapping names, such as [SALESPEOPLE, CURRENCY]")
            return nil
        }
        var dependencies: [(name: String, place: FilePlace)] = []
        for item in items {
            guard let name = value(item, at: .dependency(dependencies.count), { try $0.text("each item of depends_on") }) else { continue }
            dependencies.append((name, item.place))
        }
        return dependencies
    }

    // MARK: - Fields

    private mutating func fieldList(_ node: Node, direction: MappingDirection) -> [FieldMapping]? {
        guard case .sequence(let items) = node, !items.isEmpty else {
            problems.report(at: node, "fields must be a list of at least one field, such as - {local: no, integration: account_number}")
            return nil
        }
        let fields = items.enumerated().map { index, item in field(index, item, mappingDirection: direction) }
        let complete = fields.compactMap { $0 }
        guard complete.count == fields.count else { return nil }
        reportDuplicateTargets(complete, direction: direction)
        return complete
    }

    private mutating func field(_ index: Int, _ node: Node, mappingDirection: MappingDirection) -> FieldMapping? {
        places[.field(index)] = node.place
        guard case .mapping(let mapping) = node else {
            problems.report(at: node, "each field must be a mapping with the keys local and integration")
            return nil
        }
        let nodes = problems.values(of: mapping, keys: FieldKey.self)
        problems.require([FieldKey.local, .integration], in: nodes, at: node, what: "field")
        let local = value(nodes[.local], at: .column(field: index, side: .local)) { try MappingFileRules.column($0.text("local"), "local") }
        let integration = value(nodes[.integration], at: .column(field: index, side: .integration)) {
            try MappingFileRules.column($0.text("integration"), "integration")
        }
        let direction = value(nodes[.direction]) { try $0.choice("direction", MappingDirection.self) } ?? .bidirectional
        if !direction.passes.contains(where: mappingDirection.includes) {
            problems.report(at: nodes[.direction] ?? node, "a \(direction.snakeCaseName) field never runs in a \(mappingDirection.snakeCaseName) mapping")
        }
        let toRules = rules(nodes[.toIntegration], field: index, direction: .toIntegration)
        let fromRules = rules(nodes[.fromIntegration], field: index, direction: .fromIntegration)
        let constant = value(nodes[.constant]) { try MappingFileRules.constant($0) }
        let notNull = value(nodes[.notNull]) { try $0.boolean("not_null") }
        let clear = value(nodes[.clearOnFailure]) { try $0.boolean("clear_on_failure") }
        let comparison = value(nodes[.comparison]) { try $0.choice("comparison", FieldComparison.self) }
        let matchPriority = value(nodes[.matchPriority]) { try MappingFileRules.matchPriority($0.integer("match_priority")) }
        let matchCaseSensitive = value(nodes[.matchCaseSensitive]) { try $0.boolean("match_case_sensitive") }
        if let matchPriority { matching[index] = (matchPriority, matchCaseSensitive ?? false) }
        guard let local, let integration, let toRules, let fromRules else { return nil }
        return FieldMapping(
            local: local.description, integration: integration.description, direction: direction,
            toIntegration: toRules, fromIntegration: fromRules, constant: constant ?? nil, notNull: notNull ?? false,
            clearOnFailure: clear ?? false, comparison: comparison ?? .text)
    }

    /// The parsed rules, `.identity` when absent, nil when they do not parse (reported at the character at fault).
    private mutating func rules(_ node: Node?, field: Int, direction: SyncDirection) -> TransformationChain? {
        guard let node else { return .identity }
        places[.rules(field: field, direction: direction)] = node.place
        if node.isNull { return .identity }
        let chain = value(node) { try MappingFileRules.rules($0, direction.storedName) }
        let lookups = (chain?.referencedMappings ?? []).map { ($0, MappingPart.lookup(field: field, direction: direction, mapping: $0)) }
        let valueMaps = (chain?.referencedValueMaps ?? []).map { ($0, MappingPart.valueMap(field: field, direction: direction, name: $0)) }
        for (name, part) in lookups + valueMaps {
            places[part] = node.place(ofCharacter: Self.offset(of: name, in: node))
        }
        return chain
    }

    /// The 1-based offset of `name` in a scalar's text (1 when it is not there as written).
    private static func offset(of name: String, in node: Node) -> Int {
        guard let text = node.scalar?.string, let range = text.range(of: name) else { return 1 }
        return text.unicodeScalars.distance(from: text.startIndex, to: range.lowerBound) + 1
    }

    /// Reports a target column written by two fields in the same pass: the engine would keep only one value.
    private mutating func reportDuplicateTargets(_ fields: [FieldMapping], direction: MappingDirection) {
        for pass in direction.passes {
            var writers: [String: Int] = [:]
            for (index, field) in fields.enumerated() where field.direction.includes(pass) {
                let target = field.field(on: pass.target)
                if let first = writers[target] {
                    let line = places[.field(first)]?.line ?? 1
                    problems.report(
                        at: places[.column(field: index, side: pass.target)] ?? item.place,
                        "\(pass.target.rawValue) column \(target) is also written by the field at line \(line) (\(pass.storedName)); a column takes one value")
                } else {
                    writers[target] = index
                }
            }
        }
    }

    // MARK: - Values

    /// `read(node)`, noting the node's place as `part`'s; nil when absent or wrong (reported).
    private mutating func value<T>(_ node: Node?, at part: MappingPart? = nil, _ read: (Node) throws -> T) -> T? {
        if let node, let part { places[part] = node.place }
        return problems.value(node, read)
    }
}
