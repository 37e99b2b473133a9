import YAMLFile
import Yams

/// Reads the items of a mappings file's `value_maps:` list into `ValueMap`s, reporting every
/// problem at its place: names, pairs that are not text, local values listed twice, and maps that
/// are not one-to-one (two local values with one integration value make `from_integration` ambiguous).
struct ValueMapReader {
    enum Key: String, CaseIterable {
        case name, values
        case defaultToIntegration = "default_to_integration", defaultFromIntegration = "default_from_integration"
    }

    var problems: ProblemCollector
    /// Every value map written with a valid name, even when the rest of it is wrong, with where the name is.
    private(set) var declared: [(name: String, place: FilePlace)] = []

    /// The value map, or nil when a part of it is missing or wrong (every problem is reported).
    mutating func read(_ item: Node) -> ValueMap? {
        guard case .mapping(let mapping) = item else {
            problems.report(at: item, "each value map must be a mapping with the keys name and values, such as {name: COUNTRIES, values: {NO: Norway}}")
            return nil
        }
        let nodes = problems.values(of: mapping, keys: Key.self)
        problems.require([Key.name, .values], in: nodes, at: item, what: "value map")
        let name = problems.value(nodes[.name]) { try MappingFileRules.valueMapName($0.text("name")) }
        if let name, let place = nodes[.name]?.place { declared.append((name, place)) }
        let pairs = nodes[.values].flatMap { self.pairs($0, of: name ?? "the value map") }
        let toDefault = problems.value(nodes[.defaultToIntegration]) { try Self.defaultValue($0, Key.defaultToIntegration) }
        let fromDefault = problems.value(nodes[.defaultFromIntegration]) { try Self.defaultValue($0, Key.defaultFromIntegration) }
        guard let name, let pairs else { return nil }
        return ValueMap(name: name, pairs: pairs, toIntegrationDefault: toDefault ?? .fail, fromIntegrationDefault: fromDefault ?? .fail)
    }

    /// The pairs of `values:`, or nil when any is wrong or the map is not one-to-one.
    private mutating func pairs(_ node: Node, of map: String) -> [ValuePair]? {
        guard case .mapping(let entries) = node, !entries.isEmpty else {
            problems.report(at: node, "values of \(map) must be a mapping of local values to integration values, such as {NO: Norway, SE: Sweden}")
            return nil
        }
        var pairs: [ValuePair] = []
        var places: [String: (local: FilePlace, integration: FilePlace)] = [:]
        var byIntegration: [String: String] = [:]
        var complete = true
        for (key, value) in entries {
            guard let local = problems.value(key, { try $0.text("a local value of \(map)") }),
                  let integration = problems.value(value, { try $0.text("the integration value of \(key.summary) in \(map)") })
            else { complete = false; continue }
            if let earlier = places[local] {
                problems.report(at: key, "local value \(quoted(local)) is listed twice in \(map): first at line \(earlier.local.line)")
                complete = false
            } else if let other = byIntegration[integration], let otherPlace = places[other] {
                problems.report(
                    at: value,
                    "\(map) is not one-to-one: \(quoted(other)) (line \(otherPlace.integration.line)) and \(quoted(local)) both map to "
                        + "\(quoted(integration)), so from_integration could not tell which local value \(quoted(integration)) stands for; "
                        + "give each local value its own integration value")
                complete = false
            }
            places[local] = places[local] ?? (key.place, value.place)
            byIntegration[integration] = byIntegration[integration] ?? local
            pairs.append(ValuePair(local: local, integration: integration))
        }
        return complete ? pairs : nil
    }

    /// A default: the text written, NULL for `null`.
    private static func defaultValue(_ node: Node, _ key: Key) throws(NodeValueError) -> UnmappedValue {
        if node.isNull { return .replace(with: nil) }
        guard case .scalar(let scalar) = node else { throw NodeValueError("\(key.rawValue) must be text or null, not \(node.summary)") }
        return .replace(with: scalar.string)
    }
}
